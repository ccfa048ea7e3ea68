//! The consumer driver trait: everything tokenops needs to know about one kind of place a
//! value is written to (validation, what discovery lists, live state, labels, write and
//! verify), and the contexts the engine hands a driver.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{ConsumerKindId, TokenKind};
use crate::Platform;
use crate::clients::Clients;
use crate::diag::{Diagnostic, Diagnostics};
use crate::discover::lists::{Fetched, ListKey, Probe};
use crate::inventory::{Holds, LiveConsumer};
use crate::ledger::Ledger;
use crate::manifest::{ConsumerKey, TokenSpec};
use crate::yaml::Node;

/// Which part of a credential a consumer receives: the secret value (the default), or the
/// username a deploy token signs in with, so that a registry login is two consumers of one
/// token (`REGISTRY_USER` and `REGISTRY_PASSWORD`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The secret value.
    #[default]
    Value,
    /// The username that goes with it (not secret).
    Username,
}

impl Part {
    /// True for the default, the secret value (what manifests leave out).
    pub fn is_value(&self) -> bool {
        *self == Part::Value
    }
}

/// What apply gives a consumer: the new value and, for kinds that sign in as a username and
/// token pair, the username that goes with it.
#[derive(Clone, Copy)]
pub struct Credential<'a> {
    /// The secret value.
    pub value: &'a SecretString,
    /// The username, for kinds that have one.
    pub username: Option<&'a str>,
}

impl<'a> Credential<'a> {
    /// A credential without a username.
    pub fn value(value: &'a SecretString) -> Credential<'a> {
        Credential {
            value,
            username: None,
        }
    }

    /// The part a consumer receives; a username the credential lacks is an error naming
    /// the fix (validation refuses such a manifest, so only a changed manifest gets here).
    pub fn part(&self, part: Part) -> Result<SecretString, String> {
        match part {
            Part::Value => Ok(self.value.clone()),
            Part::Username => self.username.map(SecretString::from).ok_or_else(|| {
                "the consumer receives the username, and this token has none; declare its \
                 `username:` or drop `part: username`"
                    .to_string()
            }),
        }
    }
}

/// How a consumer's value is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Read back: the consumer holds exactly the new value.
    ReadBack,
    /// Write-only: the platform accepted the write; the fingerprint is recorded.
    Written,
}

/// Validation of one consumer entry.
pub struct ConsumerCheck<'a> {
    /// The manifest file.
    pub file: &'a Path,
    /// The node holding the consumer's fields.
    pub node: &'a Node,
    /// The kind of the token whose value it receives (when that parsed).
    pub token: Option<&'a TokenKind>,
    /// Where problems go.
    pub diags: &'a mut Diagnostics,
}

impl ConsumerCheck<'_> {
    /// Reports a problem at `field` (or at the consumer when the field is absent).
    pub fn problem(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        let node = self.node.get(field).unwrap_or(self.node);
        self.diags.push(
            Diagnostic::new(self.file, node.line, node.column, message.into()).hint(hint.into()),
        );
    }
}

/// What a driver reads to learn a consumer's live state.
pub struct ConsumerLiveCx<'a> {
    /// The token whose value the consumer should hold.
    pub token: &'a TokenSpec,
    /// The consumer key.
    pub key: &'a str,
    /// Every list discovery fetched.
    pub fetched: &'a Fetched,
    /// The ledger (fingerprints of the current value and of what was written).
    pub ledger: &'a Ledger,
    /// Introspections to run once every list is matched.
    pub probes: &'a mut Vec<Probe>,
}

impl ConsumerLiveCx<'_> {
    /// What a value read back from the consumer tells: the current value by fingerprint, or a
    /// probe queued to ask the platform who it authenticates as.
    pub fn readable(&mut self, value: &SecretString) -> Holds {
        let fp = crate::discover::fingerprint_of(self.ledger, value);
        let current = self
            .ledger
            .token(&self.token.id)
            .and_then(|t| t.fingerprint.as_deref());
        if current == Some(fp.as_str()) {
            return Holds::Fingerprint(fp);
        }
        if let Some(kind) = self.token.kind.driver().probe(value) {
            self.probes.push(Probe {
                consumer: self.key.to_string(),
                kind,
            });
        }
        // Until the probe answers, the fingerprint stands in.
        Holds::Fingerprint(fp)
    }

    /// What a consumer that receives the username holds: whether it is the username the
    /// declaration fixes.
    pub fn username_held(&self, held: &SecretString) -> Holds {
        let want = self.token.kind.driver().username().ok();
        Holds::Username {
            matches: want == Some(held.expose_secret()),
        }
    }
}

/// One consumer kind. Implemented by the kind's manifest struct.
#[async_trait]
pub trait ConsumerDriver: Send + Sync {
    /// The kind.
    fn id(&self) -> ConsumerKindId;
    /// The platform instance written to (`None` for steps a person does).
    fn instance(&self) -> Option<(Platform, &str)>;
    /// The identity of the place written to; two tokens may not share one. `None` for steps
    /// a person does.
    fn key(&self) -> Option<ConsumerKey>;
    /// The consumer in words (`gitlab.com: project support/ops/x variable SYNC_TOKEN`).
    fn label(&self) -> String;
    /// Non-secret settings the manifest declares, compared with the live ones.
    fn settings(&self) -> BTreeMap<String, String>;
    /// For steps a person does, what to do.
    fn instructions(&self) -> Option<&str>;
    /// Kind-specific validation.
    fn check(&self, cx: &mut ConsumerCheck<'_>);

    /// The lists discovery must fetch.
    fn lists(&self, needs: &mut BTreeSet<ListKey>);
    /// The live state among the fetched lists. `Err(None)`: a list it needs failed (already
    /// reported); `Err(Some(reason))`: a problem of this declaration.
    fn live(&self, cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>>;

    /// Apply writes this consumer itself (false for steps a person does).
    fn written_by_apply(&self) -> bool;
    /// Writing again after a failed verify is harmless (false for a command the manifest
    /// does not call idempotent: its write is not repeated in the same run).
    fn rewrite_safe(&self) -> bool;
    /// The platform instance whose run credential this consumer is: writing it signs every
    /// client of the run in with the new value (`tokenops_credential`). A token with such a
    /// consumer is rotated after every other token of the run.
    fn run_credential(&self) -> Option<(Platform, &str)> {
        None
    }
    /// Where a person with access can read the value back once apply wrote it, in words,
    /// for the manual steps (tokenops never prints a value). `None` when the place is
    /// write-only.
    fn readable_at(&self) -> Option<String> {
        None
    }
    /// Writes the credential (its part the consumer receives; idempotent: a repeat leaves
    /// the same state). Returns the proof when the platform's answer to the write already
    /// shows what the consumer holds, so that no request is spent proving it again.
    async fn write(
        &self,
        clients: &Clients,
        given: Credential<'_>,
    ) -> Result<Option<Proof>, String>;
    /// Proves the consumer holds the credential (after a resumed rotation, or when the
    /// write's answer did not show it). The value came from the platform's own answer for
    /// the new record, so holding exactly it proves the consumer authenticates as that
    /// record.
    async fn verify(&self, clients: &Clients, given: Credential<'_>) -> Result<Proof, String>;
}
