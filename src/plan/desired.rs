//! The desired state as the plan engine sees it: each declared token reduced to what the
//! decision needs (platform object, scopes, effective policy, consumers with their non-secret
//! settings). Built from the loaded manifests by [`from_manifest`](super::from_manifest).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a token kind gets a new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenClass {
    /// GitLab personal, project and group access tokens: the rotate call (old value dies at
    /// once), or create-then-revoke with the `overlap` strategy.
    Rotatable,
    /// Pipeline trigger tokens and Zendesk OAuth tokens: create a new one, switch consumers,
    /// revoke the old one.
    Replaceable,
    /// Zendesk OAuth client secrets: `generate_secret` replaces the secret at once.
    SecretReset,
    /// A random secret tokenops generates itself; its only record is the ledger.
    Generated,
    /// A legacy Zendesk API token: nobody can create one any more; never rotated.
    Legacy,
}

/// Rotation strategy for rotatable tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The platform's rotate call: identity kept, no overlap.
    Rotate,
    /// Create new, switch and verify consumers, then revoke old.
    Overlap,
}

/// Whether apply acts on its own or prints a checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// apply executes the actions.
    Auto,
    /// apply prints the actions as a checklist for a person.
    Manual,
}

/// The effective rotation policy of one token, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Due when the time left is at most this.
    pub rotate_before_secs: i64,
    /// Lifetime of a new value (already capped at the platform maximum).
    pub lifetime_secs: i64,
    /// Rotate or overlap.
    pub strategy: Strategy,
    /// Auto or manual.
    pub mode: Mode,
}

/// One declared token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredToken {
    /// Manifest id.
    pub id: String,
    /// Kind, spelled as in manifests.
    pub kind: String,
    /// Platform instance name (`gitlab.com`, `global`…); empty for generated secrets.
    pub platform: String,
    /// The platform object in words (`project support/ops/x, token "name"`).
    pub object: String,
    /// Declared scopes, sorted (empty for kinds without scopes).
    pub scopes: Vec<String>,
    /// Effective policy.
    pub policy: Policy,
    /// How a new value is obtained.
    pub class: TokenClass,
    /// A project or group token: a new record means a new bot user.
    pub bot_owned: bool,
    /// Where the value goes.
    pub consumers: Vec<DesiredConsumer>,
}

/// One declared consumer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredConsumer {
    /// Stable consumer key (unique across manifests).
    pub key: String,
    /// Kind, spelled as in manifests.
    pub kind: String,
    /// The consumer in words (`gitlab.com: project support/ops/x variable SYNC_TOKEN`).
    pub label: String,
    /// Non-secret settings the manifest declares, compared with the live ones.
    pub settings: BTreeMap<String, String>,
    /// For manual consumers, what a person must do.
    pub instructions: Option<String>,
}
