//! Date arithmetic in UTC, shared by the plan, apply and check. Platforms express token expiry
//! as a date; a token dies at 00:00 UTC on that date.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The UTC calendar date of an instant.
pub fn utc_date(at: Timestamp) -> Date {
    TimeZone::UTC.to_datetime(at).date()
}

/// 00:00 UTC on `date`: the instant a token with that expiry date stops working.
pub fn midnight(date: Date) -> Option<Timestamp> {
    date.to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Whole days from `from` to `to`, rounded down (negative when `to` is earlier).
pub fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    to.duration_since(from).as_secs().div_euclid(86_400)
}

/// Whole days from one date to another.
pub fn days_between_dates(from: Date, to: Date) -> i64 {
    to.duration_since(from).as_secs().div_euclid(86_400)
}

/// `date + days`, saturating at the calendar's ends.
pub fn add_days(date: Date, days: i64) -> Date {
    let shifted =
        midnight(date).and_then(|t| t.checked_add(SignedDuration::from_hours(days * 24)).ok());
    shifted.map(utc_date).unwrap_or(date)
}

/// Days left from `now` to `expires_at`: whole days, rounded down (negative once past). The
/// one rounding rule of every "expires in N days" tokenops prints (plan, check, render), so
/// that the same token never reads "1 day" in one report and "2 days" in another.
pub fn days_left(now: Timestamp, expires_at: Timestamp) -> i64 {
    days_between(now, expires_at)
}

/// The instant a token expires, from the exact time when the platform gives one, else from
/// its expiry date (00:00 UTC on that date).
pub fn expiry_instant(at: Option<Timestamp>, date: Option<Date>) -> Option<Timestamp> {
    at.or_else(|| date.and_then(midnight))
}

/// How long until `expires_at`, in words, with the rounding of [`days_left`]: `in 11 days`,
/// `in 1 day`, `in 5 hours` (under a day), `3 days ago`.
pub fn expires_phrase(now: Timestamp, expires_at: Timestamp) -> String {
    let left = expires_at.duration_since(now);
    if left.is_negative() {
        format!("{} ago", human_duration(-left))
    } else {
        format!("in {}", human_duration(left))
    }
}

/// `9 days`, `1 day`, `5 hours`, `30 minutes`: the largest whole unit, rounded down.
pub fn human_duration(d: SignedDuration) -> String {
    let secs = d.as_secs();
    let (n, unit) = if secs.abs() >= 86_400 {
        (secs / 86_400, "day")
    } else if secs.abs() >= 3_600 {
        (secs / 3_600, "hour")
    } else {
        (secs / 60, "minute")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// `1 day`, `N days`.
pub fn days_words(days: i64) -> String {
    if days.abs() == 1 {
        format!("{days} day")
    } else {
        format!("{days} days")
    }
}
