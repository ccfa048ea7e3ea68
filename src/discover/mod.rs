//! Discovery: reads, concurrently and with as few requests as the plan needs, the live record
//! of every declared token and the live state of every declared consumer, and returns an
//! [`Inventory`] (plain data). Each list is fetched once however many tokens or consumers
//! need it; which lists, and how their answers are matched, each kind's driver says
//! ([`crate::kinds`]). Values found in consumers are checked against the ledger's fingerprint
//! first and introspected on the platform only when that does not settle it.
//!
//! Any read that fails is reported; the plan is never made from a partial picture.

mod bots;
pub mod credentials;
mod enterprise;
pub mod fetch;
pub mod lists;
mod scope;

use jiff::Timestamp;
use secrecy::SecretString;

use crate::clients::Clients;
use crate::inventory::Inventory;
use crate::kinds::{ConsumerLiveCx, TokenLiveCx};
use crate::ledger::Ledger;
use crate::manifest::Desired;

pub use lists::{Fetched, ListKey};
pub use scope::ScanKinds;

/// Discovery could not read everything the plan needs.
#[derive(Debug, thiserror::Error)]
#[error("discovery failed for {} object(s):\n{}", .failures.len(), render_failures(.failures))]
pub struct DiscoverError {
    /// Each object that could not be read, with why.
    pub failures: Vec<Failure>,
}

/// One object that could not be read.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The manifest token or consumer that needed it.
    pub needed_by: String,
    /// What went wrong; platform errors name the platform object and the fix.
    pub reason: String,
}

fn render_failures(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(|f| format!("  - {} (needed by {})", f.reason, f.needed_by))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The key under which fingerprints are computed: the ledger's own key, or a fixed one before
/// the ledger has a key (fingerprints must be stable between plan and apply).
pub fn fingerprint_of(ledger: &Ledger, value: &SecretString) -> String {
    if let Some(fp) = ledger.fingerprint(value) {
        return fp;
    }
    let unkeyed = Ledger {
        fingerprint_key: "tokenops-unkeyed".to_string(),
        ..Ledger::default()
    };
    unkeyed.fingerprint(value).unwrap_or_default()
}

/// Reads live state for every declared token and consumer.
pub async fn discover(
    desired: &Desired,
    ledger: &Ledger,
    clients: &Clients,
    now: Timestamp,
    scan: Option<ScanKinds>,
) -> Result<Inventory, DiscoverError> {
    let needs = fetch::needs(desired);
    let mut fetched = fetch::run(&needs, clients).await;
    let mut failures = Vec::new();
    let mut inventory_discovered = Vec::new();
    if let Some(kinds) = scan {
        let (found, scope_failures) = scope::scan(desired, clients, &mut fetched, kinds).await;
        failures.extend(scope_failures);
        inventory_discovered = found;
    }
    let mut inventory = Inventory {
        discovered: std::mem::take(&mut inventory_discovered),
        ..Inventory::default()
    };
    let mut probes = Vec::new();
    for token in &desired.tokens {
        let spec = &token.spec;
        let cx = TokenLiveCx {
            spec,
            fetched: &fetched,
            ledger,
            policy: desired.rotation(spec),
            now,
        };
        let live = match spec.kind.driver().live(&cx) {
            Ok(live) => live,
            Err(reason) => {
                if let Some(reason) = reason {
                    failures.push(Failure {
                        needed_by: format!("token {}", spec.id),
                        reason,
                    });
                }
                continue;
            }
        };
        inventory.tokens.insert(spec.id.clone(), live);
        for consumer in &spec.consumers {
            let Some(key) = consumer.key() else { continue };
            let mut cx = ConsumerLiveCx {
                token: spec,
                key: &key.0,
                fetched: &fetched,
                ledger,
                probes: &mut probes,
            };
            match consumer.driver().live(&mut cx) {
                Ok(state) => {
                    inventory.consumers.insert(key.0, state);
                }
                Err(Some(reason)) => failures.push(Failure {
                    needed_by: format!("consumer {key} of token {}", spec.id),
                    reason,
                }),
                Err(None) => {}
            }
        }
    }
    for (key, holds) in fetch::probe_all(probes, clients).await {
        match holds {
            Ok(holds) => {
                if let Some(crate::inventory::LiveConsumer::Present { holds: slot, .. }) =
                    inventory.consumers.get_mut(&key)
                {
                    *slot = holds;
                }
            }
            Err(reason) => failures.push(Failure {
                needed_by: format!("consumer {key}"),
                reason,
            }),
        }
    }
    failures.extend(fetched.failures());
    if failures.is_empty() {
        Ok(inventory)
    } else {
        Err(DiscoverError { failures })
    }
}
