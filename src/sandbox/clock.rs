//! The sandbox's own clock. It never reads the system clock: it starts at the instant given
//! to [`super::Sandbox::start`] (or the seed's `now`) and moves only when told to, or when a
//! client driven by [`Clock::for_http`] waits on it.

use std::sync::{Arc, Mutex};

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// A settable clock shared by every simulated instance.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Mutex<Timestamp>>);

impl Clock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> Self {
        Clock(Arc::new(Mutex::new(start)))
    }
    /// The current sandbox time.
    pub fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
    /// Sets the sandbox time.
    pub fn set(&self, now: Timestamp) {
        *self.0.lock().expect("clock lock") = now;
    }
    /// Moves the sandbox time by `by` (negative moves it back) and returns the new time.
    pub fn advance(&self, by: SignedDuration) -> Timestamp {
        let mut guard = self.0.lock().expect("clock lock");
        *guard = guard.saturating_add(by).unwrap_or(*guard);
        *guard
    }
}

impl Clock {
    /// This clock as an HTTP client's clock, its origin now: a client's wait moves the sandbox
    /// time to the wait's end at once (never backwards, so waits that overlap cost their
    /// longest), so a test sees the platform's `Retry-After` and budget windows and the
    /// client's waits on one time line, without spending wall time.
    pub fn for_http(&self) -> Arc<dyn crate::http::Clock> {
        Arc::new(HttpClock {
            origin: self.now(),
            clock: self.clone(),
        })
    }
}

struct HttpClock {
    origin: Timestamp,
    clock: Clock,
}

impl crate::http::Clock for HttpClock {
    fn elapsed(&self) -> Duration {
        Duration::try_from(self.clock.now().duration_since(self.origin)).unwrap_or_default()
    }
    fn unix_seconds(&self) -> i64 {
        self.clock.now().as_second()
    }
    fn sleep(&self, duration: Duration) -> crate::http::budget::Sleep<'_> {
        let at = self.elapsed() + duration;
        self.sleep_until(at)
    }
    fn sleep_until(&self, at: Duration) -> crate::http::budget::Sleep<'_> {
        let target = SignedDuration::try_from(at)
            .ok()
            .and_then(|d| self.origin.checked_add(d).ok());
        if let Some(target) = target {
            let mut guard = self.clock.0.lock().expect("clock lock");
            if target > *guard {
                *guard = target;
            }
        }
        Box::pin(tokio::task::yield_now())
    }
}
