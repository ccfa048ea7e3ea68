//! Fault injection per route pattern: added latency, errors at a chosen rate and status,
//! connections dropped after the change was applied, and a per-minute request budget judged
//! on the sandbox clock. Randomness comes from a seeded RNG, so tests are deterministic.

use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What to do to requests whose route matches a pattern.
///
/// Patterns are `METHOD PATH` route names as the request log shows them (for example
/// `POST /api/v4/personal_access_tokens/:id/rotate`); `*` matches any run of characters, so
/// `* /api/v2/webhooks*` covers every webhook route and `*` covers everything.
#[derive(Debug, Clone, Default)]
pub struct FaultSpec {
    /// Added before the request is handled.
    pub latency: Duration,
    /// Share of requests (0.0 to 1.0) answered with an error instead of being handled.
    pub error_rate: f64,
    /// Statuses to pick from for injected errors (500 when empty).
    pub statuses: Vec<u16>,
    /// Share of requests (0.0 to 1.0) that are applied, then have their connection reset
    /// before any response is sent: the client cannot know the outcome.
    pub drop_after_apply: f64,
    /// Requests per sandbox-clock minute; the next ones get 429 with `Retry-After`.
    pub budget_per_minute: Option<u32>,
    /// Affect at most this many matching requests, then stop (None: no limit).
    pub times: Option<u32>,
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Handle it; reset the connection afterwards when `drop` is set. `budget` is the
    /// rule's (limit, remaining, reset epoch second) when it has a budget.
    Proceed {
        drop: bool,
        budget: Option<(u32, u32, i64)>,
    },
    /// Answer with this status without handling it.
    Fail(u16),
    /// Answer 429; retry after this many seconds.
    RateLimited(u64),
}

struct Rule {
    pattern: String,
    spec: FaultSpec,
    window: i64,
    used: u32,
}

/// The fault rules of one sandbox.
pub struct Faults {
    inner: Mutex<(Vec<Rule>, StdRng)>,
}

impl Faults {
    pub(crate) fn new(seed: u64) -> Self {
        Faults {
            inner: Mutex::new((Vec::new(), StdRng::seed_from_u64(seed ^ 0x5eed_fa17))),
        }
    }

    /// Sets (or replaces) the rule for `pattern`.
    pub fn set(&self, pattern: &str, spec: FaultSpec) {
        let mut guard = self.inner.lock().expect("faults lock");
        guard.0.retain(|r| r.pattern != pattern);
        guard.0.push(Rule {
            pattern: pattern.to_string(),
            spec,
            window: i64::MIN,
            used: 0,
        });
    }

    /// Removes the rule for `pattern`.
    pub fn remove(&self, pattern: &str) {
        self.inner
            .lock()
            .expect("faults lock")
            .0
            .retain(|r| r.pattern != pattern);
    }

    /// Every rule, in the order they are tried.
    pub fn rules(&self) -> Vec<(String, FaultSpec)> {
        self.inner
            .lock()
            .expect("faults lock")
            .0
            .iter()
            .map(|r| (r.pattern.clone(), r.spec.clone()))
            .collect()
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.inner.lock().expect("faults lock").0.clear();
    }

    /// Decides the fate of one request on `route`; returns the latency to add too.
    pub(crate) fn decide(&self, route: &str, now: Timestamp) -> (Duration, Decision) {
        let mut guard = self.inner.lock().expect("faults lock");
        let (rules, rng) = &mut *guard;
        let Some(rule) = rules.iter_mut().find(|r| glob(&r.pattern, route)) else {
            return (
                Duration::ZERO,
                Decision::Proceed {
                    drop: false,
                    budget: None,
                },
            );
        };
        if let Some(left) = rule.spec.times.as_mut() {
            if *left == 0 {
                return (
                    Duration::ZERO,
                    Decision::Proceed {
                        drop: false,
                        budget: None,
                    },
                );
            }
            *left -= 1;
        }
        let latency = rule.spec.latency;
        let mut budget_state = None;
        if let Some(budget) = rule.spec.budget_per_minute {
            let second = now.as_second();
            let window = second.div_euclid(60);
            if rule.window != window {
                rule.window = window;
                rule.used = 0;
            }
            if rule.used >= budget {
                let retry = (60 - second.rem_euclid(60)) as u64;
                return (latency, Decision::RateLimited(retry));
            }
            rule.used += 1;
            budget_state = Some((budget, budget - rule.used, (window + 1) * 60));
        }
        if rule.spec.error_rate > 0.0 && rng.random::<f64>() < rule.spec.error_rate {
            let status = if rule.spec.statuses.is_empty() {
                500
            } else {
                rule.spec.statuses[rng.random_range(0..rule.spec.statuses.len())]
            };
            return (latency, Decision::Fail(status));
        }
        let drop =
            rule.spec.drop_after_apply > 0.0 && rng.random::<f64>() < rule.spec.drop_after_apply;
        (
            latency,
            Decision::Proceed {
                drop,
                budget: budget_state,
            },
        )
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_runs() {
        assert!(glob("*", "GET /api/v4/user"));
        assert!(glob(
            "POST */rotate",
            "POST /api/v4/personal_access_tokens/:id/rotate"
        ));
        assert!(!glob(
            "POST */rotate",
            "GET /api/v4/personal_access_tokens/:id/rotate"
        ));
        assert!(glob("GET /api/v4/user", "GET /api/v4/user"));
        assert!(!glob("GET /api/v4/user", "GET /api/v4/users"));
    }
}
