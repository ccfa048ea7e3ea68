//! OAuth: clients (list, show, generate a new secret), access tokens (list, show, current,
//! create, revoke) and the `/oauth/tokens` grant endpoint (client credentials, refresh).
//! Generating a secret, creating a token and every grant are non-idempotent: never retried
//! once they may have arrived (a refresh also invalidates the previous pair).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::models::{GrantedToken, NewOAuthToken, OAuthClient, OAuthToken, expose};
use super::{ZendeskClient, v2};
use crate::http::{ApiError, ApiRequest, Auth, RequestClass};

#[derive(Deserialize)]
struct OneClient {
    client: OAuthClient,
}

#[derive(Deserialize)]
struct OneToken {
    token: OAuthToken,
}

#[derive(Serialize)]
struct TokenBody<'a> {
    token: &'a NewOAuthToken,
}

/// A request to the grant endpoint.
#[derive(Debug, Clone)]
pub enum Grant {
    /// `client_credentials` (confidential clients only).
    ClientCredentials {
        /// The client's string identifier.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// Space-separated scopes.
        scope: String,
        /// Access token lifetime in seconds (300 < n < 172800).
        expires_in: Option<u64>,
    },
    /// `refresh_token`: a new pair; the old pair stops working.
    RefreshToken {
        /// The client's string identifier.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// The refresh token.
        refresh_token: SecretString,
        /// Access token lifetime in seconds.
        expires_in: Option<u64>,
    },
}

#[derive(Serialize)]
struct GrantBody<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    #[serde(serialize_with = "expose")]
    client_secret: &'a SecretString,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_some"
    )]
    refresh_token: Option<&'a SecretString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
}

fn expose_some<S: serde::Serializer>(
    secret: &Option<&SecretString>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(s) => expose(s, ser),
        None => ser.serialize_none(),
    }
}

impl ZendeskClient {
    /// `GET /api/v2/oauth/clients`, every page.
    pub async fn list_oauth_clients(&self) -> Result<Vec<OAuthClient>, ApiError> {
        let req = ApiRequest::get(v2("/oauth/clients"), "OAuth clients");
        self.ready().await?.zendesk_all(req, "clients").await
    }

    /// `GET /api/v2/oauth/clients/{id}`.
    pub async fn get_oauth_client(&self, id: u64) -> Result<OAuthClient, ApiError> {
        let req = ApiRequest::get(
            v2(format!("/oauth/clients/{id}")),
            format!("OAuth client {id}"),
        );
        Ok(self.ready().await?.json::<OneClient>(req).await?.client)
    }

    /// `PUT /api/v2/oauth/clients/{id}/generate_secret`: a new secret, at once, the old one
    /// dead. A PUT, but each call makes a new secret, so it is never retried.
    pub async fn generate_oauth_client_secret(&self, id: u64) -> Result<OAuthClient, ApiError> {
        let req = ApiRequest::put(
            v2(format!("/oauth/clients/{id}/generate_secret")),
            format!("OAuth client {id} generate secret"),
        )
        .class(RequestClass::NonIdempotent);
        Ok(self.ready().await?.json::<OneClient>(req).await?.client)
    }

    /// `GET /api/v2/oauth/tokens` (`all=true` for every user's; optionally one client's),
    /// every page. Values are truncated to 10 characters.
    pub async fn list_oauth_tokens(
        &self,
        all: bool,
        client_id: Option<u64>,
    ) -> Result<Vec<OAuthToken>, ApiError> {
        let mut req = ApiRequest::get(v2("/oauth/tokens"), "OAuth tokens");
        if all {
            req = req.query("all", true);
        }
        req = req.query_opt("client_id", client_id);
        let tokens: Vec<OAuthToken> = self.ready().await?.zendesk_all(req, "tokens").await?;
        // The access token this run minted for itself (client-credentials sign-in) is no
        // token of the estate: no declared token's record, nothing to revoke or import.
        let own = self.run_token_id().await;
        Ok(tokens.into_iter().filter(|t| Some(t.id) != own).collect())
    }

    /// `GET /api/v2/oauth/tokens/{id}`.
    pub async fn get_oauth_token(&self, id: u64) -> Result<OAuthToken, ApiError> {
        let req = ApiRequest::get(
            v2(format!("/oauth/tokens/{id}")),
            format!("OAuth token {id}"),
        );
        Ok(self.ready().await?.json::<OneToken>(req).await?.token)
    }

    /// `GET /api/v2/oauth/tokens/current.json`: the token tokenops authenticates with.
    pub async fn current_oauth_token(&self) -> Result<OAuthToken, ApiError> {
        let req = ApiRequest::get(v2("/oauth/tokens/current.json"), "OAuth token current");
        Ok(self.ready().await?.json::<OneToken>(req).await?.token)
    }

    /// `GET /api/v2/oauth/tokens/current.json` authenticated with `token`: checks a value
    /// found in (or written to) a consumer.
    pub async fn introspect_oauth_token(
        &self,
        token: &SecretString,
    ) -> Result<OAuthToken, ApiError> {
        let req = ApiRequest::get(
            v2("/oauth/tokens/current.json"),
            "OAuth token current (introspecting a consumer's value)",
        )
        .auth(Auth::Bearer(token.clone()));
        Ok(self.ready().await?.json::<OneToken>(req).await?.token)
    }

    /// `POST /api/v2/oauth/tokens`: mints a token; its value is only in this answer
    /// (`OAuthToken::value`).
    pub async fn create_oauth_token(&self, token: &NewOAuthToken) -> Result<OAuthToken, ApiError> {
        let req = ApiRequest::post(
            v2("/oauth/tokens"),
            format!("OAuth token create for client {}", token.client_id),
        )
        .json(&TokenBody { token });
        Ok(self.ready().await?.json::<OneToken>(req).await?.token)
    }

    /// `DELETE /api/v2/oauth/tokens/{id}`.
    pub async fn revoke_oauth_token(&self, id: u64) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v2(format!("/oauth/tokens/{id}")),
            format!("OAuth token {id} revoke"),
        );
        self.ready().await?.send(req).await.map(drop)
    }

    /// `POST /oauth/tokens` (not under `/api/v2`): exchanges a grant for a token. The
    /// client secret travels in the body; no other credential is sent.
    pub async fn grant(&self, grant: &Grant) -> Result<GrantedToken, ApiError> {
        let (body, what) = match grant {
            Grant::ClientCredentials {
                client_id,
                client_secret,
                scope,
                expires_in,
            } => (
                GrantBody {
                    grant_type: "client_credentials",
                    client_id,
                    client_secret,
                    scope: Some(scope),
                    refresh_token: None,
                    expires_in: *expires_in,
                },
                format!("OAuth client_credentials grant for client {client_id}"),
            ),
            Grant::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
                expires_in,
            } => (
                GrantBody {
                    grant_type: "refresh_token",
                    client_id,
                    client_secret,
                    scope: None,
                    refresh_token: Some(refresh_token),
                    expires_in: *expires_in,
                },
                format!("OAuth refresh_token grant for client {client_id}"),
            ),
        };
        let req = ApiRequest::post("/oauth/tokens", what)
            .auth(Auth::None)
            .json(&body);
        self.api.json(req).await
    }
}
