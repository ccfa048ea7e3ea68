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
