//! The plan: for every declared token and consumer, a status and the actions that would bring
//! live state to the desired state. Computing it is a pure function
//! ([`engine::compute`]) of the desired state, the inventory, the ledger and `now`; rendering
//! it ([`render`]) never sees a secret, because the plan holds none.

pub mod consumers;
pub mod desired;
pub mod engine;
pub mod render;
pub mod renewal;
pub mod select;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub use desired::{
    DesiredConsumer, DesiredToken, Mode, NewExpiry, Policy, Strategy, TokenClass, from_manifest,
};
pub use engine::{compute, compute_selected};
pub use select::{Selection, SelectionError};

/// Version of the plan's JSON shape; bumped on any incompatible change.
pub const PLAN_FORMAT: u32 = 1;

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT`].
    pub format: u32,
    /// The `now` the plan was computed for.
    pub generated_at: Timestamp,
    /// Fingerprint of the live state and ledger the plan was made from; apply refuses a saved
    /// plan when this no longer matches.
    pub live_fingerprint: String,
    /// What the plan was asked to cover (`--replace`, `--target`); empty for a whole plan.
    #[serde(default, skip_serializing_if = "Selection::is_empty")]
    pub selection: Selection,
    /// Counts, for the summary line and the MR widget.
    pub summary: Summary,
    /// One entry per declared token, in manifest order.
    pub tokens: Vec<TokenPlan>,
    /// Active tokens in the discovery scopes that no manifest declares.
    pub undeclared: Vec<Undeclared>,
    /// Credentials the run signs in with that expire within the check window and that no
    /// manifest keeps alive: warnings, not pending changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<crate::watch::UnwatchedCredential>,
}

/// Counts of statuses and actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Tokens whose value would be replaced by rotate, create or generate.
    pub rotations: usize,
    /// Expired, revoked or missing tokens that would be created again.
    pub recreations: usize,
    /// Consumer writes.
    pub writes: usize,
    /// Old values that would be revoked after the switch.
    pub revocations: usize,
    /// Steps left to a person (manual consumers, manual-mode tokens).
    pub manual: usize,
    /// Tokens that need a person's decision before tokenops touches them.
    pub needs_human: usize,
    /// Tokens with nothing to do.
    pub in_sync: usize,
    /// Legacy Zendesk API tokens.
    pub legacy: usize,
    /// Undeclared tokens found in discovery scopes.
    pub undeclared: usize,
    /// Consumers left unverifiable (write-only, never written by tokenops), which this plan
    /// does not write. Not pending changes: `--detailed-exitcode` exits 0 for them;
    /// `--replace ID` settles them.
    #[serde(default)]
    pub unverifiable: usize,
}

impl Summary {
    /// True when applying the plan would change nothing.
    pub fn is_empty(&self) -> bool {
        self.rotations + self.recreations + self.writes + self.revocations + self.manual == 0
    }
}

/// Status of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStatus {
    /// Nothing to do.
    Ok,
    /// Within `rotate_before` of its expiry, or a consumer needs a fresh value.
    Due,
    /// Not due, but `--replace` asks for a new value now.
    Replace,
    /// Past its expiry: it can only be created again.
    Expired,
    /// Revoked out of band: it can only be created again.
    Revoked,
    /// No live record.
    Missing,
    /// Live scopes differ from the declared ones: a person must decide.
    ScopeDrift,
    /// An unfinished rotation: apply completes it first.
    Pending,
    /// A legacy Zendesk API token.
    Legacy,
    /// Discovery could not read it.
    Unknown,
}

impl TokenStatus {
    /// The status as printed.
    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::Ok => "ok",
            TokenStatus::Due => "due",
            TokenStatus::Replace => "replace-requested",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Missing => "missing",
            TokenStatus::ScopeDrift => "scope-drift",
            TokenStatus::Pending => "pending",
            TokenStatus::Legacy => "legacy",
            TokenStatus::Unknown => "unknown",
        }
    }
}

/// Status of a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsumerStatus {
    /// Holds the current value with the declared settings.
    InSync,
    /// Holds a value that is not the current one.
    Stale,
    /// The object or the setting does not exist.
    Missing,
    /// Write-only and tokenops has no fingerprint of what it holds yet.
    Unverifiable,
    /// Holds the right value but its non-secret settings differ.
    Drifted,
    /// A step for a person.
    Manual,
    /// Discovery could not read it.
    Unknown,
}

impl ConsumerStatus {
    /// The status as printed.
    pub fn label(self) -> &'static str {
        match self {
            ConsumerStatus::InSync => "in-sync",
            ConsumerStatus::Stale => "stale",
            ConsumerStatus::Missing => "missing",
            ConsumerStatus::Unverifiable => "unverifiable",
            ConsumerStatus::Drifted => "drifted",
            ConsumerStatus::Manual => "manual",
            ConsumerStatus::Unknown => "unknown",
        }
    }
}

/// One action apply would take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The platform's rotate (or generate_secret) call: the old value dies at once.
    Rotate {
        /// Expiry of the new value, when it has one.
        new_expires_at: Option<Date>,
    },
    /// Create a new credential next to the old one.
    Create {
        /// Expiry of the new value, when it has one.
        new_expires_at: Option<Date>,
    },
    /// Create again a token that is expired, revoked or missing.
    Recreate {
        /// Expiry of the new value, when it has one.
        new_expires_at: Option<Date>,
    },
    /// Write the new value (and the declared settings) to a consumer.
    Write {
        /// Consumer key.
        consumer: String,
    },
    /// Revoke the old value once every consumer holds the new one.
    Revoke {
        /// Platform id of the old record.
        old_platform_id: String,
    },
    /// A step for a person.
    Manual {
        /// What to do.
        instructions: String,
    },
    /// Finish an unfinished rotation.
    Resume {
        /// Last completed step.
        after: String,
    },
}

/// The plan for one token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPlan {
    /// Manifest id.
    pub id: String,
    /// Kind, as in manifests.
    pub kind: String,
    /// Platform instance.
    pub platform: String,
    /// The platform object in words.
    pub object: String,
    /// Live record id, when there is one.
    pub platform_id: Option<String>,
    /// Status.
    pub status: TokenStatus,
    /// Why, in words (`expires in 9 days (2026-12-07); rotate_before is 30d`).
    pub reason: String,
    /// Current expiry.
    pub expires_at: Option<Date>,
    /// Days left before the expiry (negative when past).
    pub days_left: Option<i64>,
    /// A person must act before tokenops will touch this token.
    pub needs_human: bool,
    /// The token is in manual mode: apply prints the actions instead of taking them.
    pub manual_mode: bool,
    /// Actions, in the order apply takes them.
    pub actions: Vec<Action>,
    /// Consumers.
    pub consumers: Vec<ConsumerPlan>,
    /// Things a reviewer should know (a new bot user, retirement dates…).
    pub notes: Vec<String>,
}

impl TokenPlan {
    /// True when the value would change.
    pub fn replaces_value(&self) -> bool {
        self.actions.iter().any(|a| {
            matches!(
                a,
                Action::Rotate { .. } | Action::Create { .. } | Action::Recreate { .. }
            )
        })
    }
}

/// The plan for one consumer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerPlan {
    /// Consumer key.
    pub key: String,
    /// Kind, as in manifests.
    pub kind: String,
    /// The consumer in words.
    pub label: String,
    /// Status.
    pub status: ConsumerStatus,
    /// Why, in words.
    pub reason: String,
    /// Unified diff of non-secret settings (live → declared), when they differ.
    pub diff: Option<String>,
    /// The consumer will be written (with a new value).
    pub write: bool,
}

/// A token found in a discovery scope that no manifest declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Undeclared {
    /// Platform instance.
    pub platform: String,
    /// Kind, as in manifests.
    pub kind: String,
    /// User, project, group or instance it belongs to.
    pub owner: String,
    /// Name or description.
    pub name: String,
    /// Platform id.
    pub platform_id: String,
    /// Expiry.
    pub expires_at: Option<Date>,
    /// Last use.
    pub last_used_at: Option<Timestamp>,
}
