//! Rotation policy: the per-token override and defaults as written in YAML, and the
//! effective policy after layering token > defaults > built-in values.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Duration;

/// How a token is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The platform's rotate call: the identity is kept, the old value dies at once.
    Rotate,
    /// Create a new token, switch every consumer, verify, then revoke the old one.
    Overlap,
}

/// Whether `apply` rotates on its own or only reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `apply` rotates the token when it is due.
    Auto,
    /// The token is reported when due; a person rotates it.
    Manual,
}

/// Rotation settings as written in a manifest or in `defaults.rotation`; every field is
/// optional and falls back to the next layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationOverride {
    /// Rotate when the token expires within this long (default 21d).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_before: Option<Duration>,
    /// How long a new value lives (default 365d, capped at the platform maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Duration>,
    /// `rotate` (default) or `overlap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// `auto` (default) or `manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

/// The policy that applies to one token once every layer is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Due when `expires_at - now <= rotate_before`.
    pub rotate_before: Duration,
    /// The expiry given to a new value, counted from the moment it is made.
    pub lifetime: Duration,
    /// How the token is replaced.
    pub strategy: Strategy,
    /// Automatic or manual rotation.
    pub mode: Mode,
}

impl RotationPolicy {
    /// The built-in defaults: 21d before expiry, 365d lifetime, rotate, auto.
    pub const BUILT_IN: RotationPolicy = RotationPolicy {
        rotate_before: Duration::from_days(21),
        lifetime: Duration::from_days(365),
        strategy: Strategy::Rotate,
        mode: Mode::Auto,
    };
}

/// The longest life a platform gives one token value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimeLimit {
    /// The limit itself.
    pub max: Duration,
    /// True when the lifetime must be strictly shorter than `max`.
    pub exclusive: bool,
}

impl LifetimeLimit {
    /// Whether `lifetime` is within the limit.
    pub fn allows(self, lifetime: Duration) -> bool {
        if self.exclusive {
            lifetime < self.max
        } else {
            lifetime <= self.max
        }
    }

    /// The longest lifetime the limit allows.
    pub fn cap(self) -> Duration {
        if self.exclusive {
            // One hour (or one second for short limits) under the limit.
            let step = if self.max.as_secs() > 3_600 { 3_600 } else { 1 };
            Duration::from_secs(self.max.as_secs().saturating_sub(step).max(1))
        } else {
            self.max
        }
    }
}
