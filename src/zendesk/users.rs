//! Who a credential acts as (`/users/me`, which answers 200 with an anonymous user rather
//! than 401 for a bad credential, so the id is checked) and whether the account still
//! accepts legacy API tokens (`/account/settings`).

use secrecy::SecretString;
use serde::Deserialize;

use super::{ZendeskClient, v2};
use crate::http::{ApiError, ApiRequest, Auth};

/// A Zendesk user as `/users/me` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct ZendeskUser {
    /// `None` for the anonymous user (the credential did not authenticate).
    #[serde(default)]
    pub id: Option<u64>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// `admin`, `agent`, `end-user`.
    #[serde(default)]
    pub role: Option<String>,
    /// Suspended users cannot act.
    #[serde(default)]
    pub suspended: Option<bool>,
    /// Whether the user is active (false for a deleted user).
    #[serde(default)]
    pub active: Option<bool>,
}

impl ZendeskUser {
    /// Whether the credential authenticated as a real user.
    pub fn is_authenticated(&self) -> bool {
        self.id.is_some()
    }
}

#[derive(Deserialize)]
struct Me {
    user: ZendeskUser,
}

#[derive(Deserialize)]
struct Settings {
    #[serde(default)]
    settings: SettingsInner,
}

#[derive(Deserialize, Default)]
struct SettingsInner {
    #[serde(default)]
    api: ApiSettings,
}

/// The API section of the account settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiSettings {
    /// Whether legacy API tokens work at all. Zendesk's own example writes it as the
    /// string `"true"`; both forms are read.
    #[serde(default, deserialize_with = "loose_bool")]
    pub api_token_access: Option<bool>,
    /// Whether password access is on (retired).
    #[serde(default, deserialize_with = "loose_bool")]
    pub api_password_access: Option<bool>,
}

/// A boolean written as JSON `true`/`false` or as the string `"true"`/`"false"`; anything
/// else (or null) reads as unknown.
fn loose_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Some(b),
        serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

impl ZendeskClient {
    /// `GET /api/v2/users/me` with tokenops's own credential. Zendesk answers a bad
    /// credential with 200 and the anonymous user (`id: null`); that is a 401 here, never a
    /// signed-in user.
    pub async fn current_user(&self) -> Result<ZendeskUser, ApiError> {
        let req = ApiRequest::get(v2("/users/me.json"), "current user");
        let user = self.ready().await?.json::<Me>(req).await?.user;
        if !user.is_authenticated() {
            return Err(ApiError::Unauthorized {
                target: Box::new(self.api.target(&reqwest::Method::GET, "current user")),
                detail: "users/me answered the anonymous user, so the credential did not \
                         sign in"
                    .into(),
            });
        }
        Ok(user)
    }

    /// `GET /api/v2/users/me` as a legacy API token paired with `email`: who a consumer's
    /// value acts as. Check [`ZendeskUser::is_authenticated`]; a 200 alone proves nothing.
    pub async fn introspect_api_token(
        &self,
        email: &str,
        token: &SecretString,
    ) -> Result<ZendeskUser, ApiError> {
        let req = ApiRequest::get(
            v2("/users/me.json"),
            "current user (introspecting a consumer's API token)",
        )
        .auth(Auth::ZendeskApiToken {
            email: email.to_string(),
            token: token.clone(),
        });
        Ok(self.ready().await?.json::<Me>(req).await?.user)
    }

    /// `GET /api/v2/account/settings`: the API section (is token access still on?).
    pub async fn api_settings(&self) -> Result<ApiSettings, ApiError> {
        let req = ApiRequest::get(v2("/account/settings.json"), "account settings");
        Ok(self
            .ready()
            .await?
            .json::<Settings>(req)
            .await?
            .settings
            .api)
    }
}
