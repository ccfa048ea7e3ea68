//! The one retry policy of the crate: which request classes may be sent again after which
//! failures, the exponential backoff with jitter between attempts (backon), and how long a 429
//! asks the client to wait (`Retry-After`, else `RateLimit-Reset`, else the backoff).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::HeaderMap;

/// How safe it is to send a request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestClass {
    /// GET: retried on connection errors, timeouts, 5xx and 429.
    Read,
    /// PUT, PATCH or DELETE of a known object: repeating it leaves the same end state, so it is
    /// retried like a read.
    IdempotentWrite,
    /// Rotate, create, mint, generate a secret: a repeat could do the thing twice (or, for a
    /// GitLab rotate, revoke the whole token family). Sent again only when it certainly never
    /// left (connection refused) or when the platform answered 429.
    NonIdempotent,
}

/// What to do after one attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be opened: nothing was sent.
    NotSent,
    /// The request may have been sent, but no complete answer came (timeout, reset).
    Lost,
    /// The platform answered 5xx.
    ServerError,
}

impl RequestClass {
    /// Whether this class may be sent again after `failure`.
    pub fn may_retry(self, failure: Failure) -> bool {
        match (self, failure) {
            (_, Failure::NotSent) => true,
            (RequestClass::NonIdempotent, _) => false,
            (RequestClass::Read | RequestClass::IdempotentWrite, _) => true,
        }
    }
}

/// The backoff between attempts: exponential from `base`, capped at `max`, with jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt (not counting 429 waits).
    pub max_retries: usize,
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl RetryPolicy {
    /// The delays for one request, one per allowed retry.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.max)
            .with_factor(2.0)
            .with_max_times(self.max_retries)
            .with_jitter()
            .build()
    }
}

/// How long a 429 response asks to wait: `Retry-After` (seconds or an HTTP date), else
/// `RateLimit-Reset` (GitLab: Unix epoch seconds; Zendesk: seconds from now), else `None`.
pub fn rate_limit_wait(headers: &HeaderMap, unix_now: i64) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(when) = jiff::fmt::rfc2822::parse(value) {
            let secs = when.timestamp().as_second() - unix_now;
            return Some(Duration::from_secs(secs.max(0) as u64));
        }
    }
    if let Some(n) = header("ratelimit-reset").and_then(|v| v.parse::<i64>().ok()) {
        // Anything past the year 2001 is an epoch; smaller numbers are a delta.
        let secs = if n > 1_000_000_000 { n - unix_now } else { n };
        return Some(Duration::from_secs(secs.max(0) as u64));
    }
    None
}

/// What an answer says about the platform's request window: how many requests it still
/// accepts and when the window resets (Unix seconds), from `RateLimit-Remaining` and
/// `RateLimit-Reset`. `None` when either is missing or the reset is more than `horizon` away.
pub fn platform_window(
    headers: &HeaderMap,
    unix_now: i64,
    horizon: Duration,
) -> Option<(u64, i64)> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let remaining = header("ratelimit-remaining")?.parse::<u64>().ok()?;
    let reset = header("ratelimit-reset")?.parse::<i64>().ok()?;
    let epoch = if reset > 1_000_000_000 {
        reset
    } else {
        unix_now + reset
    };
    let ahead = epoch - unix_now;
    (ahead >= 0 && ahead as u64 <= horizon.as_secs()).then_some((remaining, epoch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn classes() {
        use Failure::*;
        use RequestClass::*;
        assert!(NonIdempotent.may_retry(NotSent));
        assert!(!NonIdempotent.may_retry(Lost));
        assert!(!NonIdempotent.may_retry(ServerError));
        assert!(Read.may_retry(Lost) && IdempotentWrite.may_retry(ServerError));
    }

    #[test]
    fn waits() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(&h, 1000), None);
        h.insert("ratelimit-reset", HeaderValue::from_static("1700000030"));
        assert_eq!(
            rate_limit_wait(&h, 1_700_000_000),
            Some(Duration::from_secs(30))
        );
        h.insert("ratelimit-reset", HeaderValue::from_static("41"));
        assert_eq!(
            rate_limit_wait(&h, 1_700_000_000),
            Some(Duration::from_secs(41))
        );
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(rate_limit_wait(&h, 0), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Thu, 01 Jan 1970 00:01:00 GMT"),
        );
        assert_eq!(rate_limit_wait(&h, 20), Some(Duration::from_secs(40)));
    }

    #[test]
    fn platform_windows() {
        let horizon = Duration::from_secs(300);
        let mut h = HeaderMap::new();
        h.insert("ratelimit-remaining", HeaderValue::from_static("17"));
        assert_eq!(platform_window(&h, 1_700_000_000, horizon), None);
        h.insert("ratelimit-reset", HeaderValue::from_static("1700000042"));
        assert_eq!(
            platform_window(&h, 1_700_000_000, horizon),
            Some((17, 1_700_000_042))
        );
        // Zendesk: seconds from now.
        h.insert("ratelimit-reset", HeaderValue::from_static("12"));
        assert_eq!(platform_window(&h, 500, horizon), Some((17, 512)));
        // A reset beyond the horizon, or in the past, says nothing usable.
        h.insert("ratelimit-reset", HeaderValue::from_static("1700009999"));
        assert_eq!(platform_window(&h, 1_700_000_000, horizon), None);
        h.insert("ratelimit-reset", HeaderValue::from_static("1699999999"));
        assert_eq!(platform_window(&h, 1_700_000_000, horizon), None);
    }

    #[test]
    fn delays_grow_and_stop() {
        let policy = RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(100),
            max: Duration::from_secs(10),
        };
        let delays: Vec<_> = policy.delays().collect();
        assert_eq!(delays.len(), 3);
        assert!(delays[0] >= Duration::from_millis(100));
    }
}
