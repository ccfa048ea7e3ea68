//! The tunables of one platform client (concurrency, request budget, timeouts, retries and
//! the most it may wait), with each platform's defaults.

use std::time::Duration;

use super::RetryPolicy;
use crate::Platform;

/// The default of [`ClientSettings::max_wait`]: five minutes of waiting on the platform.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(300);

/// Tunables of one client.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests allowed in any 60-second window.
    pub requests_per_minute: u32,
    /// Per-request timeout (connect to last byte).
    pub timeout: Duration,
    /// Retries after a failed attempt (5xx, timeout, connection), not counting 429 waits.
    pub max_retries: usize,
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_max: Duration,
    /// How many 429 answers a request may wait out before giving up.
    pub max_rate_limit_waits: usize,
    /// The longest `Retry-After` honoured; a longer demand fails with `RateLimited`.
    pub max_retry_after: Duration,
    /// The most this client may spend in all waiting on the platform (429 pauses, its
    /// exhausted rate-limit window, backoff after failures) beyond what its own request budget
    /// imposes; a wait that would pass it fails with `WaitLimit` instead.
    pub max_wait: Duration,
}

impl ClientSettings {
    /// Defaults for GitLab: 16 requests in flight, and GitLab.com's 2,000 authenticated
    /// requests per minute. The budget's sliding window never puts more than that into one of
    /// GitLab's fixed minutes, and the `RateLimit-*` headers of its answers (which count other
    /// clients of the same account too) hold requests before the platform would refuse them.
    pub fn gitlab() -> Self {
        ClientSettings {
            concurrency: 16,
            requests_per_minute: 2000,
            ..Self::common()
        }
    }

    /// Defaults for Zendesk: 97.5% of the common 400 requests per minute plan limit.
    pub fn zendesk() -> Self {
        ClientSettings {
            requests_per_minute: 390,
            ..Self::common()
        }
    }

    /// The defaults for `platform`.
    pub fn for_platform(platform: Platform) -> Self {
        match platform {
            Platform::GitLab => Self::gitlab(),
            Platform::Zendesk => Self::zendesk(),
        }
    }

    fn common() -> Self {
        ClientSettings {
            concurrency: 8,
            requests_per_minute: 360,
            timeout: Duration::from_secs(30),
            max_retries: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_rate_limit_waits: 10,
            max_retry_after: Duration::from_secs(300),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    pub(super) fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            base: self.backoff_base,
            max: self.backoff_max,
        }
    }
}
