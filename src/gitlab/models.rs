//! Serde types for the GitLab objects tokenops reads and writes, with the platform's field
//! names. Unknown fields are ignored (GitLab adds fields over time); secret values are
//! `SecretString` and are only ever serialized into request bodies.

use jiff::Timestamp;
use jiff::civil::Date;
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

/// Serializes a secret into a request body (the only place a secret is written out).
pub(crate) fn expose<S: Serializer>(secret: &SecretString, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(crate::http::redact::in_flight(secret))
}

/// A personal, project, group or service-account access token (they share one record).
#[derive(Debug, Clone, Deserialize)]
pub struct AccessToken {
    /// Record id; rotation creates a new record with a new id.
    pub id: u64,
    /// Display name (not unique).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Revoked explicitly or by rotation.
    #[serde(default)]
    pub revoked: bool,
    /// Neither revoked nor expired.
    #[serde(default)]
    pub active: bool,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last use (refreshed about every 10 minutes).
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
    /// Scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Owner; the bot user for project and group tokens.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// The token stops working at 00:00 UTC on this date.
    #[serde(default)]
    pub expires_at: Option<Date>,
    /// Project and group tokens: 10 guest … 50 owner.
    #[serde(default)]
    pub access_level: Option<u8>,
    /// The value: only in the answer to create and rotate.
    #[serde(default)]
    pub token: Option<SecretString>,
}

/// Filters for listing personal access tokens.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    /// Owner (admins; a non-admin filtering by another user gets 401).
    pub user_id: Option<u64>,
    /// `active` or `inactive`.
    pub state: Option<TokenState>,
    /// Revoked or not.
    pub revoked: Option<bool>,
    /// Substring of the name.
    pub search: Option<String>,
    /// Expires before this date.
    pub expires_before: Option<Date>,
    /// Expires after this date.
    pub expires_after: Option<Date>,
}

/// Token list state filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Not revoked and not expired.
    Active,
    /// Revoked or expired.
    Inactive,
}

impl TokenState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TokenState::Active => "active",
            TokenState::Inactive => "inactive",
        }
    }
}

/// The body of a token create call. `expires_at` is required here on purpose: without it
/// GitLab picks a default that differs by version and setting.
#[derive(Debug, Clone, Serialize)]
pub struct NewAccessToken {
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Project and group tokens: the role (10…50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_level: Option<u8>,
    /// Expiry date.
    pub expires_at: Date,
}

/// A user as embedded in other objects, or returned by `/user` and `/users`.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// Id.
    pub id: u64,
    /// User name.
    #[serde(default)]
    pub username: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// `active`, `blocked`, …
    #[serde(default)]
    pub state: Option<String>,
    /// Bot users of project and group tokens.
    #[serde(default)]
    pub bot: bool,
    /// Whether the user is an instance administrator (shown to administrators and on `GET
    /// /user`).
    #[serde(default)]
    pub is_admin: Option<bool>,
}

/// A pipeline trigger token.
#[derive(Debug, Clone, Deserialize)]
pub struct Trigger {
    /// Id.
    pub id: u64,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Last use.
    #[serde(default)]
    pub last_used: Option<Timestamp>,
    /// Expiry (behind a feature flag on GitLab): a timestamp, or a date meaning 00:00 UTC.
    #[serde(default, deserialize_with = "date_or_timestamp")]
    pub expires_at: Option<Timestamp>,
    /// The full value for the owner; only four characters for anyone else.
    #[serde(default)]
    pub token: Option<SecretString>,
    /// The user the trigger acts as.
    #[serde(default)]
    pub owner: Option<User>,
}

/// A project or group webhook. Its secret token is write-only and never appears here.
#[derive(Debug, Clone, Deserialize)]
pub struct Hook {
    /// Id.
    pub id: u64,
    /// Destination URL (may hold `{variable}` placeholders).
    pub url: String,
    /// Name (17.1+).
    #[serde(default)]
    pub name: Option<String>,
    /// Description (17.1+).
    #[serde(default)]
    pub description: Option<String>,
    /// Project hooks.
    #[serde(default)]
    pub project_id: Option<u64>,
    /// Group hooks.
    #[serde(default)]
    pub group_id: Option<u64>,
    /// TLS verification of the receiver.
    #[serde(default)]
    pub enable_ssl_verification: Option<bool>,
    /// `executable`, `temporarily_disabled` or `disabled`.
    #[serde(default)]
    pub alert_status: Option<String>,
    /// Custom header names (values are masked).
    #[serde(default)]
    pub custom_headers: Vec<KeyOnly>,
    /// URL variable names (values are masked).
    #[serde(default)]
    pub url_variables: Vec<KeyOnly>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Every other field (event toggles and newer settings), kept as sent.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A masked `{key}` entry (hook custom headers and URL variables).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct KeyOnly {
    /// The key.
    pub key: String,
}

/// A custom header with its (secret) value, for a hook write.
#[derive(Debug, Clone, Serialize)]
pub struct CustomHeader {
    /// Header name.
    pub key: String,
    /// Header value.
    #[serde(serialize_with = "expose")]
    pub value: SecretString,
}

/// A CI/CD variable of a project or group.
#[derive(Debug, Clone, Deserialize)]
pub struct Variable {
    /// Key.
    pub key: String,
    /// Value; `None` when hidden.
    #[serde(default)]
    pub value: Option<SecretString>,
    /// `env_var` or `file`.
    #[serde(default)]
    pub variable_type: Option<String>,
    /// Only on protected refs.
    #[serde(default)]
    pub protected: bool,
    /// Masked in job logs.
    #[serde(default)]
    pub masked: bool,
    /// Masked and hidden (value unreadable).
    #[serde(default)]
    pub hidden: bool,
    /// No `$VAR` expansion.
    #[serde(default)]
    pub raw: bool,
    /// Environment scope (`*` by default).
    #[serde(default)]
    pub environment_scope: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// The body of a variable create.
#[derive(Debug, Clone, Serialize)]
pub struct NewVariable {
    /// Key.
    pub key: String,
    /// Value.
    #[serde(serialize_with = "expose")]
    pub value: SecretString,
    /// `env_var` (default) or `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable_type: Option<String>,
    /// Protected.
    pub protected: bool,
    /// Masked.
    pub masked: bool,
    /// Masked and hidden (create only).
    pub masked_and_hidden: bool,
    /// Raw.
    pub raw: bool,
    /// Environment scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_scope: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The body of a variable update: a new value, and optionally new flags.
#[derive(Debug, Clone, Serialize)]
pub struct VariableUpdate {
    /// The new value.
    #[serde(serialize_with = "expose")]
    pub value: SecretString,
    /// Protected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
    /// Masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked: Option<bool>,
    /// Raw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<bool>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An issue.
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    /// Global id.
    pub id: u64,
    /// Per-project number (used in routes).
    pub iid: u64,
    /// Project.
    #[serde(default)]
    pub project_id: Option<u64>,
    /// Title.
    pub title: String,
    /// Markdown body.
    #[serde(default)]
    pub description: Option<String>,
    /// `opened` or `closed`.
    #[serde(default)]
    pub state: String,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Web link.
    #[serde(default)]
    pub web_url: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// The body of an issue create.
#[derive(Debug, Clone, Serialize)]
pub struct NewIssue {
    /// Title.
    pub title: String,
    /// Markdown body.
    pub description: String,
    /// Comma-separated labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// Confidential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidential: Option<bool>,
}

/// The body of an issue update (at least one field).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssueUpdate {
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Markdown body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Comma-separated labels to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_labels: Option<String>,
    /// `close` or `reopen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_event: Option<String>,
}

/// A comment on an issue or merge request.
#[derive(Debug, Clone, Deserialize)]
pub struct Note {
    /// Id.
    pub id: u64,
    /// Markdown body.
    #[serde(default)]
    pub body: String,
    /// Author.
    #[serde(default)]
    pub author: Option<User>,
    /// System notes are GitLab's own activity lines.
    #[serde(default)]
    pub system: bool,
    /// Created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// A project.
#[derive(Debug, Clone, Deserialize)]
pub struct Project {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Path segment.
    #[serde(default)]
    pub path: String,
    /// Full path, e.g. `support/ops/zendesk-sync`.
    #[serde(default)]
    pub path_with_namespace: String,
    /// Web link.
    #[serde(default)]
    pub web_url: Option<String>,
    /// Archived.
    #[serde(default)]
    pub archived: Option<bool>,
    /// The group or user namespace the project lives in.
    #[serde(default)]
    pub namespace: Option<Namespace>,
}

/// The namespace of a project, as project lists show it.
#[derive(Debug, Clone, Deserialize)]
pub struct Namespace {
    /// Id (a group's id for group namespaces).
    pub id: u64,
    /// Full path, e.g. `support/ops`.
    #[serde(default)]
    pub full_path: String,
}

/// A group.
#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Full path, e.g. `support/ops`.
    #[serde(default)]
    pub full_path: String,
    /// Web link.
    #[serde(default)]
    pub web_url: Option<String>,
    /// The parent group's id (`None` for a top-level group).
    #[serde(default)]
    pub parent_id: Option<u64>,
}

/// The lock body of GitLab's Terraform state API. Every field is required by GitLab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Lock id (chosen by the locker).
    #[serde(rename = "ID", default)]
    pub id: String,
    /// What the locker is doing.
    #[serde(rename = "Operation", default)]
    pub operation: String,
    /// Free text.
    #[serde(rename = "Info", default)]
    pub info: String,
    /// Who holds it (GitLab reports the user name).
    #[serde(rename = "Who", default)]
    pub who: String,
    /// Locker version.
    #[serde(rename = "Version", default)]
    pub version: String,
    /// When it was taken.
    #[serde(rename = "Created", default)]
    pub created: String,
    /// State path.
    #[serde(rename = "Path", default)]
    pub path: String,
}

/// Reads an optional expiry written either as an RFC 3339 timestamp or as a bare date (which
/// means 00:00 UTC on that day, like every other GitLab token expiry).
pub(crate) fn date_or_timestamp<'de, D>(de: D) -> Result<Option<Timestamp>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text: Option<String> = Option::deserialize(de)?;
    let Some(text) = text else { return Ok(None) };
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(Some(at));
    }
    let date: jiff::civil::Date = text.parse().map_err(serde::de::Error::custom)?;
    crate::time::midnight(date)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("date {text} is out of range")))
}
