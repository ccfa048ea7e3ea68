//! Token kinds: what a token is and where it lives on its platform, one struct per kind,
//! plus [`TokenSpec`], one entry under `tokens:`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::{ConsumerSpec, RotationOverride};

/// One token as declared under `tokens:`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    /// Stable key, unique across all manifests.
    pub id: String,
    /// What the token is for, in a sentence.
    pub description: Option<String>,
    /// The kind and platform coordinates of the token.
    pub kind: TokenKind,
    /// Overrides of the default rotation policy.
    pub rotation: RotationOverride,
    /// Every place the token's value is written to.
    pub consumers: Vec<ConsumerSpec>,
}

/// The field names a token entry may have besides its kind key.
pub const TOKEN_FIELDS: [&str; 4] = ["id", "description", "rotation", "consumers"];

/// The kind of a token, written as the key that holds its coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A GitLab personal access token of a (service) user.
    GitlabPersonalAccessToken(GitlabPersonalAccessToken),
    /// A GitLab project access token (owned by the project's bot user).
    GitlabProjectAccessToken(GitlabProjectAccessToken),
    /// A GitLab group access token (owned by the group's bot user).
    GitlabGroupAccessToken(GitlabGroupAccessToken),
    /// A GitLab pipeline trigger token (no rotate call: replaced by create + delete).
    GitlabPipelineTriggerToken(GitlabPipelineTriggerToken),
    /// A Zendesk OAuth access token of a confidential client.
    ZendeskOauthToken(ZendeskOauthToken),
    /// The secret of a Zendesk OAuth client.
    ZendeskOauthClientSecret(ZendeskOauthClientSecret),
    /// A legacy Zendesk API token: tracked, never rotated by API.
    ZendeskApiToken(ZendeskApiToken),
    /// A random shared secret tokenops mints itself.
    GeneratedSecret(GeneratedSecret),
}

/// Every token kind key, in the order of [`TokenKind`].
pub const TOKEN_KINDS: [&str; 8] = [
    "gitlab_personal_access_token",
    "gitlab_project_access_token",
    "gitlab_group_access_token",
    "gitlab_pipeline_trigger_token",
    "zendesk_oauth_token",
    "zendesk_oauth_client_secret",
    "zendesk_api_token",
    "generated_secret",
];

impl TokenKind {
    /// The kind key as written in manifests.
    pub fn key(&self) -> &'static str {
        match self {
            TokenKind::GitlabPersonalAccessToken(_) => TOKEN_KINDS[0],
            TokenKind::GitlabProjectAccessToken(_) => TOKEN_KINDS[1],
            TokenKind::GitlabGroupAccessToken(_) => TOKEN_KINDS[2],
            TokenKind::GitlabPipelineTriggerToken(_) => TOKEN_KINDS[3],
            TokenKind::ZendeskOauthToken(_) => TOKEN_KINDS[4],
            TokenKind::ZendeskOauthClientSecret(_) => TOKEN_KINDS[5],
            TokenKind::ZendeskApiToken(_) => TOKEN_KINDS[6],
            TokenKind::GeneratedSecret(_) => TOKEN_KINDS[7],
        }
    }

    /// The platform instance the token lives on: `("gitlab", name)` or `("zendesk", name)`.
    pub fn instance(&self) -> Option<(super::Platform, &str)> {
        use super::Platform::{Gitlab, Zendesk};
        match self {
            TokenKind::GitlabPersonalAccessToken(t) => Some((Gitlab, &t.gitlab)),
            TokenKind::GitlabProjectAccessToken(t) => Some((Gitlab, &t.gitlab)),
            TokenKind::GitlabGroupAccessToken(t) => Some((Gitlab, &t.gitlab)),
            TokenKind::GitlabPipelineTriggerToken(t) => Some((Gitlab, &t.gitlab)),
            TokenKind::ZendeskOauthToken(t) => Some((Zendesk, &t.zendesk)),
            TokenKind::ZendeskOauthClientSecret(t) => Some((Zendesk, &t.zendesk)),
            TokenKind::ZendeskApiToken(t) => Some((Zendesk, &t.zendesk)),
            TokenKind::GeneratedSecret(_) => None,
        }
    }

    /// The scopes the token is declared with (empty for kinds without scopes).
    pub fn scopes(&self) -> &[String] {
        match self {
            TokenKind::GitlabPersonalAccessToken(t) => &t.scopes,
            TokenKind::GitlabProjectAccessToken(t) => &t.scopes,
            TokenKind::GitlabGroupAccessToken(t) => &t.scopes,
            TokenKind::ZendeskOauthToken(t) => &t.scopes,
            _ => &[],
        }
    }
}

/// A personal access token of `user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabPersonalAccessToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Username of the token's owner.
    pub user: String,
    /// Token name as shown in GitLab.
    pub name: String,
    /// GitLab scopes, e.g. `[api]` or `[read_api]`.
    pub scopes: Vec<String>,
}

/// A project access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabProjectAccessToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project, e.g. `support/ops/zendesk-sync`.
    pub project: String,
    /// Token name (also the bot user's display name).
    pub name: String,
    /// GitLab scopes a project token can carry.
    pub scopes: Vec<String>,
    /// Role of the token's bot user in the project.
    #[serde(default = "AccessLevel::default_role")]
    pub access_level: AccessLevel,
}

/// A group access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabGroupAccessToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the group, e.g. `support/ops`.
    pub group: String,
    /// Token name (also the bot user's display name).
    pub name: String,
    /// GitLab scopes a group token can carry.
    pub scopes: Vec<String>,
    /// Role of the token's bot user in the group.
    #[serde(default = "AccessLevel::default_role")]
    pub access_level: AccessLevel,
}

/// A pipeline trigger token of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabPipelineTriggerToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project whose pipelines the token starts.
    pub project: String,
    /// The trigger's description, which identifies it (e.g. `Zendesk Global - Ticket Export`).
    pub description: String,
}

/// The role of a project or group token's bot user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// 10
    Guest,
    /// 15
    Planner,
    /// 20
    Reporter,
    /// 30
    Developer,
    /// 40 (GitLab's default)
    Maintainer,
    /// 50
    Owner,
}

impl AccessLevel {
    fn default_role() -> Self {
        AccessLevel::Maintainer
    }

    /// GitLab's numeric access level.
    pub fn number(self) -> u8 {
        match self {
            AccessLevel::Guest => 10,
            AccessLevel::Planner => 15,
            AccessLevel::Reporter => 20,
            AccessLevel::Developer => 30,
            AccessLevel::Maintainer => 40,
            AccessLevel::Owner => 50,
        }
    }
}

/// An OAuth access token of a Zendesk client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZendeskOauthToken {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The OAuth client's unique identifier.
    pub client: String,
    /// Zendesk scopes: `read`, `write`, `impersonate` or `RESOURCE:read|write`.
    pub scopes: Vec<String>,
    /// How tokens are minted.
    #[serde(default)]
    pub grant: OauthGrant,
}

/// How a Zendesk OAuth token is obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OauthGrant {
    /// An admin creates it through the OAuth Tokens API.
    #[default]
    AdminApi,
    /// The confidential client asks for it (lives under 48 hours).
    ClientCredentials,
}

/// The secret of a Zendesk OAuth client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZendeskOauthClientSecret {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The OAuth client's unique identifier.
    pub client: String,
}

/// A legacy Zendesk API token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZendeskApiToken {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The token's numeric id in Zendesk.
    pub token_id: u64,
    /// The agent email the token is paired with.
    pub email: String,
}

/// A random secret tokenops generates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratedSecret {
    /// Number of characters (1 to 1024).
    #[schemars(range(min = 1, max = 1024))]
    pub length: u32,
    /// The characters it is drawn from.
    #[serde(default)]
    pub alphabet: Alphabet,
}

/// Character sets for generated secrets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Alphabet {
    /// `A-Z a-z 0-9`.
    #[default]
    Alphanumeric,
    /// `0-9 a-f`.
    Hex,
    /// `A-Z a-z 0-9 - _`.
    Base64url,
    /// Printable ASCII without space (needs `raw: true` in a masked CI variable).
    Printable,
}

impl Alphabet {
    /// The characters of the alphabet.
    pub fn chars(self) -> &'static str {
        match self {
            Alphabet::Alphanumeric => {
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            }
            Alphabet::Hex => "0123456789abcdef",
            Alphabet::Base64url => {
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            }
            Alphabet::Printable => {
                "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
            }
        }
    }
}

/// Serialized shape of a token entry: the kind key sits beside the other fields.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRepr {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(flatten)]
    kind: TokenKind,
    #[serde(default, skip_serializing_if = "is_default")]
    rotation: RotationOverride,
    #[serde(default)]
    consumers: Vec<ConsumerSpec>,
}

fn is_default(r: &RotationOverride) -> bool {
    *r == RotationOverride::default()
}

impl Serialize for TokenSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TokenRepr {
            id: self.id.clone(),
            description: self.description.clone(),
            kind: self.kind.clone(),
            rotation: self.rotation.clone(),
            consumers: self.consumers.clone(),
        }
        .serialize(serializer)
    }
}

/// Plain serde reading (used for fixtures); `manifest::load` reads tokens with precise,
/// complete diagnostics instead.
impl<'de> Deserialize<'de> for TokenSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = TokenRepr::deserialize(deserializer)?;
        Ok(TokenSpec {
            id: repr.id,
            description: repr.description,
            kind: repr.kind,
            rotation: repr.rotation,
            consumers: repr.consumers,
        })
    }
}

impl JsonSchema for TokenSpec {
    fn schema_name() -> Cow<'static, str> {
        "Token".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let rotation = generator.subschema_for::<RotationOverride>();
        let consumers = generator.subschema_for::<Vec<ConsumerSpec>>();
        let kinds: Vec<serde_json::Value> = [
            (
                TOKEN_KINDS[0],
                generator.subschema_for::<GitlabPersonalAccessToken>(),
            ),
            (
                TOKEN_KINDS[1],
                generator.subschema_for::<GitlabProjectAccessToken>(),
            ),
            (
                TOKEN_KINDS[2],
                generator.subschema_for::<GitlabGroupAccessToken>(),
            ),
            (
                TOKEN_KINDS[3],
                generator.subschema_for::<GitlabPipelineTriggerToken>(),
            ),
            (
                TOKEN_KINDS[4],
                generator.subschema_for::<ZendeskOauthToken>(),
            ),
            (
                TOKEN_KINDS[5],
                generator.subschema_for::<ZendeskOauthClientSecret>(),
            ),
            (TOKEN_KINDS[6], generator.subschema_for::<ZendeskApiToken>()),
            (TOKEN_KINDS[7], generator.subschema_for::<GeneratedSecret>()),
        ]
        .into_iter()
        .map(
            |(key, schema)| serde_json::json!({ "required": [key], "properties": { key: schema } }),
        )
        .collect();
        let mut properties = serde_json::Map::new();
        properties.insert(
            "id".into(),
            serde_json::json!({
                "type": "string", "minLength": 1,
                "description": "Stable key, unique across all manifests."
            }),
        );
        properties.insert(
            "description".into(),
            serde_json::json!({ "type": "string", "description": "What the token is for." }),
        );
        properties.insert("rotation".into(), rotation.to_value());
        properties.insert("consumers".into(), consumers.to_value());
        for key in TOKEN_KINDS {
            properties.insert(key.into(), serde_json::json!(true));
        }
        json_schema!({
            "type": "object",
            "description": "One token: an id, exactly one kind key with the token's coordinates, an optional rotation override and the consumers its value is written to.",
            "required": ["id"],
            "properties": properties,
            "additionalProperties": false,
            "oneOf": kinds
        })
    }
}
