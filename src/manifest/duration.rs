//! The manifest duration type: a whole number with one unit, written `30s`, `15m`, `12h`,
//! `21d` or `2w`, stored as seconds.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A span of time from a manifest, in whole seconds. It remembers the unit it was written
/// with, so it prints back the same way (`2w` stays `2w`); comparisons use the length only.
#[derive(Debug, Clone, Copy)]
pub struct Duration {
    secs: u64,
    /// The unit written in the manifest; `None` for computed durations.
    unit: Option<char>,
}

impl PartialEq for Duration {
    fn eq(&self, other: &Self) -> bool {
        self.secs == other.secs
    }
}

impl Eq for Duration {}

impl PartialOrd for Duration {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Duration {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.secs.cmp(&other.secs)
    }
}

impl std::hash::Hash for Duration {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.secs.hash(state);
    }
}

const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

const DURATION_HINT: &str = "write a whole number and a unit: 30s, 15m, 12h, 21d or 2w";

/// The pattern every duration matches (also used in the JSON Schema).
pub const DURATION_PATTERN: &str = "^[0-9]+[smhdw]$";

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration { secs, unit: None }
    }
    /// A duration of `hours` hours.
    pub const fn from_hours(hours: u64) -> Self {
        Duration::from_secs(hours * 3_600)
    }
    /// A duration of `days` days.
    pub const fn from_days(days: u64) -> Self {
        Duration::from_secs(days * 86_400)
    }
    /// The length in seconds.
    pub const fn as_secs(self) -> u64 {
        self.secs
    }
    /// The same length as a `std::time::Duration`.
    pub const fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.secs)
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: {reason}")]
pub struct DurationError {
    text: String,
    reason: &'static str,
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| DurationError {
            text: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        let Some(unit) = trimmed.chars().last() else {
            return Err(fail("it is empty"));
        };
        let number = &trimmed[..trimmed.len() - unit.len_utf8()];
        let Some(&(_, factor)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            if unit.is_ascii_digit() {
                return Err(fail("the unit is missing (one of s, m, h, d, w)"));
            }
            return Err(fail("the unit must be one of s, m, h, d, w"));
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("expected a whole number before the unit"));
        }
        let value: u64 = number
            .parse()
            .map_err(|_| fail("the number is too large"))?;
        let secs = value
            .checked_mul(factor)
            .ok_or_else(|| fail("the number is too large"))?;
        if secs == 0 {
            return Err(fail("it must be longer than zero"));
        }
        Ok(Duration {
            secs,
            unit: Some(unit),
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(unit) = self.unit
            && let Some((_, factor)) = UNITS.iter().find(|(u, _)| *u == unit)
        {
            return write!(f, "{}{unit}", self.secs / factor);
        }
        // Computed durations: the largest unit that divides evenly; never weeks (`365d` reads better), and hours
        // rather than one or two days (`48h` is how such limits are usually written).
        for (unit, factor) in UNITS.iter().skip(1) {
            if *unit == 'd' && self.secs < 3 * 86_400 {
                continue;
            }
            if self.secs.is_multiple_of(*factor) {
                return write!(f, "{}{unit}", self.secs / factor);
            }
        }
        write!(f, "{}s", self.secs)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 21d, 12h or 365d")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse()
                    .map_err(|e| E::custom(format!("{e}{}{DURATION_HINT}", super::tree::HINT)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "`{v}` is not a duration: the unit is missing{}write `{v}d` for days, or another unit: s, m, h, w",
                    super::tree::HINT
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "`{v}` is not a duration: it must be positive{}{DURATION_HINT}",
                    super::tree::HINT
                )))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A whole number and a unit: s (seconds), m (minutes), h (hours), d (days), w (weeks). Examples: 12h, 21d, 365d.",
            "examples": ["21d", "12h", "365d"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_unit() {
        for (text, secs, shown) in [
            ("30s", 30, "30s"),
            ("15m", 900, "15m"),
            ("12h", 43_200, "12h"),
            ("21d", 1_814_400, "21d"),
            ("2w", 1_209_600, "2w"),
            ("1d", 86_400, "1d"),
            ("36h", 129_600, "36h"),
            ("48h", 172_800, "48h"),
            ("3d", 259_200, "3d"),
        ] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.as_secs(), secs, "{text}");
            assert_eq!(d.to_string(), shown);
        }
    }

    #[test]
    fn computed_durations_print_in_the_largest_even_unit() {
        assert_eq!(Duration::from_secs(172_799).to_string(), "172799s");
        assert_eq!(Duration::from_hours(47).to_string(), "47h");
        assert_eq!(Duration::from_hours(48).to_string(), "48h");
        assert_eq!(Duration::from_days(365).to_string(), "365d");
        assert_eq!("2w".parse::<Duration>().unwrap(), Duration::from_days(14));
    }

    #[test]
    fn rejects_bad_spellings() {
        for text in [
            "",
            "d",
            "21",
            "21x",
            "-1d",
            "1.5d",
            "0d",
            "99999999999999999999d",
            "21 d",
        ] {
            assert!(text.parse::<Duration>().is_err(), "{text:?} parsed");
        }
    }
}
