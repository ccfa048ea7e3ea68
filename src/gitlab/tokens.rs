//! Personal, project and group access tokens: list, get, introspect (`self`), create,
//! rotate (always with `expires_at`), self-rotate and revoke. Rotate and create are
//! non-idempotent: a lost answer is `OutcomeUnknown`, never a second call.

use jiff::civil::Date;
use secrecy::SecretString;
use serde::Serialize;

use super::models::{AccessToken, NewAccessToken, TokenFilter, TokenState, User};
use super::{GitLabClient, Owner, v4};
use crate::http::pages::GitlabPage;
use crate::http::{ApiError, ApiRequest, Auth};

fn personal_tokens(filter: &TokenFilter) -> ApiRequest {
    ApiRequest::get(v4("/personal_access_tokens"), "personal access tokens")
        .query_opt("user_id", filter.user_id)
        .query_opt("state", filter.state.map(TokenState::as_str))
        .query_opt("revoked", filter.revoked)
        .query_opt("search", filter.search.as_deref())
        .query_opt("expires_before", filter.expires_before)
        .query_opt("expires_after", filter.expires_after)
}

#[derive(Serialize)]
struct ExpiresAt {
    expires_at: Date,
}

impl GitLabClient {
    /// `GET /groups/:id/manage/personal_access_tokens` with filters, all pages: GitLab.com's
    /// credentials inventory (18.7), the personal tokens of the top-level group's enterprise
    /// users, for an Owner of the group (403 otherwise, 404 where it does not exist).
    pub async fn list_managed_personal_tokens(
        &self,
        group: &str,
        filter: &TokenFilter,
    ) -> Result<Vec<AccessToken>, ApiError> {
        let req = ApiRequest::get(
            v4(format!(
                "/groups/{}/manage/personal_access_tokens",
                crate::http::encode_segment(group)
            )),
            format!("group {group} enterprise users' personal access tokens"),
        )
        .query_opt("state", filter.state.map(TokenState::as_str))
        .query_opt("expires_before", filter.expires_before);
        self.api.gitlab_all(req).await
    }

    /// `GET /personal_access_tokens` with filters, all pages.
    pub async fn list_personal_tokens(
        &self,
        filter: &TokenFilter,
    ) -> Result<Vec<AccessToken>, ApiError> {
        self.api.gitlab_all(personal_tokens(filter)).await
    }

    /// The first page of `GET /personal_access_tokens` with filters, with the list's totals
    /// (finish it with `api().gitlab_rest`). An administrator sees every user's tokens,
    /// project and group tokens included (they belong to bot users).
    pub async fn personal_tokens_first_page(
        &self,
        filter: &TokenFilter,
    ) -> Result<GitlabPage<AccessToken>, ApiError> {
        self.api.gitlab_first_page(personal_tokens(filter)).await
    }

    /// `GET /personal_access_tokens/:id`. A non-admin gets 401 (not 404) for ids it cannot see.
    pub async fn get_personal_token(&self, id: u64) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::get(
            v4(format!("/personal_access_tokens/{id}")),
            format!("personal access token {id}"),
        );
        self.api.json(req).await
    }

    /// `GET /personal_access_tokens/self`: the token tokenops authenticates with.
    pub async fn personal_token_self(&self) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::get(
            v4("/personal_access_tokens/self"),
            "personal access token self",
        );
        self.api.json(req).await
    }

    /// `GET /personal_access_tokens/self` authenticated with `token` instead: who a value
    /// found in a consumer authenticates as (any scope suffices). Not a rotate path, so it is
    /// safe even with a revoked value.
    pub async fn introspect_token(&self, token: &SecretString) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::get(
            v4("/personal_access_tokens/self"),
            "personal access token self (introspecting a consumer's value)",
        )
        .auth(Auth::PrivateToken(token.clone()));
        self.api.json(req).await
    }

    /// `POST /personal_access_tokens/:id/rotate`: revokes token `id` at once and returns the
    /// new record with its value (shown only now). Never retried once it may have arrived.
    pub async fn rotate_personal_token(
        &self,
        id: u64,
        expires_at: Date,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            v4(format!("/personal_access_tokens/{id}/rotate")),
            format!("personal access token {id} rotate"),
        )
        .json(&ExpiresAt { expires_at });
        self.api.json(req).await
    }

    /// `POST /personal_access_tokens/self/rotate`: rotates the credential tokenops uses.
    /// After an `OutcomeUnknown`, probe with the old value (`personal_token_self`); never
    /// repeat this call with it (GitLab would revoke the whole token family).
    pub async fn self_rotate_personal_token(
        &self,
        expires_at: Date,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            v4("/personal_access_tokens/self/rotate"),
            "personal access token self rotate",
        )
        .json(&ExpiresAt { expires_at });
        self.api.json(req).await
    }

    /// `DELETE /personal_access_tokens/:id`.
    pub async fn revoke_personal_token(&self, id: u64) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v4(format!("/personal_access_tokens/{id}")),
            format!("personal access token {id} revoke"),
        );
        self.api.send(req).await.map(drop)
    }

    /// `POST /users/:user_id/personal_access_tokens` (admin, self-managed only).
    pub async fn create_personal_token_for_user(
        &self,
        user_id: u64,
        token: &NewAccessToken,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            v4(format!("/users/{user_id}/personal_access_tokens")),
            format!(
                "personal access token `{}` create for user {user_id}",
                token.name
            ),
        )
        .json(token);
        self.api.json(req).await
    }

    /// `GET /projects|groups/:id/access_tokens`, all pages.
    pub async fn list_access_tokens(
        &self,
        owner: &Owner,
        state: Option<TokenState>,
    ) -> Result<Vec<AccessToken>, ApiError> {
        let req = ApiRequest::get(
            v4(format!("{}/access_tokens", owner.prefix())),
            format!("{} access tokens", owner.label()),
        )
        .query_opt("state", state.map(TokenState::as_str));
        self.api.gitlab_all(req).await
    }

    /// `GET /projects|groups/:id/access_tokens` with the list filters (`state`,
    /// `expires_before`, …), all pages.
    pub async fn list_access_tokens_filtered(
        &self,
        owner: &Owner,
        filter: &TokenFilter,
    ) -> Result<Vec<AccessToken>, ApiError> {
        let req = ApiRequest::get(
            v4(format!("{}/access_tokens", owner.prefix())),
            format!("{} access tokens", owner.label()),
        )
        .query_opt("state", filter.state.map(TokenState::as_str))
        .query_opt("revoked", filter.revoked)
        .query_opt("search", filter.search.as_deref())
        .query_opt("expires_before", filter.expires_before)
        .query_opt("expires_after", filter.expires_after);
        self.api.gitlab_all(req).await
    }

    /// `GET /projects|groups/:id/access_tokens/:token_id`.
    pub async fn get_access_token(&self, owner: &Owner, id: u64) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::get(
            v4(format!("{}/access_tokens/{id}", owner.prefix())),
            format!("{} access token {id}", owner.label()),
        );
        self.api.json(req).await
    }

    /// `POST /projects|groups/:id/access_tokens` (creates a bot user with the token).
    pub async fn create_access_token(
        &self,
        owner: &Owner,
        token: &NewAccessToken,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            v4(format!("{}/access_tokens", owner.prefix())),
            format!("{} access token `{}` create", owner.label(), token.name),
        )
        .json(token);
        self.api.json(req).await
    }

    /// `POST /projects|groups/:id/access_tokens/:token_id/rotate`: same rules as
    /// [`GitLabClient::rotate_personal_token`]; the bot user stays, the id changes.
    pub async fn rotate_access_token(
        &self,
        owner: &Owner,
        id: u64,
        expires_at: Date,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            v4(format!("{}/access_tokens/{id}/rotate", owner.prefix())),
            format!("{} access token {id} rotate", owner.label()),
        )
        .json(&ExpiresAt { expires_at });
        self.api.json(req).await
    }

    /// `POST /projects|groups/:id/access_tokens/self/rotate`: rotates the project or group
    /// token this client signs in with (`api` or `self_rotate`). Same rules as
    /// [`GitLabClient::self_rotate_personal_token`]: never repeated with the old value.
    pub async fn self_rotate_access_token(
        &self,
        owner: &Owner,
        expires_at: Date,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            v4(format!("{}/access_tokens/self/rotate", owner.prefix())),
            format!("{} access token self rotate", owner.label()),
        )
        .json(&ExpiresAt { expires_at });
        self.api.json(req).await
    }

    /// `DELETE /projects|groups/:id/access_tokens/:token_id`.
    pub async fn revoke_access_token(&self, owner: &Owner, id: u64) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v4(format!("{}/access_tokens/{id}", owner.prefix())),
            format!("{} access token {id} revoke", owner.label()),
        );
        self.api.send(req).await.map(drop)
    }
}

/// `/groups/:id/service_accounts/:user_id/personal_access_tokens` (top-level groups; how
/// GitLab.com customers hold non-human personal access tokens).
fn service_account_path(group: &str, user_id: u64) -> String {
    v4(format!(
        "/groups/{}/service_accounts/{user_id}/personal_access_tokens",
        crate::http::encode_segment(group)
    ))
}

impl GitLabClient {
    /// `GET /groups/:id/service_accounts` (17.1+, Owner of a top-level group), all pages.
    pub async fn list_service_accounts(&self, group: &str) -> Result<Vec<User>, ApiError> {
        let req = ApiRequest::get(
            v4(format!(
                "/groups/{}/service_accounts",
                crate::http::encode_segment(group)
            )),
            format!("group {group} service accounts"),
        );
        self.api.gitlab_all(req).await
    }

    /// The id of service account `username` of top-level group `group`, if it has one.
    pub async fn service_account_id(
        &self,
        group: &str,
        username: &str,
    ) -> Result<Option<u64>, ApiError> {
        Ok(self
            .list_service_accounts(group)
            .await?
            .into_iter()
            .find(|u| u.username == username)
            .map(|u| u.id))
    }

    /// `GET …/service_accounts/:user_id/personal_access_tokens` (17.11+), all pages.
    pub async fn list_service_account_tokens(
        &self,
        group: &str,
        user_id: u64,
        state: Option<TokenState>,
    ) -> Result<Vec<AccessToken>, ApiError> {
        let req = ApiRequest::get(
            service_account_path(group, user_id),
            format!("group {group} service account {user_id} tokens"),
        )
        .query_opt("state", state.map(TokenState::as_str));
        self.api.gitlab_all(req).await
    }

    /// `POST …/service_accounts/:user_id/personal_access_tokens`.
    pub async fn create_service_account_token(
        &self,
        group: &str,
        user_id: u64,
        token: &NewAccessToken,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            service_account_path(group, user_id),
            format!(
                "group {group} service account {user_id} token `{}` create",
                token.name
            ),
        )
        .json(token);
        self.api.json(req).await
    }

    /// `POST …/service_accounts/:user_id/personal_access_tokens/:id/rotate` (200 or 201).
    pub async fn rotate_service_account_token(
        &self,
        group: &str,
        user_id: u64,
        id: u64,
        expires_at: Date,
    ) -> Result<AccessToken, ApiError> {
        let req = ApiRequest::post(
            format!("{}/{id}/rotate", service_account_path(group, user_id)),
            format!("group {group} service account {user_id} token {id} rotate"),
        )
        .json(&ExpiresAt { expires_at });
        self.api.json(req).await
    }

    /// `DELETE …/service_accounts/:user_id/personal_access_tokens/:id` (17.11+).
    pub async fn revoke_service_account_token(
        &self,
        group: &str,
        user_id: u64,
        id: u64,
    ) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            format!("{}/{id}", service_account_path(group, user_id)),
            format!("group {group} service account {user_id} token {id} revoke"),
        );
        self.api.send(req).await.map(drop)
    }
}
