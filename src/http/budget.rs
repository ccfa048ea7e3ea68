//! The per-instance request budget (at most N requests in any 60-second window, so tokenops
//! stays under the platform's per-minute limit instead of hitting it) and the `Clock` it and
//! the retry waits run on. The clock is injectable so tests can move time by hand.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use tokio::sync::Mutex;

/// A boxed future returned by [`Clock::sleep`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Time as the HTTP layer sees it: a monotonic reading, the Unix time (for `RateLimit-Reset`
/// headers that carry an epoch), and a way to wait.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic time since an arbitrary origin.
    fn elapsed(&self) -> Duration;
    /// Seconds since the Unix epoch.
    fn unix_seconds(&self) -> i64;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep<'_>;
}

/// The real clock: tokio timers and the system time.
#[derive(Debug)]
pub struct SystemClock {
    origin: tokio::time::Instant,
}

impl SystemClock {
    /// A clock whose monotonic origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
    fn unix_seconds(&self) -> i64 {
        jiff::Timestamp::now().as_second()
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when someone sleeps on it: each sleep advances it at once. Tests
/// and benchmarks use it to check budgets and waits without spending wall time.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: StdMutex<Duration>,
    unix_origin: i64,
    slept: StdMutex<Vec<Duration>>,
}

impl ManualClock {
    /// A clock at monotonic zero whose Unix time starts at `unix_origin`.
    pub fn new(unix_origin: i64) -> Self {
        ManualClock {
            now: StdMutex::new(Duration::ZERO),
            unix_origin,
            slept: StdMutex::new(Vec::new()),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.now.lock().expect("clock lock") += by;
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().expect("clock lock").clone()
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        *self.now.lock().expect("clock lock")
    }
    fn unix_seconds(&self) -> i64 {
        self.unix_origin + self.elapsed().as_secs() as i64
    }
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.slept.lock().expect("clock lock").push(duration);
        self.advance(duration);
        Box::pin(tokio::task::yield_now())
    }
}

/// At most `per_minute` requests in any 60-second window (a sliding window: stricter than a
/// token bucket, whose burst plus refill could exceed the limit within one minute).
pub struct Budget {
    per_minute: usize,
    window: Duration,
    state: Mutex<Window>,
    clock: Arc<dyn Clock>,
}

/// The requests sent in the current window, and a pause the platform asked for.
struct Window {
    sent: VecDeque<Duration>,
    resume_at: Duration,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("per_minute", &self.per_minute)
            .finish()
    }
}

impl Budget {
    /// A budget of `per_minute` requests (at least 1) on `clock`.
    pub fn new(per_minute: u32, clock: Arc<dyn Clock>) -> Self {
        let per_minute = per_minute.max(1) as usize;
        Budget {
            per_minute,
            window: Duration::from_secs(60),
            state: Mutex::new(Window {
                sent: VecDeque::with_capacity(per_minute.min(4096)),
                resume_at: Duration::ZERO,
            }),
            clock,
        }
    }

    /// The configured requests per minute.
    pub fn per_minute(&self) -> usize {
        self.per_minute
    }

    /// Waits until one more request fits in the window, then records it. Waiters are served
    /// in arrival order (tokio's mutex is fair).
    pub async fn acquire(&self) {
        let mut state = self.state.lock().await;
        loop {
            let now = self.clock.elapsed();
            if now < state.resume_at {
                let wait = state.resume_at - now;
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "instance paused; waiting"
                );
                self.clock.sleep(wait).await;
                continue;
            }
            let sent = &mut state.sent;
            while let Some(&oldest) = sent.front() {
                if oldest + self.window <= now {
                    sent.pop_front();
                } else {
                    break;
                }
            }
            if sent.len() < self.per_minute {
                sent.push_back(now);
                return;
            }
            let oldest = *sent.front().expect("window is full");
            let wait = (oldest + self.window).saturating_sub(now);
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "request budget exhausted; waiting"
            );
            self.clock.sleep(wait).await;
        }
    }

    /// Holds every request of this instance for `wait` from now (a 429's `Retry-After`, or
    /// an exhausted `RateLimit-Remaining`), so concurrent requests do not hammer the platform.
    pub async fn pause(&self, wait: Duration) {
        let mut state = self.state.lock().await;
        let until = self.clock.elapsed() + wait;
        if until > state.resume_at {
            state.resume_at = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn window_never_holds_more_than_the_budget() {
        let clock = Arc::new(ManualClock::new(0));
        let budget = Budget::new(5, clock.clone());
        let mut times = Vec::new();
        for _ in 0..23 {
            budget.acquire().await;
            times.push(clock.elapsed());
            clock.advance(Duration::from_secs(1));
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[..=i]
                .iter()
                .filter(|s| **s + Duration::from_secs(60) > *t)
                .count();
            assert!(
                in_window <= 5,
                "{in_window} requests within a minute at {t:?}"
            );
        }
        // 23 requests at 5 per minute need at least 4 full windows.
        assert!(*times.last().unwrap() >= Duration::from_secs(240));
    }
}
