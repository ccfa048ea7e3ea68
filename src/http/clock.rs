//! The `Clock` the HTTP layer's budget and waits run on: the real one (tokio timers and the
//! system time) and a manual one for tests and benchmarks. Waits are expressed as "until this
//! instant", so that several requests waiting for the same pause wait once, not in turn.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

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
    /// Waits until the monotonic reading is `at` (at once when it already is).
    fn sleep_until(&self, at: Duration) -> Sleep<'_> {
        self.sleep(at.saturating_sub(self.elapsed()))
    }
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
    fn sleep_until(&self, at: Duration) -> Sleep<'_> {
        Box::pin(tokio::time::sleep_until(self.origin + at))
    }
}

/// A clock that only moves when someone sleeps on it: a sleep moves it to the sleep's end at
/// once (never backwards, so sleeps that overlap cost their longest, not their sum). Tests
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

    /// Every sleep that moved the clock so far, by how far it moved it, in order.
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
        let at = self.elapsed() + duration;
        self.sleep_until(at)
    }
    fn sleep_until(&self, at: Duration) -> Sleep<'_> {
        {
            let mut now = self.now.lock().expect("clock lock");
            if at > *now {
                self.slept.lock().expect("clock lock").push(at - *now);
                *now = at;
            }
        }
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn overlapping_sleeps_on_the_manual_clock_cost_the_longest() {
        let clock = ManualClock::new(0);
        let a = clock.sleep_until(Duration::from_secs(57));
        let b = clock.sleep_until(Duration::from_secs(57));
        let c = clock.sleep_until(Duration::from_secs(30));
        futures_util::future::join3(a, b, c).await;
        assert_eq!(clock.elapsed(), Duration::from_secs(57));
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(57)]);
        clock.sleep(Duration::from_secs(3)).await;
        assert_eq!(clock.elapsed(), Duration::from_secs(60));
    }
}
