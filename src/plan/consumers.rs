//! The status of each consumer: whether it holds the current value (read back, introspected,
//! or known from the ledger's fingerprints) and whether its non-secret settings match the
//! manifest, shown as a unified diff.

use std::collections::BTreeMap;

use super::desired::DesiredConsumer;
use super::{ConsumerPlan, ConsumerStatus};
use crate::inventory::{Holds, Inventory, LiveConsumer, LiveRecord};
use crate::ledger::LedgerToken;

/// The status of one consumer of a token.
pub(super) fn consumer_plan(
    consumer: &DesiredConsumer,
    record: Option<&LiveRecord>,
    remembered: Option<&LedgerToken>,
    inventory: &Inventory,
) -> ConsumerPlan {
    let mut plan = ConsumerPlan {
        key: consumer.key.clone(),
        kind: consumer.kind.clone(),
        label: consumer.label.clone(),
        status: ConsumerStatus::InSync,
        reason: String::new(),
        diff: None,
        write: false,
    };
    if consumer.instructions.is_some() {
        plan.status = ConsumerStatus::Manual;
        plan.reason = "a person updates it".to_string();
        return plan;
    }
    let (settings, holds) = match inventory.consumers.get(&consumer.key) {
        Some(LiveConsumer::Present { settings, holds }) => (settings, holds),
        Some(LiveConsumer::Missing) => {
            plan.status = ConsumerStatus::Missing;
            plan.reason = "does not exist".to_string();
            return plan;
        }
        Some(LiveConsumer::Unreadable { reason }) => {
            plan.status = ConsumerStatus::Unknown;
            plan.reason = format!("discovery could not read it: {reason}");
            return plan;
        }
        Some(LiveConsumer::Manual) | None => {
            plan.status = ConsumerStatus::Unknown;
            plan.reason = "discovery did not report it".to_string();
            return plan;
        }
    };
    let current_fp = remembered
        .and_then(|r| r.fingerprint.as_deref())
        .or_else(|| record.and_then(|r| r.value_fingerprint.as_deref()));
    let (status, reason) = match holds {
        Holds::AuthenticatesAs(id) => match record {
            Some(r) if &r.platform_id == id && r.active => (
                ConsumerStatus::InSync,
                "holds the current value".to_string(),
            ),
            _ => (
                ConsumerStatus::Stale,
                format!("holds a value that authenticates as token {id}, not the current one"),
            ),
        },
        Holds::Rejected(why) => (
            ConsumerStatus::Stale,
            format!("holds a value the platform refuses ({why})"),
        ),
        Holds::Fingerprint(fp) => match current_fp {
            Some(current) if current == fp => (
                ConsumerStatus::InSync,
                "holds the current value".to_string(),
            ),
            Some(_) => (
                ConsumerStatus::Stale,
                "holds a value that is not the current one".to_string(),
            ),
            None => (
                ConsumerStatus::Unverifiable,
                "tokenops has no fingerprint of the current value yet".to_string(),
            ),
        },
        Holds::WriteOnly => {
            let given = remembered.and_then(|r| r.consumers.get(&consumer.key));
            match (given, current_fp) {
                (Some(given), Some(current)) if given == current => (
                    ConsumerStatus::InSync,
                    "write-only; tokenops wrote the current value".to_string(),
                ),
                (Some(_), Some(_)) => (
                    ConsumerStatus::Stale,
                    "write-only; tokenops last wrote an older value".to_string(),
                ),
                _ => (
                    ConsumerStatus::Unverifiable,
                    "write-only, not yet written by tokenops; verifiable after the next rotation"
                        .to_string(),
                ),
            }
        }
        Holds::Nothing => (ConsumerStatus::Missing, "holds no value".to_string()),
        Holds::Username { matches: true } => (
            ConsumerStatus::InSync,
            "holds the token's username".to_string(),
        ),
        Holds::Username { matches: false } => (
            ConsumerStatus::Stale,
            "holds another username than the token's".to_string(),
        ),
    };
    plan.status = status;
    plan.reason = reason;
    let diff = settings_diff(settings, &consumer.settings);
    if let Some(diff) = diff {
        if plan.status == ConsumerStatus::InSync || plan.status == ConsumerStatus::Unverifiable {
            plan.status = ConsumerStatus::Drifted;
            plan.reason = "its settings differ from the manifest".to_string();
        }
        plan.diff = Some(diff);
    }
    plan
}

/// A unified diff of the declared settings against the live ones, or `None` if they agree.
/// Only keys the manifest declares are compared.
pub fn settings_diff(
    live: &BTreeMap<String, String>,
    declared: &BTreeMap<String, String>,
) -> Option<String> {
    let mut before = String::new();
    let mut after = String::new();
    let mut differ = false;
    for (key, want) in declared {
        let have = live.get(key);
        if have != Some(want) {
            differ = true;
        }
        match have {
            Some(have) => before.push_str(&format!("{key}: {have}\n")),
            None => before.push_str(&format!("{key}: (not set)\n")),
        }
        after.push_str(&format!("{key}: {want}\n"));
    }
    if !differ {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&before, &after);
    Some(
        diff.unified_diff()
            .context_radius(10)
            .header("live", "manifest")
            .to_string(),
    )
}
