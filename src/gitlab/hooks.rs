//! Project and group webhooks. Their secret token is write-only and GitLab clears it (and
//! the custom headers) whenever a PUT changes the URL without re-sending them, so the only
//! way to PUT here is a `HookWrite`, which cannot be built without the URL, the token and the
//! full list of custom headers.

use secrecy::SecretString;
use serde::Serialize;

use super::models::{CustomHeader, Hook, expose};
use super::{GitLabClient, Owner, encode_segment, v4};
use crate::http::{ApiError, ApiRequest};

/// The body of a hook create or update. Construct with [`HookWrite::new`]: the URL, the secret
/// token and every custom header travel together, so no write can silently clear a secret.
#[derive(Debug, Clone, Serialize)]
pub struct HookWrite {
    url: String,
    #[serde(serialize_with = "expose")]
    token: SecretString,
    custom_headers: Vec<CustomHeader>,
    #[serde(flatten)]
    settings: serde_json::Map<String, serde_json::Value>,
}

impl HookWrite {
    /// A write that sets `url` (send the current one to keep it), the secret `token`, and the
    /// complete set of `custom_headers` (an empty list only when the hook has none).
    pub fn new(
        url: impl Into<String>,
        token: SecretString,
        custom_headers: Vec<CustomHeader>,
    ) -> Self {
        HookWrite {
            url: url.into(),
            token,
            custom_headers,
            settings: serde_json::Map::new(),
        }
    }

    /// Sets another hook field (an event toggle such as `push_events`, `name`,
    /// `enable_ssl_verification`). `url`, `token` and `custom_headers` are ignored here.
    pub fn setting(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        if !matches!(name, "url" | "token" | "custom_headers") {
            self.settings.insert(name.to_string(), value.into());
        }
        self
    }
}

#[derive(Serialize)]
/// The `{"value": …}` body of custom-header and URL-variable writes.
struct HeaderValueBody<'a> {
    #[serde(serialize_with = "expose")]
    value: &'a SecretString,
}

impl GitLabClient {
    /// `GET /projects|groups/:id/hooks`, all pages.
    pub async fn list_hooks(&self, owner: &Owner) -> Result<Vec<Hook>, ApiError> {
        let req = ApiRequest::get(
            v4(format!("{}/hooks", owner.prefix())),
            format!("{} webhooks", owner.label()),
        );
        self.api.gitlab_all(req).await
    }

    /// `GET /projects|groups/:id/hooks/:hook_id`.
    pub async fn get_hook(&self, owner: &Owner, id: u64) -> Result<Hook, ApiError> {
        let req = ApiRequest::get(
            v4(format!("{}/hooks/{id}", owner.prefix())),
            format!("{} webhook {id}", owner.label()),
        );
        self.api.json(req).await
    }

    /// `POST /projects|groups/:id/hooks`.
    pub async fn create_hook(&self, owner: &Owner, hook: &HookWrite) -> Result<Hook, ApiError> {
        let req = ApiRequest::post(
            v4(format!("{}/hooks", owner.prefix())),
            format!("{} webhook create", owner.label()),
        )
        .json(hook);
        self.api.json(req).await
    }

    /// `PUT /projects|groups/:id/hooks/:hook_id` with URL, token and custom headers together.
    pub async fn update_hook(
        &self,
        owner: &Owner,
        id: u64,
        hook: &HookWrite,
    ) -> Result<Hook, ApiError> {
        let req = ApiRequest::put(
            v4(format!("{}/hooks/{id}", owner.prefix())),
            format!("{} webhook {id}", owner.label()),
        )
        .json(hook);
        self.api.json(req).await
    }

    /// `PUT …/hooks/:hook_id/custom_headers/:key` (204): sets one custom header's value
    /// without touching the URL or the token.
    pub async fn set_hook_custom_header(
        &self,
        owner: &Owner,
        id: u64,
        key: &str,
        value: &SecretString,
    ) -> Result<(), ApiError> {
        let req = ApiRequest::put(
            v4(format!(
                "{}/hooks/{id}/custom_headers/{}",
                owner.prefix(),
                encode_segment(key)
            )),
            format!("{} webhook {id} custom header {key}", owner.label()),
        )
        .json(&HeaderValueBody { value });
        self.api.send(req).await.map(drop)
    }

    /// `PUT …/hooks/:hook_id/url_variables/:key` (204): sets one URL variable's value (for a
    /// secret carried as `{key}` in the hook URL).
    pub async fn set_hook_url_variable(
        &self,
        owner: &Owner,
        id: u64,
        key: &str,
        value: &SecretString,
    ) -> Result<(), ApiError> {
        let req = ApiRequest::put(
            v4(format!(
                "{}/hooks/{id}/url_variables/{}",
                owner.prefix(),
                encode_segment(key)
            )),
            format!("{} webhook {id} URL variable {key}", owner.label()),
        )
        .json(&HeaderValueBody { value });
        self.api.send(req).await.map(drop)
    }

    /// `DELETE /projects|groups/:id/hooks/:hook_id`.
    pub async fn delete_hook(&self, owner: &Owner, id: u64) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v4(format!("{}/hooks/{id}", owner.prefix())),
            format!("{} webhook {id} delete", owner.label()),
        );
        self.api.send(req).await.map(drop)
    }
}
