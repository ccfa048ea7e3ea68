//! Legacy Zendesk API tokens: listing only (there is no public API to create, deactivate or
//! delete them). A 404 means token access is turned off for the account.

use serde::Deserialize;

use super::models::ApiToken;
use super::{ZendeskClient, v2};
use crate::http::{ApiError, ApiRequest};

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    api_tokens: Vec<ApiToken>,
}

impl ZendeskClient {
    /// `GET /api/v2/api_tokens` (one array; not paginated).
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, ApiError> {
        let req = ApiRequest::get(v2("/api_tokens"), "API tokens");
        Ok(self.ready().await?.json::<List>(req).await?.api_tokens)
    }
}
