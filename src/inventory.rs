//! Live state, as discovery found it: plain data with no clients inside, so that the plan can
//! be computed (and tested) as a pure function of it.
//!
//! Tokens are keyed by the manifest's token id, consumers by their consumer key (the same key
//! the manifest uses to detect two tokens writing one consumer).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Everything discovery learned.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Inventory {
    /// Declared tokens, by manifest token id.
    pub tokens: BTreeMap<String, LiveToken>,
    /// Declared consumers, by consumer key.
    pub consumers: BTreeMap<String, LiveConsumer>,
    /// Active tokens found in the discovery scopes (`check.discover`), declared or not.
    pub discovered: Vec<DiscoveredToken>,
}

/// What the platform says about one declared token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LiveToken {
    /// The platform has a record for it.
    Found(LiveRecord),
    /// No active or inactive record matches the declaration.
    Missing,
    /// The token has no platform record by nature (a secret tokenops generates itself).
    Unmanaged,
    /// Discovery could not read it; the plan cannot decide anything about this token.
    Unreadable {
        /// What went wrong, for the person reading the plan.
        reason: String,
    },
}

/// A token record as the platform reports it (never the value).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LiveRecord {
    /// The platform's id of the current record (changes on every GitLab rotation).
    pub platform_id: String,
    /// Display name or description.
    pub name: String,
    /// Scopes the record carries, sorted.
    pub scopes: Vec<String>,
    /// Last valid day is the day before this date (GitLab), or the OAuth expiry day.
    pub expires_at: Option<Date>,
    /// Exact expiry when the platform gives one (Zendesk OAuth tokens).
    pub expires_at_time: Option<Timestamp>,
    /// Not revoked and not expired.
    pub active: bool,
    /// Revoked explicitly or by a rotation.
    pub revoked: bool,
    /// When the platform last saw it used.
    pub last_used_at: Option<Timestamp>,
    /// Owner user id (the bot user for project and group tokens).
    pub user_id: Option<u64>,
    /// Role of a project or group token (10..50).
    pub access_level: Option<u32>,
    /// Keyed fingerprint of the value, where the platform shows it in full to its owner
    /// (pipeline trigger tokens).
    pub value_fingerprint: Option<String>,
    /// The username the value signs in with (deploy tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// No field tells how old the value is (a Zendesk client secret tokenops never
    /// replaced): no expiry is reported rather than one made up.
    #[serde(default)]
    pub age_unknown: bool,
}

impl LiveRecord {
    /// The instant the record expires: the exact time when the platform gives one, else the
    /// start (00:00 UTC) of the expiry day.
    pub fn expiry(&self) -> Option<Timestamp> {
        self.expires_at_time
            .or_else(|| self.expires_at.and_then(crate::time::midnight))
    }

    /// Days left until [`LiveRecord::expiry`], by the one rule `plan` and `check` both use
    /// ([`crate::time::days_left`]).
    pub fn days_left(&self, now: Timestamp) -> Option<i64> {
        self.expiry().map(|at| crate::time::days_left(now, at))
    }
}

/// What a consumer holds and how it is configured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LiveConsumer {
    /// The consumer object exists.
    Present {
        /// Non-secret settings, named like the manifest's fields (`masked`, `url`, `auth`…).
        settings: BTreeMap<String, String>,
        /// What is known about the secret value it holds.
        holds: Holds,
    },
    /// The object (variable, hook, webhook, installation or setting) does not exist.
    Missing,
    /// A manual consumer: nothing to discover.
    Manual,
    /// Discovery could not read it.
    Unreadable {
        /// What went wrong.
        reason: String,
    },
}

/// What is known about the secret a consumer holds, without ever keeping the value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Holds {
    /// The value was read back and authenticates as this platform token id.
    AuthenticatesAs(String),
    /// The value was read back and the platform refused it (revoked, expired, unknown).
    Rejected(String),
    /// The value was read back; its keyed fingerprint, for values that cannot introspect.
    Fingerprint(String),
    /// The value cannot be read back (webhook secret, hidden variable, secure setting).
    WriteOnly,
    /// The consumer holds no value at all (an empty setting, a hook without a secret).
    Nothing,
    /// The consumer receives the token's username (not secret): whether it holds the one
    /// the declaration fixes.
    Username {
        /// It holds exactly that username.
        matches: bool,
    },
}

/// An active token found in a discovery scope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiscoveredToken {
    /// Platform instance name.
    pub platform: String,
    /// Token kind, spelled as in manifests (`gitlab_project_access_token`…).
    pub kind: String,
    /// Where it lives: a user name, a project or group path, a Zendesk instance.
    pub owner: String,
    /// The record.
    pub record: LiveRecord,
    /// The manifest token id that declares it, if any.
    pub declared_by: Option<String>,
}
