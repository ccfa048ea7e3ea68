//! The token driver trait: everything tokenops needs to know about one token kind, from
//! validation through discovery to the platform calls of a rotation, and the contexts the
//! engine hands a driver. Drivers never read the clock or the environment; what they need
//! arrives in these contexts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::TokenKindId;
use crate::Platform;
use crate::clients::Clients;
use crate::diag::{Diagnostic, Diagnostics};
use crate::discover::lists::{Fetched, ListKey, ProbeKind};
use crate::inventory::{DiscoveredToken, LiveToken};
use crate::ledger::{Ledger, Obtain, PendingRotation};
use crate::manifest::{LifetimeLimit, RotationPolicy, TokenSpec};
use crate::yaml::Node;

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

/// What decides the expiry of a new value, so that the plan promises only what the call sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewExpiry {
    /// `now + lifetime`: the call sets it, or tokenops keeps it for values with no record.
    Lifetime,
    /// The new record does not expire.
    Never,
    /// The platform decides; the words say how, for the plan.
    Platform(String),
}

/// What the registry knows about a kind without its coordinates.
#[derive(Debug)]
pub struct TokenMeta {
    /// The kind in words, as the check report names it (`personal access token`).
    pub words: &'static str,
    /// The platform says when a value of this kind was last used (GitLab does not, for
    /// deploy tokens): without it, a missing last use means "unknown", not "never".
    pub last_use: bool,
    /// How a new value is obtained.
    pub class: TokenClass,
    /// How a token of this kind that discovery found undeclared is keyed and named in the
    /// check report: `(stable key, owner in words)`.
    pub found_identity: fn(&DiscoveredToken) -> (String, String),
    /// The manifest entry `import` writes for such a token.
    pub import: fn(&DiscoveredToken) -> UndeclaredEntry,
}

/// What `import` writes for an undeclared token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndeclaredEntry {
    /// A manifest entry: the base of its id and its kind block (YAML, indented four spaces).
    Entry {
        /// Base of the generated id.
        id_base: String,
        /// The kind key and its coordinates.
        body: String,
    },
    /// The token cannot be declared from what discovery knows; why, for the person.
    Skip(String),
}

/// Which scopes a kind accepts, for validation.
#[derive(Debug, Clone, Copy)]
pub enum ScopeRules {
    /// The kind has no scopes.
    None,
    /// GitLab scopes from this list; `what` names the kind in messages.
    Gitlab {
        /// The scopes the kind can carry.
        allowed: &'static [&'static str],
        /// `a personal access token`.
        what: &'static str,
    },
    /// Zendesk OAuth scopes (`read`, `write`, `RESOURCE:read|write`…).
    Zendesk {
        /// `a Zendesk OAuth token`.
        what: &'static str,
    },
}

/// Validation of one kind's coordinates, with file:line:column for each problem.
pub struct KindCheck<'a> {
    /// The manifest file.
    pub file: &'a Path,
    /// The node holding the kind's coordinates.
    pub node: &'a Node,
    /// The token's `rotation:` override, when the entry has one.
    pub rotation: Option<&'a Node>,
    /// Whether the entry sets `rotation.strategy`.
    pub sets_strategy: bool,
    /// Where problems go.
    pub diags: &'a mut Diagnostics,
}

impl KindCheck<'_> {
    /// Reports a problem at `field` of the kind's coordinates (or the coordinates).
    pub fn problem(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        let node = self.node.get(field).unwrap_or(self.node);
        self.push(node, message.into(), hint.into());
    }

    /// Reports a problem at `field` of the `rotation:` override.
    pub fn rotation_problem(
        &mut self,
        field: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let node = self
            .rotation
            .and_then(|r| r.get(field))
            .or(self.rotation)
            .unwrap_or(self.node);
        self.push(node, message.into(), hint.into());
    }

    fn push(&mut self, node: &Node, message: String, hint: String) {
        self.diags
            .push(Diagnostic::new(self.file, node.line, node.column, message).hint(hint));
    }
}

/// What a driver reads to learn the live state of a declared token.
pub struct TokenLiveCx<'a> {
    /// The declaration.
    pub spec: &'a TokenSpec,
    /// Every list discovery fetched.
    pub fetched: &'a Fetched,
    /// The ledger.
    pub ledger: &'a Ledger,
    /// The token's effective rotation policy.
    pub policy: RotationPolicy,
    /// The current time.
    pub now: Timestamp,
}

impl TokenLiveCx<'_> {
    /// The platform id the ledger remembers for this token.
    pub fn remembered_id(&self) -> Option<&str> {
        self.ledger
            .token(&self.spec.id)
            .and_then(|t| t.platform_id.as_deref())
    }
}

/// What a new value's platform call returned: the new record's id (empty for values with
/// no platform record) and the value, shown once.
pub type Issued = (String, SecretString);

/// Why a rotation stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Left pending in the ledger; the next apply continues from there.
    Pending(String),
    /// Failed; nothing to continue (the pending record is cleared).
    Failed(String),
}

impl From<crate::ledger::LedgerError> for Stop {
    fn from(e: crate::ledger::LedgerError) -> Self {
        Stop::Pending(format!("the ledger could not be written: {}", e.brief()))
    }
}

/// Where a driver records, durably, what it learned in the middle of staging (a recovery
/// of a lost value), before its next platform call.
#[async_trait]
pub trait Journal: Send + Sync {
    /// Writes `pending` for the token being rotated and flushes it.
    async fn commit(&self, pending: &PendingRotation) -> Result<(), Stop>;
}

/// What a driver gets to obtain, learn and retire values.
pub struct StageCx<'a> {
    /// The declaration.
    pub spec: &'a TokenSpec,
    /// Platform clients.
    pub clients: &'a Clients,
    /// Zendesk OAuth client secrets for the client-credentials grant, keyed
    /// `INSTANCE/CLIENT`.
    pub client_secrets: &'a BTreeMap<String, SecretString>,
    /// The ledger, for recoveries that must be durable before the next call.
    pub journal: &'a dyn Journal,
}

/// One token kind. Implemented by the kind's manifest struct, so the driver holds the
/// declared coordinates.
#[async_trait]
pub trait TokenDriver: Send + Sync {
    /// The kind.
    fn id(&self) -> TokenKindId;
    /// The platform instance the token lives on (`None` for generated secrets).
    fn instance(&self) -> Option<(Platform, &str)>;
    /// The declared scopes (empty for kinds without scopes).
    fn scopes(&self) -> &[String];
    /// Which scopes the kind accepts.
    fn scope_rules(&self) -> ScopeRules;
    /// The longest life the platform gives one value of this kind, if it limits it.
    fn lifetime_limit(&self) -> Option<LifetimeLimit>;
    /// What decides the expiry of a new value.
    fn new_expiry(&self) -> NewExpiry {
        NewExpiry::Lifetime
    }
    /// The platform object in words (`project support/ops/x, access token "name"`).
    fn object_words(&self) -> String;
    /// A new record means a new bot user (project and group tokens).
    fn bot_owned(&self) -> bool;
    /// Kind-specific validation beyond the instance and scopes.
    fn check(&self, cx: &mut KindCheck<'_>);
    /// Why values of this kind could not be stored in a masked GitLab variable.
    fn mask_problem(&self, raw: bool) -> Option<(String, String)>;
    /// Whether a token discovery found is the one this declaration names.
    fn declares(&self, found: &DiscoveredToken) -> bool;
    /// The platform record the declaration names, in words, when two declarations could
    /// name the same one without sharing an id (`validate` refuses the second). Kinds whose
    /// coordinates already name one record answer `None`.
    fn record_key(&self) -> Option<String> {
        None
    }
    /// The check report's `(stable key, owner in words, name)` of the declared token; `None`
    /// for kinds with no expiry of their own.
    fn check_identity(&self) -> Option<(String, String, String)>;

    /// The lists discovery must fetch to find the live record.
    fn lists(&self, needs: &mut BTreeSet<ListKey>);
    /// The live record among the fetched lists. `Err(None)`: a list it needs failed (already
    /// reported); `Err(Some(reason))`: a problem of this declaration.
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>>;
    /// How the platform tells who a value of this kind authenticates as, if it can.
    fn probe(&self, value: &SecretString) -> Option<ProbeKind>;

    /// Ids of the live records a new value could be confused with, recorded with the intent
    /// so that a call whose answer is lost can be told apart from older records.
    async fn known_ids(&self, cx: &StageCx<'_>) -> Result<Vec<String>, Stop>;
    /// Obtains the new value: the platform call, or (`fresh` false, after a lost answer or
    /// when resuming at the intent step) what live state says happened.
    async fn stage(
        &self,
        cx: &StageCx<'_>,
        pending: &mut PendingRotation,
        fresh: bool,
        notes: &mut Vec<String>,
    ) -> Result<Issued, Stop>;
    /// Retires the old record `old` (one already gone is fine).
    async fn retire(&self, cx: &StageCx<'_>, old: &str) -> Result<(), String>;
    /// Proves a value a person provided (`apply --provide`) before anything is written;
    /// returns the platform id it belongs to (empty when the kind has no record).
    async fn check_provided(
        &self,
        clients: &Clients,
        value: &SecretString,
    ) -> Result<String, String>;
    /// The client secret apply needs from its environment to mint a value of this token:
    /// `(key in the run's client secrets, environment variable)`.
    fn client_secret(&self) -> Option<(String, String)>;
    /// The summary's words for a finished replacement obtained by `obtain`.
    fn done_words(&self, obtain: Obtain) -> &'static str;
    /// What [`TokenDriver::retire`] does to the old record, in the past tense: `revoked`
    /// (the record stays, dead), or `deleted` where the platform destroys it.
    fn retired_word(&self) -> &'static str {
        "revoked"
    }
    /// The username a value of this kind signs in with, for the consumers that receive it
    /// (`part: username`, a command's `TOKENOPS_USERNAME`): `Err((problem, fix))` when the
    /// kind has none or the declaration does not fix it.
    fn username(&self) -> Result<&str, (String, String)> {
        Err((
            format!(
                "this consumer receives the token's username, and a {} has none",
                self.id().meta().words
            ),
            "drop `part: username`: only deploy tokens sign in with a username".to_string(),
        ))
    }
    /// The platform instance a value of this kind can sign tokenops in to, if any (what a
    /// `tokenops_credential` consumer may name).
    fn signs_in_to(&self) -> Option<(Platform, &str)> {
        None
    }
    /// When this token is tokenops's own credential (`spec`) and a replacement went through
    /// with its answer lost, so that the old value no longer signs in: what a person must do.
    /// `None` for kinds whose lost answer the engine handles itself.
    fn lost_own_credential(&self, _spec: &TokenSpec) -> Option<String> {
        None
    }
}

impl TokenSpec {
    /// The instance whose run credential this token is (it has a `tokenops_credential`
    /// consumer naming it).
    pub fn run_credential(&self) -> Option<(Platform, &str)> {
        self.consumers
            .iter()
            .find_map(|c| c.driver().run_credential())
    }
}

/// The summary's words for a finished GitLab replacement.
pub fn gitlab_done_words(obtain: Obtain) -> &'static str {
    match obtain {
        Obtain::Rotate => "rotated; every consumer verified",
        Obtain::Provide => "the provided value was distributed; every consumer verified",
        Obtain::Create | Obtain::Recreate => {
            "created anew; every consumer verified; old record retired"
        }
    }
}
