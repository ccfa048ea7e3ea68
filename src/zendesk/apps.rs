//! Apps: installations (list, show, update settings) and the account's own apps with their
//! setting definitions (which settings are secure, hence write-only).

use serde::{Deserialize, Serialize};

use super::models::{App, Installation, InstallationSettings};
use super::{ZendeskClient, v2};
use crate::http::{ApiError, ApiRequest};

#[derive(Deserialize)]
struct Installations {
    #[serde(default)]
    installations: Vec<Installation>,
}

#[derive(Deserialize)]
struct Apps {
    #[serde(default)]
    apps: Vec<App>,
}

#[derive(Serialize)]
struct SettingsBody<'a> {
    settings: &'a InstallationSettings,
}

impl ZendeskClient {
    /// `GET /api/v2/apps/installations` (one array; not paginated).
    pub async fn list_installations(&self) -> Result<Vec<Installation>, ApiError> {
        let req = ApiRequest::get(v2("/apps/installations"), "app installations");
        Ok(self
            .ready()
            .await?
            .json::<Installations>(req)
            .await?
            .installations)
    }

    /// `GET /api/v2/apps/installations/{id}` (a bare object).
    pub async fn get_installation(&self, id: u64) -> Result<Installation, ApiError> {
        let req = ApiRequest::get(
            v2(format!("/apps/installations/{id}")),
            format!("app installation {id}"),
        );
        self.ready().await?.json(req).await
    }

    /// `PUT /api/v2/apps/installations/{id}` with `{"settings": …}`. Send every non-secure
    /// setting you know plus the rotated one; never an empty secure setting.
    pub async fn update_installation_settings(
        &self,
        id: u64,
        settings: &InstallationSettings,
    ) -> Result<Installation, ApiError> {
        let req = ApiRequest::put(
            v2(format!("/apps/installations/{id}")),
            format!("app installation {id} settings"),
        )
        .json(&SettingsBody { settings });
        self.ready().await?.json(req).await
    }

    /// `GET /api/v2/apps/owned`: the account's private apps with their parameters.
    pub async fn owned_apps(&self) -> Result<Vec<App>, ApiError> {
        let req = ApiRequest::get(v2("/apps/owned"), "owned apps");
        Ok(self.ready().await?.json::<Apps>(req).await?.apps)
    }
}
