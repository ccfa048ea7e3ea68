//! The request log and its counters (per route, per status), readable by tests and benches.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

/// The log keeps at most this many entries (the oldest half goes first); counters keep
/// counting, so a long-running `tokenops sandbox` does not grow without bound.
pub const MAX_ENTRIES: usize = 1_000_000;

/// One request as the sandbox saw it. The path never holds a secret (secrets travel in
/// headers and bodies), and the query string is not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `gitlab/<name>` or `zendesk/<name>`.
    pub instance: String,
    /// HTTP method.
    pub method: String,
    /// The route pattern, e.g. `POST /api/v4/personal_access_tokens/:id/rotate`.
    pub route: String,
    /// The request path below the instance base URL.
    pub path: String,
    /// The status answered; 0 when the connection was reset instead.
    pub status: u16,
    /// Sandbox time of the request.
    pub at: Timestamp,
}

/// A snapshot of the log with its counters.
#[derive(Debug, Clone, Default)]
pub struct RequestStats {
    /// Every request, oldest first.
    pub entries: Vec<LoggedRequest>,
    /// Requests per route pattern.
    pub by_route: BTreeMap<String, u64>,
    /// Requests per status (0 = connection reset).
    pub by_status: BTreeMap<u16, u64>,
    /// Requests per (route, status).
    pub by_route_status: BTreeMap<(String, u16), u64>,
    /// All requests.
    pub total: u64,
}

impl RequestStats {
    /// How many requests hit `route`.
    pub fn count(&self, route: &str) -> u64 {
        self.by_route.get(route).copied().unwrap_or(0)
    }
    /// How many requests hit `route` and got `status`.
    pub fn count_status(&self, route: &str, status: u16) -> u64 {
        self.by_route_status
            .get(&(route.to_string(), status))
            .copied()
            .unwrap_or(0)
    }
}

/// The log itself.
#[derive(Default)]
pub struct RequestLog {
    inner: Mutex<RequestStats>,
}

impl RequestLog {
    pub(crate) fn record(&self, entry: LoggedRequest) {
        let mut s = self.inner.lock().expect("log lock");
        s.total += 1;
        *s.by_route.entry(entry.route.clone()).or_default() += 1;
        *s.by_status.entry(entry.status).or_default() += 1;
        *s.by_route_status
            .entry((entry.route.clone(), entry.status))
            .or_default() += 1;
        if s.entries.len() >= MAX_ENTRIES {
            s.entries.drain(..MAX_ENTRIES / 2);
        }
        s.entries.push(entry);
    }

    /// A copy of the log and counters.
    pub fn snapshot(&self) -> RequestStats {
        self.inner.lock().expect("log lock").clone()
    }

    /// Empties the log and zeroes the counters.
    pub fn clear(&self) {
        *self.inner.lock().expect("log lock") = RequestStats::default();
    }
}
