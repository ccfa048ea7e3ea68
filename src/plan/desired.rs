//! The desired state as the plan engine sees it: each declared token reduced to what the
//! decision needs (platform object, scopes, effective policy, consumers with their non-secret
//! settings). Built from the loaded manifests by [`from_manifest`].

use std::collections::BTreeMap;

pub use crate::kinds::NewExpiry;
use crate::manifest::{ConsumerSpec, Desired};

use serde::{Deserialize, Serialize};

pub use crate::kinds::TokenClass;
pub use crate::manifest::{Mode, Strategy};

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
    /// What decides the expiry of a new value.
    pub new_expiry: NewExpiry,
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

/// Reduces the loaded manifests to what the plan engine needs, in manifest order.
pub fn from_manifest(desired: &Desired) -> Vec<DesiredToken> {
    desired
        .tokens
        .iter()
        .map(|declared| {
            let spec = &declared.spec;
            let policy = desired.rotation(spec);
            let mut scopes = spec.kind.scopes().to_vec();
            scopes.sort();
            DesiredToken {
                id: spec.id.clone(),
                kind: spec.kind.key().to_string(),
                platform: spec
                    .kind
                    .instance()
                    .map(|(_, name)| name.to_string())
                    .unwrap_or_default(),
                object: spec.kind.driver().object_words(),
                scopes,
                policy: Policy {
                    rotate_before_secs: secs(policy.rotate_before.as_secs()),
                    lifetime_secs: secs(policy.lifetime.as_secs()),
                    strategy: policy.strategy,
                    mode: policy.mode,
                },
                class: spec.kind.id().meta().class,
                bot_owned: spec.kind.driver().bot_owned(),
                new_expiry: spec.kind.driver().new_expiry(),
                consumers: spec.consumers.iter().map(consumer).collect(),
            }
        })
        .collect()
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn consumer(spec: &ConsumerSpec) -> DesiredConsumer {
    let driver = spec.driver();
    let instructions = driver.instructions().map(str::to_string);
    let key = driver
        .key()
        .map(|k| k.0)
        .unwrap_or_else(|| format!("manual:{}", instructions.as_deref().unwrap_or_default()));
    DesiredConsumer {
        key,
        kind: spec.kind_key().to_string(),
        label: driver.label(),
        settings: driver.settings(),
        instructions,
    }
}
