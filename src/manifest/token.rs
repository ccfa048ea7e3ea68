//! [`TokenSpec`], one entry under `tokens:`: its id, description, rotation override and
//! consumers, and its kind (the kinds themselves live in [`crate::kinds`]), plus the roles
//! project and group tokens share.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::{ConsumerSpec, RotationOverride, TOKEN_KINDS, TokenKind};

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
    pub(crate) fn default_role() -> Self {
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
        let kinds: Vec<serde_json::Value> = TokenKind::schemas(generator)
        .into_iter()
        .map(
            |(key, schema)| serde_json::json!({ "required": [key], "properties": { key: schema } }),
        )
        .collect();
        let mut properties = serde_json::Map::new();
        properties.insert(
            "id".into(),
            serde_json::json!({
                "type": "string", "minLength": 1, "maxLength": super::names::MAX_ID, "pattern": super::names::ID_PATTERN,
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
            properties.insert((*key).into(), serde_json::json!(true));
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
