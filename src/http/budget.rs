//! The per-instance request budget and the run's waiting allowance.
//!
//! * The budget: at most N requests in any 60-second window (a sliding window, stricter than
//!   the platform's fixed per-minute windows, so a run at N never exceeds them).
//! * The platform's own window: when answers carry `RateLimit-Remaining` and `RateLimit-Reset`,
//!   requests are held once the platform has none left in its window, counting every request
//!   still in flight as spent (the lowest `Remaining` seen is the latest arrival the platform
//!   counted; only requests not yet answered can come after it), so other users of the same
//!   account do not push the run into 429s.
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
    /// When the latest pause was asked for: a 429 for a request let through before then was
    /// refused in the window that pause already covers.
    paused_at: Option<Duration>,
    /// What the platform last said about its window.
    platform: Option<PlatformWindow>,
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
    /// The lowest `RateLimit-Remaining` answered in this window.
    remaining: u64,
}

/// A request the budget let through; hand it back with [`Budget::finish`].
#[derive(Debug)]
pub struct Admission {
    at: Duration,
    held: Duration,
}

impl Admission {
    /// When the request was let through (monotonic).
    pub fn at(&self) -> Duration {
        self.at
    }

    /// How long the budget itself (not the platform) held the request.
    pub fn held_by_budget(&self) -> Duration {
        self.held
    }
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
                paused_at: None,
                platform: None,
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
        let mut held = Duration::ZERO;
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
                    Some(p) if p.remaining <= s.in_flight => p.resets_at,
                    _ => Duration::ZERO,
                };
                let held_until = s.resume_at.max(platform_until);
                if held_until <= now && budget_until <= now {
                    s.sent.push_back(now);
                    s.in_flight += 1;
                    return Ok(Admission { at: now, held });
                }
                // What the platform imposes beyond the budget's own wait counts as waiting.
                self.count(&mut s, now.max(budget_until), held_until)?;
                let until = held_until.max(budget_until);
                held += budget_until.saturating_sub(now.max(held_until));
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
    pub fn finish(&self, _admission: Admission, window: Option<(u64, i64)>) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        let Some((remaining, reset_epoch)) = window else {
            return;
        };
        let now = self.clock.elapsed();
        let ahead = Duration::from_secs((reset_epoch - self.clock.unix_seconds()).max(0) as u64);
        let resets_at = now + ahead + RESET_MARGIN;
        match &mut s.platform {
            Some(p) if (reset_epoch - p.reset_epoch).abs() <= 1 => {
                p.remaining = p.remaining.min(remaining);
            }
            Some(p) if reset_epoch < p.reset_epoch => {}
            // A late answer about a window that is already over says nothing.
            None if resets_at <= now + RESET_MARGIN => {}
            slot => {
                *slot = Some(PlatformWindow {
                    reset_epoch,
                    resets_at,
                    remaining,
                });
            }
        }
    }

    /// Holds every request of this instance for `wait` (a 429's `Retry-After`) after the
    /// platform refused a request let through at `sent_at`, so concurrent requests do not
    /// hammer the platform. A request sent before the latest pause was asked for was refused
    /// in the window that pause covers: its wait counts from when it was sent, so the 429s of
    /// one storm end at one instant however late their answers are read. Any other 429 opens a
    /// new pause from now. A pause only ever grows.
    pub fn pause(&self, sent_at: Duration, wait: Duration) {
        let mut s = self.lock();
        let now = self.clock.elapsed();
        let until = match s.paused_at {
            Some(paused_at) if sent_at <= paused_at => sent_at + wait,
            _ => {
                s.paused_at = Some(now);
                now + wait
            }
        };
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
        let sent: Vec<_> = futures_util::future::join_all((0..9).map(|_| budget.acquire()))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        clock.advance(Duration::from_millis(20));
        // The first answer is read at once; the others only after its retry waited.
        let mut sent = sent.into_iter();
        let first = sent.next().unwrap();
        budget.pause(first.at(), Duration::from_secs(57));
        budget.finish(first, None);
        budget.finish(budget.acquire().await.unwrap(), None);
        for late in sent {
            budget.pause(late.at(), Duration::from_secs(57));
            budget.finish(late, None);
        }
        let waiters = (0..9).map(|_| budget.acquire());
        for admission in futures_util::future::join_all(waiters).await {
            budget.finish(admission.unwrap(), None);
        }
        assert_eq!(clock.elapsed(), Duration::from_millis(57_020));
        assert_eq!(budget.waited(), Duration::from_secs(57));
        // A 429 for a request sent after that pause opens a new one.
        let after = budget.acquire().await.unwrap();
        budget.pause(after.at(), Duration::from_secs(5));
        budget.finish(after, None);
        budget.finish(budget.acquire().await.unwrap(), None);
        assert_eq!(clock.elapsed(), Duration::from_millis(62_020));
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
        // The second and third may still take those two; once the third is answered (it
        // reached the platform before the first), one more may go, and then nothing.
        budget.finish(third, Some((3, 1_000_000_030)));
        let fourth = budget.acquire().await.unwrap();
        assert_eq!(clock.elapsed(), Duration::ZERO);
        let fifth = budget.acquire().await.unwrap();
        assert_eq!(clock.elapsed(), Duration::from_secs(31));
        budget.finish(second, None);
        budget.finish(fourth, None);
        budget.finish(fifth, None);
    }

    #[tokio::test]
    async fn a_wait_past_the_allowance_is_refused_not_waited() {
        let clock = Arc::new(ManualClock::new(0));
        let budget = Budget::new(100, Duration::from_secs(100), clock.clone());
        budget.wait(Duration::from_secs(60)).await.unwrap();
        budget.pause(clock.elapsed(), Duration::from_secs(57));
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
