//! Deploy tokens of a project or group: list, create, delete. A deploy token is a username
//! and a value (`gldt-`) for Git, registry and package access; GitLab has no rotate call for
//! it, and shows the value only in the answer to the create.

use jiff::Timestamp;
use jiff::civil::Date;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{GitLabClient, Owner, v4};
use crate::http::{ApiError, ApiRequest};

/// A deploy token as GitLab lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct DeployToken {
    /// Id.
    pub id: u64,
    /// Name (not unique).
    #[serde(default)]
    pub name: String,
    /// The username it authenticates with (`gitlab+deploy-token-{id}` unless one was given).
    #[serde(default)]
    pub username: String,
    /// Expiry: a timestamp (GitLab sends midnight UTC of the day given at creation).
    #[serde(default, deserialize_with = "super::models::date_or_timestamp")]
    pub expires_at: Option<Timestamp>,
    /// Revoked.
    #[serde(default)]
    pub revoked: bool,
    /// Past its expiry.
    #[serde(default)]
    pub expired: bool,
    /// Scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The value: only in the answer to the create.
    #[serde(default)]
    pub token: Option<SecretString>,
}

impl DeployToken {
    /// Neither revoked nor expired.
    pub fn active(&self) -> bool {
        !self.revoked && !self.expired
    }
}

/// The body of a deploy token create.
#[derive(Debug, Clone, Serialize)]
pub struct NewDeployToken {
    /// Name.
    pub name: String,
    /// Scopes (at least one).
    pub scopes: Vec<String>,
    /// Expiry day; none means the token does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Date>,
    /// Username; none lets GitLab pick `gitlab+deploy-token-{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl GitLabClient {
    /// `GET /projects|groups/:id/deploy_tokens`, all pages (Maintainer).
    pub async fn list_deploy_tokens(&self, owner: &Owner) -> Result<Vec<DeployToken>, ApiError> {
        let req = ApiRequest::get(
            v4(format!("{}/deploy_tokens", owner.prefix())),
            format!("{} deploy tokens", owner.label()),
        );
        self.api.gitlab_all(req).await
    }

    /// `POST /projects|groups/:id/deploy_tokens` (project Maintainer, group Owner): the
    /// answer carries the value, once.
    pub async fn create_deploy_token(
        &self,
        owner: &Owner,
        token: &NewDeployToken,
    ) -> Result<DeployToken, ApiError> {
        let req = ApiRequest::post(
            v4(format!("{}/deploy_tokens", owner.prefix())),
            format!("{} deploy token `{}` create", owner.label(), token.name),
        )
        .json(token);
        self.api.json(req).await
    }

    /// `DELETE /projects|groups/:id/deploy_tokens/:token_id` (204).
    pub async fn delete_deploy_token(&self, owner: &Owner, id: u64) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v4(format!("{}/deploy_tokens/{id}", owner.prefix())),
            format!("{} deploy token {id} delete", owner.label()),
        );
        self.api.send(req).await.map(drop)
    }
}
