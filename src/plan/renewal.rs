//! When a short-lived token (a Zendesk access token from the client-credentials grant lives
//! under 48 hours) is next renewed, and how often the scheduled `apply` must run so that it
//! never lapses. A token is renewed once `expires_at - rotate_before` has passed, by whichever
//! scheduled run comes first after that; the run must come before `expires_at`, so the
//! schedule's interval must be shorter than `rotate_before`.

use jiff::{SignedDuration, Timestamp};

use super::desired::DesiredToken;
use super::engine::human_duration;

/// Lifetimes up to this are "short": the plan says when the next renewal falls.
pub const SHORT_LIFETIME: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The plan note for a short-lived token that is not due yet: when it becomes due and how
/// often the scheduled pipeline must run.
pub fn next_renewal_note(token: &DesiredToken, expiry: Option<Timestamp>) -> Option<String> {
    let lifetime = SignedDuration::from_secs(token.policy.lifetime_secs);
    if lifetime > SHORT_LIFETIME {
        return None;
    }
    let at = expiry?;
    let before = SignedDuration::from_secs(token.policy.rotate_before_secs);
    let due = at.checked_sub(before).ok()?;
    Some(format!(
        "short-lived: next renewal falls at {} ({} before it expires at {}); the scheduled \
         `tokenops apply` must run at least every {} or it lapses",
        due.strftime("%Y-%m-%d %H:%M UTC"),
        human_duration(before),
        at.strftime("%Y-%m-%d %H:%M UTC"),
        human_duration(before)
    ))
}
