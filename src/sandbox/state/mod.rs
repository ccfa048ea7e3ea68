//! The in-memory model behind the sandbox: one [`World`] holding every simulated GitLab and
//! Zendesk instance, plus the [`Issuer`] that mints (and remembers) every secret value.

pub mod gitlab;
pub mod zendesk;

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use gitlab::GitLab;
pub use zendesk::Zendesk;

/// Everything the simulated platforms know.
pub struct World {
    /// GitLab instances by name (e.g. `gitlab.com`).
    pub gitlab: BTreeMap<String, GitLab>,
    /// Zendesk instances by name (e.g. `global`).
    pub zendesk: BTreeMap<String, Zendesk>,
    /// Mints secret values and records each one.
    pub issuer: Issuer,
}

impl World {
    /// An empty world whose values come from an RNG seeded with `rng_seed`.
    pub fn new(rng_seed: u64) -> Self {
        World {
            gitlab: BTreeMap::new(),
            zendesk: BTreeMap::new(),
            issuer: Issuer::new(rng_seed),
        }
    }
}

/// A secret value held by the simulated platform. Its `Debug` form never shows the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Value(String);

impl Value {
    /// The value itself, for comparisons and for the one response that may show it.
    pub fn reveal(&self) -> &str {
        &self.0
    }
    /// Wraps a value that arrived in a request (a webhook secret, a variable value).
    pub fn from_request(text: &str) -> Self {
        Value(text.to_string())
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Value([redacted])")
    }
}

/// The kinds of value the platforms issue, each with its platform's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `glpat-` + 20 characters of `[A-Za-z0-9_-]`.
    GitLabAccessToken,
    /// `glptt-` + 40 hex digits.
    GitLabTriggerToken,
    /// `gldt-` + 20 characters of `[A-Za-z0-9_-]` (a deploy token).
    GitLabDeployToken,
    /// `glcbt-` + 20 characters of `[A-Za-z0-9_-]` (a CI/CD job token).
    GitLabJobToken,
    /// 64 hex digits (Zendesk OAuth access and refresh tokens).
    ZendeskOAuthToken,
    /// 64 alphanumerics (Zendesk OAuth client secret).
    ZendeskClientSecret,
    /// 40 alphanumerics (legacy Zendesk API token).
    ZendeskApiToken,
    /// A shared secret of the given length, alphanumeric.
    Generated(usize),
}

/// Mints secret values from a seeded RNG and remembers every one it issued.
pub struct Issuer {
    rng: StdRng,
    issued: Vec<Value>,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PAT_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const HEX: &[u8] = b"0123456789abcdef";

impl Issuer {
    fn new(seed: u64) -> Self {
        Issuer {
            rng: StdRng::seed_from_u64(seed),
            issued: Vec::new(),
        }
    }

    fn chars(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[self.rng.random_range(0..alphabet.len())] as char)
            .collect()
    }

    /// Mints a new value of `kind` and records it.
    pub fn mint(&mut self, kind: ValueKind) -> Value {
        let text = match kind {
            ValueKind::GitLabAccessToken => format!("glpat-{}", self.chars(PAT_ALPHABET, 20)),
            ValueKind::GitLabTriggerToken => format!("glptt-{}", self.chars(HEX, 40)),
            ValueKind::GitLabDeployToken => format!("gldt-{}", self.chars(PAT_ALPHABET, 20)),
            ValueKind::GitLabJobToken => format!("glcbt-{}", self.chars(PAT_ALPHABET, 20)),
            ValueKind::ZendeskOAuthToken => self.chars(HEX, 64),
            ValueKind::ZendeskClientSecret => self.chars(ALNUM, 64),
            ValueKind::ZendeskApiToken => self.chars(ALNUM, 40),
            ValueKind::Generated(len) => self.chars(ALNUM, len.max(1)),
        };
        let value = Value(text);
        self.issued.push(value.clone());
        value
    }

    /// A random number in `0..bound` (ids of things that are not secrets, such as bot names).
    pub fn number(&mut self, bound: u64) -> u64 {
        self.rng.random_range(0..bound.max(1))
    }

    /// Every value issued so far, oldest first.
    pub fn issued(&self) -> &[Value] {
        &self.issued
    }
}

/// GitLab's timestamp format: milliseconds and `Z`.
pub fn gl_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Zendesk's timestamp format: whole seconds and `Z`.
pub fn zd_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The UTC calendar date of `ts`.
pub fn utc_date(ts: Timestamp) -> Date {
    ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

/// 00:00 UTC on `date`: the instant a token with that `expires_at` stops working.
pub fn midnight_utc(date: Date) -> Timestamp {
    date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}
