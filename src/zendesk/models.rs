//! Serde types for the Zendesk objects tokenops reads and writes, with the platform's field
//! names. Unknown fields are ignored; secret values are `SecretString` and only ever
//! serialized into request bodies.

use std::fmt;

use jiff::Timestamp;
use secrecy::SecretString;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

pub(crate) fn expose<S: Serializer>(secret: &SecretString, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(crate::http::redact::in_flight(secret))
}

/// A webhook. Its credential (`authentication.data`) is write-only and never appears here.
#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    /// Opaque string id.
    pub id: String,
    /// Name (not unique).
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Destination URL.
    #[serde(default)]
    pub endpoint: String,
    /// `GET`, `POST`, …
    #[serde(default)]
    pub http_method: Option<String>,
    /// `json`, `xml`, `form_encoded`.
    #[serde(default)]
    pub request_format: Option<String>,
    /// `active` or `inactive`.
    #[serde(default)]
    pub status: Option<String>,
    /// Event subscriptions.
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Authentication type and position (no data).
    #[serde(default)]
    pub authentication: Option<WebhookAuthInfo>,
    /// Set when an app or the Marketplace created the webhook.
    #[serde(default)]
    pub external_source: Option<serde_json::Value>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Updated (moves after a successful credential write).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Who updated it last.
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// What a webhook GET says about its authentication.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct WebhookAuthInfo {
    /// `basic_auth`, `bearer_token` or `api_key`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `header`.
    #[serde(default)]
    pub add_position: Option<String>,
}

/// A webhook credential to write.
#[derive(Debug, Clone)]
pub enum WebhookAuth {
    /// `Authorization: Bearer …`.
    BearerToken(SecretString),
    /// `Authorization: Basic …`.
    BasicAuth {
        /// User name (for a Zendesk API token: `{email}/token`).
        username: String,
        /// Password.
        password: SecretString,
    },
    /// `{name}: {value}`.
    ApiKey {
        /// Header name.
        name: String,
        /// Header value.
        value: SecretString,
    },
}

impl WebhookAuth {
    /// The `type` Zendesk uses for this credential.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookAuth::BearerToken(_) => "bearer_token",
            WebhookAuth::BasicAuth { .. } => "basic_auth",
            WebhookAuth::ApiKey { .. } => "api_key",
        }
    }
}

impl Serialize for WebhookAuth {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        struct Data<'a>(&'a WebhookAuth);
        impl Serialize for Data<'_> {
            fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                let mut map = ser.serialize_map(Some(2))?;
                match self.0 {
                    WebhookAuth::BearerToken(token) => {
                        map.serialize_entry("token", crate::http::redact::in_flight(token))?;
                    }
                    WebhookAuth::BasicAuth { username, password } => {
                        map.serialize_entry("username", username)?;
                        map.serialize_entry("password", crate::http::redact::in_flight(password))?;
                    }
                    WebhookAuth::ApiKey { name, value } => {
                        map.serialize_entry("name", name)?;
                        map.serialize_entry("value", crate::http::redact::in_flight(value))?;
                    }
                }
                map.end()
            }
        }
        let mut map = ser.serialize_map(Some(3))?;
        map.serialize_entry("type", self.kind())?;
        map.serialize_entry("add_position", "header")?;
        map.serialize_entry("data", &Data(self))?;
        map.end()
    }
}

/// The body of a webhook create.
#[derive(Debug, Clone, Serialize)]
pub struct NewWebhook {
    /// Name.
    pub name: String,
    /// Destination URL.
    pub endpoint: String,
    /// `POST` for event subscriptions.
    pub http_method: String,
    /// `json` for event subscriptions.
    pub request_format: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Subscriptions.
    pub subscriptions: Vec<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<WebhookAuth>,
}

/// An app installation. Secure settings are write-only; `Debug` lists setting names only.
#[derive(Clone, Deserialize)]
pub struct Installation {
    /// Id.
    pub id: u64,
    /// The app.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// `support`, …
    #[serde(default)]
    pub product: Option<String>,
    /// Enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Flat settings (non-secure ones, as far as is known).
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl Installation {
    /// The installation's display name (its `name` setting).
    pub fn name(&self) -> Option<&str> {
        self.settings.get("name").and_then(|v| v.as_str())
    }
}

impl fmt::Debug for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Installation")
            .field("id", &self.id)
            .field("app_id", &self.app_id)
            .field("product", &self.product)
            .field("enabled", &self.enabled)
            .field("settings", &self.settings.keys().collect::<Vec<_>>())
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A setting value to write into an installation.
#[derive(Debug, Clone)]
pub enum SettingValue {
    /// A non-secret value (sent as given).
    Plain(serde_json::Value),
    /// A secret (secure setting).
    Secret(SecretString),
}

/// The body of an installation settings update.
#[derive(Debug, Clone, Default)]
pub struct InstallationSettings(pub Vec<(String, SettingValue)>);

impl Serialize for InstallationSettings {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            match value {
                SettingValue::Plain(v) => map.serialize_entry(name, v)?,
                SettingValue::Secret(s) => {
                    map.serialize_entry(name, crate::http::redact::in_flight(s))?
                }
            }
        }
        map.end()
    }
}

/// An app (as listed by `/apps/owned`), with its setting definitions.
#[derive(Debug, Clone, Deserialize)]
pub struct App {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Setting definitions.
    #[serde(default)]
    pub parameters: Vec<AppParameter>,
}

/// One setting definition of an app.
#[derive(Debug, Clone, Deserialize)]
pub struct AppParameter {
    /// Setting name.
    pub name: String,
    /// `text`, `checkbox`, `url`, `password`, …
    #[serde(default)]
    pub kind: Option<String>,
    /// Required.
    #[serde(default)]
    pub required: bool,
    /// Secure: write-only, never shown back.
    #[serde(default)]
    pub secure: bool,
}

/// An OAuth client.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthClient {
    /// Numeric id (used when creating tokens).
    pub id: u64,
    /// The string `client_id` of the grant endpoint.
    #[serde(default)]
    pub identifier: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `public` or `confidential`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Redirect URIs.
    #[serde(default)]
    pub redirect_uri: Vec<String>,
    /// The secret: in full only at creation and after `generate_secret`.
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// The admin who created it.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// An OAuth access token record.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthToken {
    /// Id.
    pub id: u64,
    /// Numeric client id.
    #[serde(default)]
    pub client_id: Option<u64>,
    /// The user it acts as.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// The value: truncated to 10 characters except, on some versions, at creation.
    #[serde(default)]
    pub token: Option<SecretString>,
    /// The complete value, at creation only (some versions).
    #[serde(default)]
    pub full_token: Option<SecretString>,
    /// The refresh token, when one was issued.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// Scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last use.
    #[serde(default)]
    pub used_at: Option<Timestamp>,
    /// Expiry; `None` means it does not expire.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Refresh token expiry.
    #[serde(default)]
    pub refresh_token_expires_at: Option<Timestamp>,
}

impl OAuthToken {
    /// The usable value from a create answer: `full_token` when present, else `token`.
    pub fn value(&self) -> Option<&SecretString> {
        self.full_token.as_ref().or(self.token.as_ref())
    }
}

/// The body of an OAuth token create.
#[derive(Debug, Clone, Serialize)]
pub struct NewOAuthToken {
    /// The client's numeric id (not its identifier).
    pub client_id: u64,
    /// Scopes (an invalid one is accepted silently and then gets 403: check after).
    pub scopes: Vec<String>,
}

/// The answer of the `/oauth/tokens` grant endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct GrantedToken {
    /// The access token.
    pub access_token: SecretString,
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: Option<String>,
    /// Lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The new refresh token (a refresh invalidates the previous pair).
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// Refresh token lifetime in seconds.
    #[serde(default)]
    pub refresh_token_expires_in: Option<u64>,
}

/// A legacy Zendesk API token (listing only; there is no API to create or revoke them).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiToken {
    /// Id.
    pub id: u64,
    /// The creator (not a limit on who can use it).
    #[serde(default)]
    pub user_id: Option<u64>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Active.
    #[serde(default)]
    pub active: bool,
    /// Created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Last use, under the name some answers use.
    #[serde(default)]
    last_used: Option<Timestamp>,
    /// Last use, under the other name seen.
    #[serde(default)]
    last_used_at: Option<Timestamp>,
    /// A display prefix of the value.
    #[serde(default)]
    pub visible_token: Option<String>,
    /// Never the full value after creation; kept secret anyway.
    #[serde(default)]
    pub token: Option<SecretString>,
}

impl ApiToken {
    /// Last use, whichever field name the answer used.
    pub fn last_used(&self) -> Option<Timestamp> {
        self.last_used.or(self.last_used_at)
    }
}
