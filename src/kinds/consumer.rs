//! The consumer driver trait: everything tokenops needs to know about one kind of place a
//! value is written to (validation, what discovery lists, live state, labels, write and
//! verify), and the contexts the engine hands a driver.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use async_trait::async_trait;
use secrecy::SecretString;

use super::{ConsumerKindId, TokenKind};
use crate::Platform;
use crate::clients::Clients;
use crate::diag::{Diagnostic, Diagnostics};
use crate::discover::lists::{Fetched, ListKey, Probe};
use crate::inventory::{Holds, LiveConsumer};
use crate::ledger::Ledger;
use crate::manifest::{ConsumerKey, TokenSpec};
use crate::yaml::Node;

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
    /// Writes `value` (idempotent: a repeat leaves the same state). Returns the proof when
    /// the platform's answer to the write already shows what the consumer holds, so that no
    /// request is spent proving it again.
    async fn write(&self, clients: &Clients, value: &SecretString)
    -> Result<Option<Proof>, String>;
    /// Proves the consumer holds `value` (after a resumed rotation, or when the write's
    /// answer did not show it). The value came from the platform's own answer for the new
    /// record, so holding exactly it proves the consumer authenticates as that record.
    async fn verify(&self, clients: &Clients, value: &SecretString) -> Result<Proof, String>;
}
