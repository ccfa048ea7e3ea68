//! The per-instance request budget and the run's waiting allowance.
//!
//! * The budget: at most N requests in any 60-second window (a sliding window, stricter than
//!   the platform's fixed per-minute windows, so a run at N never exceeds them).
//! * The platform's own window: when answers carry `RateLimit-Remaining` and `RateLimit-Reset`,
//!   requests are held once the platform has (by a cautious count that includes requests still
//!   in flight) none left in its window, so other users of the same account do not push the run
//!   into 429s.
//! * Pauses: a 429's `Retry-After` holds every request of the instance until one instant; all
//!   the requests that got that 429 wait for the same instant, so a storm costs one wait.
//! * The waiting allowance: time spent held by the platform (pauses, its exhausted window,
//!   backoff after failures) beyond what the budget itself imposes is added up, and a wait that
//!   would take the total past `max_wait` is refused instead of waited.
//!
//! The state lock is never held across a wait.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

pub use super::clock::{Clock, ManualClock, Sleep, SystemClock};

/// Margin added to the platform's reset instant: its epoch seconds are whole seconds and the
/// two clocks are never exactly in step.
const RESET_MARGIN: Duration = Duration::from_secs(1);

/// At most `per_minute` requests in any 60-second window, the platform's own window, pauses,
/// and the allowance for waiting.
pub struct Budget {
    per_minute: usize,
    window: Duration,
    max_wait: Duration,
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

struct State {
    /// When each request of the current window was let through.
    sent: VecDeque<Duration>,
    /// Nothing is sent before this instant (a 429's `Retry-After`).
    resume_at: Duration,
    /// What the platform last said about its window.
    platform: Option<PlatformWindow>,
    /// Requests let through so far.
    admitted: u64,
    /// Requests let through whose answer has not been handed back.
    in_flight: u64,
    /// Time spent waiting on the platform so far.
    waited: Duration,
    /// The end of the latest wait already counted in `waited`.
    counted_until: Duration,
}

/// The platform's window as its answers describe it.
#[derive(Debug, Clone, Copy)]
struct PlatformWindow {
    /// Its reset, as the platform wrote it (Unix seconds).
    reset_epoch: i64,
    /// Its reset on the monotonic clock, with the margin.
    resets_at: Duration,
    /// Requests it still accepts = `left_base - admitted` (a cautious count).
    left_base: i64,
}

/// A request the budget let through; hand it back with [`Budget::finish`].
#[derive(Debug)]
pub struct Admission {
    number: u64,
    in_flight_before: u64,
}

/// A wait that was refused because the run has waited as long as it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitRefused {
    /// Time already spent waiting on the platform.
    pub waited: Duration,
    /// The allowance (`max_wait`).
    pub limit: Duration,
    /// The wait that was asked for.
    pub asked: Duration,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("per_minute", &self.per_minute)
            .field("max_wait", &self.max_wait)
            .finish()
    }
}

impl Budget {
    /// A budget of `per_minute` requests (at least 1) that waits on the platform for at most
    /// `max_wait` in all, on `clock`.
    pub fn new(per_minute: u32, max_wait: Duration, clock: Arc<dyn Clock>) -> Self {
        let per_minute = per_minute.max(1) as usize;
        Budget {
            per_minute,
            window: Duration::from_secs(60),
            max_wait,
            state: Mutex::new(State {
                sent: VecDeque::with_capacity(per_minute.min(4096)),
                resume_at: Duration::ZERO,
                platform: None,
                admitted: 0,
                in_flight: 0,
                waited: Duration::ZERO,
                counted_until: Duration::ZERO,
            }),
            clock,
        }
    }

    /// The configured requests per minute.
    pub fn per_minute(&self) -> usize {
        self.per_minute
    }

    /// Time spent waiting on the platform so far (what counts against `max_wait`).
    pub fn waited(&self) -> Duration {
        self.lock().waited
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("budget lock")
    }

    /// Waits until one more request fits (the budget, the platform's window, any pause), then
    /// records it. Refused when the wait the platform imposes would exceed the allowance.
    pub async fn acquire(&self) -> Result<Admission, WaitRefused> {
        loop {
            let until = {
                let mut s = self.lock();
                let now = self.clock.elapsed();
                if s.platform.is_some_and(|p| now >= p.resets_at) {
                    s.platform = None;
                }
                while let Some(&oldest) = s.sent.front() {
                    if oldest + self.window <= now {
                        s.sent.pop_front();
                    } else {
                        break;
                    }
                }
                let budget_until = match s.sent.front() {
                    Some(&oldest) if s.sent.len() >= self.per_minute => oldest + self.window,
                    _ => now,
                };
                let platform_until = match s.platform {
                    Some(p) if p.left_base - s.admitted as i64 <= 0 => p.resets_at,
                    _ => Duration::ZERO,
                };
                let held_until = s.resume_at.max(platform_until);
                if held_until <= now && budget_until <= now {
                    s.sent.push_back(now);
                    s.admitted += 1;
                    let admission = Admission {
                        number: s.admitted,
                        in_flight_before: s.in_flight,
                    };
                    s.in_flight += 1;
                    return Ok(admission);
                }
                // What the platform imposes beyond the budget's own wait counts as waiting.
                self.count(&mut s, now.max(budget_until), held_until)?;
                let until = held_until.max(budget_until);
                tracing::debug!(
                    wait_ms = (until - now).as_millis() as u64,
                    by_budget = budget_until > held_until,
                    "holding a request"
                );
                until
            };
            self.clock.sleep_until(until).await;
        }
    }

    /// Hands back a request's admission once its answer (or failure) is in, with what the
    /// answer said about the platform's window: `(remaining, reset as Unix seconds)`.
    pub fn finish(&self, admission: Admission, window: Option<(u64, i64)>) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        let Some((remaining, reset_epoch)) = window else {
            return;
        };
        // The platform counted this request and those that reached it first; still to come
        // are the ones let through after it and, at worst, every one in flight before it.
        let left_base =
            remaining as i64 + admission.number as i64 - admission.in_flight_before as i64;
        let ahead = Duration::from_secs((reset_epoch - self.clock.unix_seconds()).max(0) as u64);
        let resets_at = self.clock.elapsed() + ahead + RESET_MARGIN;
        match &mut s.platform {
            Some(p) if (reset_epoch - p.reset_epoch).abs() <= 1 => {
                p.left_base = p.left_base.min(left_base);
            }
            Some(p) if reset_epoch < p.reset_epoch => {}
            slot => {
                *slot = Some(PlatformWindow {
                    reset_epoch,
                    resets_at,
                    left_base,
                });
            }
        }
    }

    /// Holds every request of this instance for `wait` from now (a 429's `Retry-After`), so
    /// concurrent requests do not hammer the platform. Pauses asked at the same time end at
    /// the same instant; a later end extends the pause, an earlier one changes nothing.
    pub fn pause(&self, wait: Duration) {
        let mut s = self.lock();
        let until = self.clock.elapsed() + wait;
        if until > s.resume_at {
            s.resume_at = until;
        }
    }

    /// Waits `wait` (a backoff between attempts), counted against the allowance.
    pub async fn wait(&self, wait: Duration) -> Result<(), WaitRefused> {
        let until = {
            let mut s = self.lock();
            let now = self.clock.elapsed();
            self.count(&mut s, now, now + wait)?;
            now + wait
        };
        self.clock.sleep_until(until).await;
        Ok(())
    }

    /// Adds the part of `[from, until]` not yet counted to the time waited, or refuses when
    /// that would exceed the allowance.
    fn count(&self, s: &mut State, from: Duration, until: Duration) -> Result<(), WaitRefused> {
        let start = from.max(s.counted_until);
        if until > start {
            let added = until - start;
            if s.waited + added > self.max_wait {
                return Err(WaitRefused {
                    waited: s.waited,
                    limit: self.max_wait,
                    asked: until.saturating_sub(from),
                });
            }
            s.waited += added;
            s.counted_until = until;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOTS: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn window_never_holds_more_than_the_budget() {
        let clock = Arc::new(ManualClock::new(0));
        let budget = Budget::new(5, LOTS, clock.clone());
        let mut times = Vec::new();
        for _ in 0..23 {
            let admission = budget.acquire().await.unwrap();
            budget.finish(admission, None);
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
        // Waiting for the budget is not waiting on the platform.
        assert_eq!(budget.waited(), Duration::ZERO);
    }

    #[tokio::test]
    async fn pauses_asked_together_are_waited_once() {
        let clock = Arc::new(ManualClock::new(0));
        let budget = Budget::new(100, LOTS, clock.clone());
        for _ in 0..9 {
            budget.pause(Duration::from_secs(57));
        }
        let waiters = (0..9).map(|_| budget.acquire());
        for admission in futures_util::future::join_all(waiters).await {
            budget.finish(admission.unwrap(), None);
        }
        assert_eq!(clock.elapsed(), Duration::from_secs(57));
        assert_eq!(budget.waited(), Duration::from_secs(57));
    }

    #[tokio::test]
    async fn the_platforms_window_holds_requests_counting_those_in_flight() {
        let clock = Arc::new(ManualClock::new(1_000_000_000));
        let budget = Budget::new(1000, LOTS, clock.clone());
        // Three requests go out; the first answer says 2 are left until 30 s from now.
        let first = budget.acquire().await.unwrap();
        let second = budget.acquire().await.unwrap();
        let third = budget.acquire().await.unwrap();
        budget.finish(first, Some((2, 1_000_000_030)));
        // The second and third may still reach the platform: nothing is left.
        let fourth = budget.acquire().await.unwrap();
        assert_eq!(clock.elapsed(), Duration::from_secs(31));
        budget.finish(second, None);
        budget.finish(third, None);
        budget.finish(fourth, None);
    }

    #[tokio::test]
    async fn a_wait_past_the_allowance_is_refused_not_waited() {
        let clock = Arc::new(ManualClock::new(0));
        let budget = Budget::new(100, Duration::from_secs(100), clock.clone());
        budget.wait(Duration::from_secs(60)).await.unwrap();
        budget.pause(Duration::from_secs(57));
        let refused = budget.acquire().await.unwrap_err();
        assert_eq!(
            refused,
            WaitRefused {
                waited: Duration::from_secs(60),
                limit: Duration::from_secs(100),
                asked: Duration::from_secs(57),
            }
        );
        assert_eq!(clock.elapsed(), Duration::from_secs(60));
    }
}
