//! The credentials a run signs in with, and which of them nobody keeps alive. The edge says
//! which variable each instance's credential came from ([`RunCredential`]); discovery asks
//! the platform once per credential what it is ([`CredentialFact`]); [`unwatched`] decides,
//! as a pure function of those facts, the manifests, the inventory and `now`, which ones
//! expire within the check window without a manifest entry, for `plan`'s warnings and
//! `check`'s report.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Platform;
use std::collections::BTreeMap;

use crate::inventory::{Inventory, LiveToken};
use crate::manifest::Desired;
use crate::time::{days_left, expiry_instant, utc_date};

/// The README section that says how to declare tokenops's own credentials.
pub const README_SECTION: &str = "README.md, \"Pipelines and credentials\"";

/// One credential the run signs in with, as the edge resolved it (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCredential {
    /// The platform.
    pub platform: Platform,
    /// The instance name in tokenops.yaml.
    pub instance: String,
    /// The environment variable that held it.
    pub env_var: String,
    /// The CI/CD variable the pipeline template sets it from, when the template does
    /// (`GITLAB_READ_TOKEN` from `TOKENOPS_READ_TOKEN`).
    pub ci_variable: Option<String>,
    /// It is the instance's own credential (`token_env`, `oauth_token_env` or their
    /// `TOKENOPS_*_TOKEN` override), the one a `tokenops_credential` consumer keeps alive;
    /// false for a read credential or the merge-request note's token.
    pub own: bool,
    /// A job token (`CI_JOB_TOKEN`) or a legacy Zendesk API token: the platform keeps no
    /// record to ask about, so the run does not ask.
    pub no_record: bool,
}

/// What the platform says about a credential the run signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// The platform's id of the record.
    pub platform_id: String,
    /// Its name (GitLab) or client id (Zendesk), for people.
    pub name: String,
    /// The day it stops working (GitLab: at 00:00 UTC).
    pub expires_at: Option<Date>,
    /// The instant it stops working, when the platform gives one (Zendesk).
    pub expires_at_time: Option<Timestamp>,
}

/// A credential of the run and its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFact {
    /// What the edge resolved.
    pub credential: RunCredential,
    /// What the platform answered.
    pub record: CredentialRecord,
}

/// A credential the run signs in with that expires within the check window and that no
/// manifest keeps alive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwatchedCredential {
    /// GitLab or Zendesk (`gitlab` or `zendesk` in JSON).
    pub platform: crate::Platform,
    /// The instance name.
    pub instance: String,
    /// The environment variable that holds it.
    pub env_var: String,
    /// The CI/CD variable the pipeline template sets it from, when the template does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_variable: Option<String>,
    /// The platform's id of its record.
    pub platform_id: String,
    /// Its name on the platform.
    pub name: String,
    /// The day it stops working.
    pub expires_at: Date,
    /// Whole days left (see [`crate::time::days_left`]).
    pub days_left: i64,
    /// What to do, in words: the manifest entry to add and where the README explains it.
    pub fix: String,
}

impl UnwatchedCredential {
    /// The variable in words: `GITLAB_READ_TOKEN (from the CI/CD variable
    /// TOKENOPS_READ_TOKEN)`.
    pub fn variable(&self) -> String {
        match &self.ci_variable {
            Some(ci) => format!("{} (from the CI/CD variable {ci})", self.env_var),
            None => self.env_var.clone(),
        }
    }

    /// One sentence for a plan warning or a check entry.
    pub fn words(&self) -> String {
        format!(
            "{env} (the credential tokenops signs in to {platform} `{instance}` with, token {id}) \
             expires on {date}, in {days}, and no manifest keeps it alive: {fix}",
            env = self.variable(),
            platform = self.platform,
            instance = self.instance,
            id = self.platform_id,
            date = self.expires_at,
            days = crate::time::days_words(self.days_left.max(0)),
            fix = self.fix,
        )
    }
}

/// The platform id of each declared token's live record in `inventory`, by token id.
pub fn live_ids(inventory: &Inventory) -> BTreeMap<String, String> {
    inventory
        .tokens
        .iter()
        .filter_map(|(id, live)| match live {
            LiveToken::Found(r) => Some((id.clone(), r.platform_id.clone())),
            _ => None,
        })
        .collect()
}

/// The credentials of `facts` that expire within `within_days` of `now` and are not
/// declared: no declared token's live record (`live_ids`) has their id, and, for an
/// instance's own credential, no declared token has a `tokenops_credential` consumer for
/// that instance.
pub fn unwatched(
    facts: &[CredentialFact],
    desired: &Desired,
    live_ids: &BTreeMap<String, String>,
    now: Timestamp,
    within_days: i64,
) -> Vec<UnwatchedCredential> {
    let mut out = Vec::new();
    for fact in facts {
        let cred = &fact.credential;
        let record = &fact.record;
        let Some(at) = expiry_instant(record.expires_at_time, record.expires_at) else {
            continue;
        };
        let window = jiff::SignedDuration::from_hours(within_days.saturating_mul(24));
        if at.duration_since(now) > window {
            continue;
        }
        if declared(cred, &record.platform_id, desired, live_ids) {
            continue;
        }
        out.push(UnwatchedCredential {
            platform: cred.platform,
            instance: cred.instance.clone(),
            env_var: cred.env_var.clone(),
            ci_variable: cred.ci_variable.clone(),
            platform_id: record.platform_id.clone(),
            name: record.name.clone(),
            expires_at: record.expires_at.unwrap_or_else(|| utc_date(at)),
            days_left: days_left(now, at),
            fix: fix(cred),
        });
    }
    out
}

fn declared(
    cred: &RunCredential,
    platform_id: &str,
    desired: &Desired,
    live_ids: &BTreeMap<String, String>,
) -> bool {
    desired.tokens.iter().any(|declared| {
        let spec = &declared.spec;
        let here = spec.kind.instance() == Some((cred.platform, cred.instance.as_str()));
        let same_record = live_ids.get(&spec.id).is_some_and(|id| id == platform_id);
        let keeps_own =
            cred.own && spec.run_credential() == Some((cred.platform, cred.instance.as_str()));
        (here && same_record) || keeps_own
    })
}

/// The manifest entry that keeps the credential alive, in words.
fn fix(cred: &RunCredential) -> String {
    let instance = &cred.instance;
    let holder = match &cred.ci_variable {
        Some(ci) => format!("the CI/CD variable {ci}"),
        None => format!("the CI/CD variable that holds {}", cred.env_var),
    };
    match (cred.platform, cred.own) {
        (Platform::GitLab, true) => format!(
            "declare the token (`tokenops import` writes its entry) and give it the consumers \
             `tokenops_credential: {{ gitlab: {instance} }}` and {holder}, so that apply rotates it and the next run signs in with the new value \
             (see {README_SECTION})"
        ),
        (Platform::GitLab, false) => format!(
            "declare the token (`tokenops import` writes its entry) with {holder} as its \
             consumer, so that apply rotates it and writes the new \
             value there (see {README_SECTION})"
        ),
        (Platform::Zendesk, _) => format!(
            "declare it as a zendesk_oauth_token with {holder} as its consumer, or sign in with a declared OAuth client (`tokenops_credential: \
             {{ zendesk: {instance} }}` on its zendesk_oauth_client_secret), so that apply \
             renews it (see {README_SECTION})"
        ),
    }
}
