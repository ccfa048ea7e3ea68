//! The pure half of `tokenops check`: from the declared tokens, what discovery found and the
//! current time, the list of entries (one per token that needs a person's attention) with the
//! suggested action for each. No network, no clock.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::Platform;
use crate::inventory::{DiscoveredToken, Inventory, LiveRecord, LiveToken};
use crate::kinds::tokens::zendesk_api_token::{Deactivation, deactivation};
use crate::kinds::{TokenClass, TokenKindId};
use crate::manifest::{Desired, Mode};
use crate::plan::engine::{ZENDESK_API_TOKEN_END, ZENDESK_API_TOKEN_IDLE_DAYS};
use crate::time::{days_between, days_left, expiry_instant, human_duration, midnight, utc_date};

/// The day since which no Zendesk account can create an API token.
pub const ZENDESK_API_TOKEN_NO_NEW: Date = jiff::civil::date(2026, 10, 27);

/// An undeclared token unused for at least this many days is suggested for revocation.
pub const UNUSED_DAYS: i64 = 90;

/// What a person (or the next apply) should do about one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suggestion {
    /// Declared and due: the next `tokenops apply` rotates it (`auto`), or a person must
    /// (manual mode).
    Rotate {
        /// The next apply does it.
        auto: bool,
    },
    /// Declared but expired, revoked or gone: it cannot be rotated, only created again.
    Recreate,
    /// Not declared and unused for a long time.
    Revoke,
    /// Not declared but in use: add it to a manifest so tokenops keeps it alive.
    Declare,
    /// A legacy Zendesk API token: move its consumers to an OAuth token.
    MigrateToOauth,
}

impl Suggestion {
    /// A short verb for tables.
    pub fn verb(self) -> &'static str {
        match self {
            Suggestion::Rotate { .. } => "rotate",
            Suggestion::Recreate => "recreate",
            Suggestion::Revoke => "revoke",
            Suggestion::Declare => "declare",
            Suggestion::MigrateToOauth => "migrate to OAuth",
        }
    }
}

/// Which manifest entry declares a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    /// The manifest token id.
    pub id: String,
    /// The manifest file.
    pub file: String,
}

/// One token in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Stable key: the platform object, the same on every run (rotation keeps it).
    pub key: String,
    /// Kind, spelled as in manifests.
    pub kind: String,
    /// Platform instance.
    pub platform: String,
    /// Where it lives, in words: `project ops/sync`, `user ops-bot`, `Zendesk global`.
    pub owner: String,
    /// Name, description or OAuth client.
    pub name: String,
    /// The platform's id of the current record.
    pub platform_id: Option<String>,
    /// The manifest entry that declares it.
    pub declared_by: Option<Declaration>,
    /// Where it is used, from the manifest.
    pub consumers: Vec<String>,
    /// The day it stops working (for legacy Zendesk tokens: the earliest deadline).
    pub expires_at: Option<Date>,
    /// Days from the check's time to the expiry, rounded down like the plan's (negative once
    /// past; see [`crate::time::days_left`]).
    pub days_left: Option<i64>,
    /// A legacy Zendesk API token Zendesk already deactivated: it has no deadline left, its
    /// consumers are failing now.
    pub deactivated: bool,
    /// Last use the platform reports.
    pub last_used_at: Option<Timestamp>,
    /// What to do.
    pub suggestion: Suggestion,
    /// One sentence on why, for people.
    pub why: String,
    /// Expires (or must be acted on) within the window.
    pub within_window: bool,
}

/// The whole check result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// When the check ran.
    pub checked_at: Timestamp,
    /// The window in days.
    pub within_days: i64,
    /// Entries, soonest first.
    pub entries: Vec<Entry>,
}

impl Report {
    /// Entries within the window (these make `check` exit 2).
    pub fn urgent(&self) -> usize {
        self.entries.iter().filter(|e| e.within_window).count()
    }
}

/// Classifies every declared and discovered token.
pub fn classify(
    desired: &Desired,
    inventory: &Inventory,
    now: Timestamp,
    within_days: i64,
) -> Report {
    let mut entries = Vec::new();
    let consumers: BTreeMap<String, Vec<String>> = crate::plan::from_manifest(desired)
        .into_iter()
        .map(|t| (t.id, t.consumers.into_iter().map(|c| c.label).collect()))
        .collect();
    for declared in &desired.tokens {
        let spec = &declared.spec;
        let Some((key, owner, name)) = spec.kind.driver().check_identity() else {
            continue;
        };
        let declaration = Some(Declaration {
            id: spec.id.clone(),
            file: desired.shown(&declared.origin.file),
        });
        let mut entry = Entry {
            key,
            kind: spec.kind.key().to_string(),
            platform: spec
                .kind
                .instance()
                .map(|(_, n)| n.to_string())
                .unwrap_or_default(),
            owner,
            name,
            platform_id: None,
            declared_by: declaration,
            consumers: consumers.get(&spec.id).cloned().unwrap_or_default(),
            expires_at: None,
            days_left: None,
            deactivated: false,
            last_used_at: None,
            suggestion: Suggestion::Recreate,
            why: String::new(),
            within_window: true,
        };
        let record = match inventory.tokens.get(&spec.id) {
            Some(LiveToken::Found(record)) => Some(record),
            Some(LiveToken::Missing) => None,
            _ => continue,
        };
        if let Some(record) = record {
            entry.platform_id = Some(record.platform_id.clone());
            entry.last_used_at = record.last_used_at;
            entry.expires_at = record.expires_at;
            entry.days_left = record.days_left(now);
        }
        if spec.kind.id().meta().class == TokenClass::Legacy {
            legacy(&mut entry, record, now, within_days);
            entries.push(entry);
            continue;
        }
        match record {
            None => {
                entry.why = "no live record matches the manifest entry".to_string();
            }
            Some(r) if r.revoked => {
                entry.why = "revoked: it can only be created again".to_string();
            }
            Some(r) if !r.active || r.expiry().is_some_and(|at| at <= now) => {
                entry.why = "expired: it can only be created again".to_string();
            }
            Some(r) => match expiry_instant(r.expires_at_time, r.expires_at) {
                Some(at) if in_window(now, at, within_days) => {
                    let policy = desired.rotation(spec);
                    let auto = policy.mode == Mode::Auto;
                    let before = rotate_before(policy.rotate_before.as_secs());
                    entry.suggestion = Suggestion::Rotate { auto };
                    entry.why = if auto {
                        renewal_words(r, before, now)
                    } else {
                        "the manifest sets `mode: manual`: a person rotates it".to_string()
                    };
                    // A token that lives shorter than the window is always in it: while the
                    // scheduled apply has not reached its renewal, it asks nothing of a
                    // person, so it is listed without counting as needing action.
                    let short_lived = policy.lifetime.as_secs()
                        < u64::try_from(within_days.saturating_mul(86_400)).unwrap_or(u64::MAX);
                    let renewal_ahead = renewal_at(r, before).is_some_and(|due| due > now);
                    entry.within_window = !(auto && short_lived && renewal_ahead);
                }
                _ => continue,
            },
        }
        entries.push(entry);
    }
    for found in inventory
        .discovered
        .iter()
        .filter(|d| d.declared_by.is_none())
    {
        if let Some(entry) = undeclared(found, now, within_days) {
            entries.push(entry);
        }
    }
    entries.sort_by_key(order);
    entries.dedup_by(|a, b| a.key == b.key);
    Report {
        checked_at: now,
        within_days,
        entries,
    }
}

/// Adds an entry for each credential the run signs in with that expires within the window
/// and that no manifest keeps alive; a token discovery already listed gets the words added
/// to its entry instead of a second entry.
pub fn add_credentials(report: &mut Report, unwatched: &[crate::watch::UnwatchedCredential]) {
    for cred in unwatched {
        let found = report.entries.iter_mut().find(|e| {
            e.platform == cred.instance && e.platform_id.as_deref() == Some(&cred.platform_id)
        });
        if let Some(entry) = found {
            entry.why = format!("{}; {}", cred.words(), entry.why);
            entry.suggestion = Suggestion::Declare;
            entry.within_window = true;
            continue;
        }
        let (kind, owner) = match cred.platform {
            Platform::Zendesk => (
                TokenKindId::ZendeskOauthToken,
                format!("Zendesk {}", cred.instance),
            ),
            Platform::GitLab => (
                TokenKindId::GitlabPersonalAccessToken,
                cred.instance.clone(),
            ),
        };
        report.entries.push(Entry {
            key: key(&[
                "credential",
                cred.platform.key(),
                &cred.instance,
                &cred.env_var,
            ]),
            kind: kind.key().to_string(),
            platform: cred.instance.clone(),
            owner,
            name: cred.name.clone(),
            platform_id: Some(cred.platform_id.clone()),
            declared_by: None,
            consumers: vec![format!("tokenops itself ({})", cred.variable())],
            expires_at: Some(cred.expires_at),
            days_left: Some(cred.days_left),
            deactivated: false,
            last_used_at: None,
            suggestion: Suggestion::Declare,
            why: cred.words(),
            within_window: true,
        });
    }
    report.entries.sort_by_key(order);
}

/// Urgent first, soonest first; a declared token with no live record at all leads.
fn order(e: &Entry) -> (bool, i64, String) {
    let days = e
        .days_left
        .unwrap_or(if e.within_window { i64::MIN } else { i64::MAX });
    (!e.within_window, days, e.key.clone())
}

fn undeclared(found: &DiscoveredToken, now: Timestamp, within_days: i64) -> Option<Entry> {
    let record = &found.record;
    let (key, owner) = match TokenKindId::from_key(&found.kind) {
        Some(kind) => (kind.meta().found_identity)(found),
        None => (
            key(&[&found.platform, &found.kind, &found.record.name]),
            found.owner.clone(),
        ),
    };
    let mut entry = Entry {
        key,
        kind: found.kind.clone(),
        platform: found.platform.clone(),
        owner,
        name: record.name.clone(),
        platform_id: Some(record.platform_id.clone()),
        declared_by: None,
        consumers: Vec::new(),
        expires_at: record.expires_at,
        days_left: record.days_left(now),
        deactivated: false,
        last_used_at: record.last_used_at,
        suggestion: Suggestion::Declare,
        why: String::new(),
        within_window: true,
    };
    if found_class(found) == Some(TokenClass::Legacy) {
        legacy(&mut entry, Some(record), now, within_days);
        return Some(entry);
    }
    let expiry = expiry_instant(record.expires_at_time, record.expires_at);
    if !record.active || expiry.is_none_or(|at| !in_window(now, at, within_days)) {
        return None;
    }
    let idle = record.last_used_at.map(|u| days_between(u, now));
    match idle {
        Some(days) if days < UNUSED_DAYS => {
            entry.why = format!(
                "no manifest declares it and it was used {} ago: declare it \
                 (`tokenops import`) so tokenops keeps it alive, or rotate it by hand",
                crate::time::days_words(days)
            );
        }
        Some(days) => {
            entry.suggestion = Suggestion::Revoke;
            entry.why = format!("no manifest declares it and nothing used it for {days} days");
        }
        None if !reports_last_use(found) => {
            entry.why = format!(
                "no manifest declares it, and {} does not say when a {} was last used: declare \
                 it (`tokenops import`) so tokenops keeps it alive, or revoke it if nothing \
                 uses it",
                found.platform,
                kind_words(&found.kind)
            );
        }
        None => {
            entry.suggestion = Suggestion::Revoke;
            entry.why = "no manifest declares it and it was never used".to_string();
        }
    }
    Some(entry)
}

/// Deadlines of a legacy Zendesk API token: the end of all API tokens, and the deactivation
/// of tokens unused for 30 days.
fn legacy(entry: &mut Entry, record: Option<&LiveRecord>, now: Timestamp, within_days: i64) {
    let today = utc_date(now);
    entry.suggestion = Suggestion::MigrateToOauth;
    let mut deadline = ZENDESK_API_TOKEN_END;
    let mut why = format!(
        "legacy Zendesk API token: none can be created since {ZENDESK_API_TOKEN_NO_NEW}, every \
         one stops working on {ZENDESK_API_TOKEN_END}, and one unused for \
         {ZENDESK_API_TOKEN_IDLE_DAYS} days is deactivated before that"
    );
    let used = record.and_then(|r| r.last_used_at).map(utc_date);
    match record.map(|r| deactivation(r.active, r.last_used_at, now)) {
        Some(Deactivation::Done) => {
            why.push_str("; this one is already deactivated: its consumers are failing");
            entry.deactivated = true;
            deadline = today;
        }
        Some(Deactivation::On(off)) => {
            why.push_str(&format!(
                "; last used {}: deactivated on {off} unless used again",
                used.map(|d| d.to_string()).unwrap_or_default()
            ));
            deadline = deadline.min(off);
        }
        Some(Deactivation::AnyDay { idle_days }) => {
            why.push_str(&format!(
                "; last used {} ({idle_days} days ago) and still active: Zendesk may \
                 deactivate it any day",
                used.map(|d| d.to_string()).unwrap_or_default()
            ));
            deadline = today;
        }
        Some(Deactivation::NeverUsed) => {
            why.push_str("; never used: Zendesk may deactivate it at any time")
        }
        None => why.push_str("; Zendesk no longer lists it"),
    }
    match &entry.declared_by {
        Some(d) => why.push_str(&format!(
            ". Move its consumers to a zendesk_oauth_token: `tokenops import --migrate-zendesk {}` \
             writes the entry",
            d.id
        )),
        None => why.push_str(
            ". Declare it (zendesk_api_token), then `tokenops import --migrate-zendesk ID` writes \
             its OAuth replacement",
        ),
    }
    entry.why = why;
    entry.expires_at = Some(deadline);
    let at = midnight(deadline).unwrap_or(now);
    entry.days_left = Some(days_left(now, at));
    entry.within_window = in_window(now, at, within_days);
}

/// True when `at` comes no later than `within_days` whole days after `now` (an exact
/// comparison: 21 days and 12 hours is outside a 21-day window, though it reads "in 21 days").
fn in_window(now: Timestamp, at: Timestamp, within_days: i64) -> bool {
    at.duration_since(now) <= jiff::SignedDuration::from_hours(within_days.saturating_mul(24))
}

/// When the scheduled apply renews `record`: `expiry - rotate_before` (none without an
/// expiry).
fn renewal_at(record: &LiveRecord, rotate_before: jiff::SignedDuration) -> Option<Timestamp> {
    expiry_instant(record.expires_at_time, record.expires_at)
        .and_then(|at| at.checked_sub(rotate_before).ok())
}

fn rotate_before(secs: u64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// What the next apply does about a declared automatic token that expires within the window:
/// renew it now when `rotate_before` has been reached (the plan says `due`), or not before
/// `expiry - rotate_before` (the plan says `ok`).
fn renewal_words(record: &LiveRecord, before: jiff::SignedDuration, now: Timestamp) -> String {
    match renewal_at(record, before) {
        Some(due) if due > now => format!(
            "not due yet: the scheduled `tokenops apply` renews it from {} on ({} before it \
             expires); nothing to do by hand",
            due.strftime("%Y-%m-%d %H:%M UTC"),
            human_duration(before)
        ),
        _ => "due for rotation; nothing to do by hand once `tokenops apply` runs".to_string(),
    }
}

fn reports_last_use(found: &DiscoveredToken) -> bool {
    TokenKindId::from_key(&found.kind).is_none_or(|k| k.meta().last_use)
}

fn found_class(found: &DiscoveredToken) -> Option<TokenClass> {
    TokenKindId::from_key(&found.kind).map(|k| k.meta().class)
}

pub use crate::kinds::entry::key;

/// A token kind in words.
pub fn kind_words(kind: &str) -> &'static str {
    TokenKindId::from_key(kind).map_or("token", |k| k.meta().words)
}
