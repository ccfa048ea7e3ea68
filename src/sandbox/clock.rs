//! The sandbox's own clock. It never reads the system clock: it starts at the instant given
//! to [`super::Sandbox::start`] (or the seed's `now`) and moves only when told to.

use std::sync::{Arc, Mutex};

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
