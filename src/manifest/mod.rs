//! The desired state as written by people: `tokenops.yaml` and every `*.yaml` under
//! `manifests/`. This module owns the types (with their JSON Schema), the loader that reads
//! them with file:line:column for every problem, and the validation rules.

mod checks;
mod config;
mod consumer;
mod duration;
mod load;
mod rotation;
mod token;
pub mod tree;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use config::{
    CONFIG_FIELDS, CheckSettings, Config, Defaults, Discover, EscrowSettings, GitlabInstance,
    LedgerSettings, ReportTarget, ZendeskInstance,
};
pub use consumer::{
    CONSUMER_KINDS, ConsumerKey, ConsumerSpec, GitlabCiVariable, GitlabOwner, GitlabWebhook,
    Manual, ZendeskAppSetting, ZendeskWebhook, ZendeskWebhookAuth,
};
pub use duration::{DURATION_PATTERN, Duration, DurationError};
pub use rotation::{LifetimeLimit, Mode, RotationOverride, RotationPolicy, Strategy};
pub use token::{
    AccessLevel, Alphabet, GeneratedSecret, GitlabGroupAccessToken, GitlabPersonalAccessToken,
    GitlabPipelineTriggerToken, GitlabProjectAccessToken, OauthGrant, TOKEN_FIELDS, TOKEN_KINDS,
    TokenKind, TokenSpec, ZendeskApiToken, ZendeskOauthClientSecret, ZendeskOauthToken,
};

/// The two platforms tokenops manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// A GitLab instance (`gitlab:` in tokenops.yaml).
    Gitlab,
    /// A Zendesk instance (`zendesk:` in tokenops.yaml).
    Zendesk,
}

impl Platform {
    /// `gitlab` or `zendesk`, the key used in the YAML.
    pub fn key(self) -> &'static str {
        match self {
            Platform::Gitlab => "gitlab",
            Platform::Zendesk => "zendesk",
        }
    }
}

/// One manifest file under `manifests/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "tokenops manifest")]
pub struct ManifestFile {
    /// The tokens this file declares.
    pub tokens: Vec<TokenSpec>,
}

/// Where to read the desired state from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Path of `tokenops.yaml`.
    pub config: PathBuf,
    /// Directory searched recursively for `*.yaml` manifests.
    pub manifests: PathBuf,
}

/// Where something was declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The file, as the user named it.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A token and where it was declared.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredToken {
    /// The token as written.
    pub spec: TokenSpec,
    /// Where its entry starts.
    pub origin: Origin,
    /// Where each consumer entry starts, in the order of `spec.consumers`.
    pub consumer_origins: Vec<Origin>,
}

/// The whole desired state: the configuration and every declared token, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// `tokenops.yaml`.
    pub config: Config,
    /// Every token of every manifest.
    pub tokens: Vec<DeclaredToken>,
}

impl Desired {
    /// The effective rotation policy of `token` under this configuration.
    pub fn rotation(&self, token: &TokenSpec) -> RotationPolicy {
        token.rotation_policy(&self.config.defaults.rotation)
    }

    /// The token with id `id`.
    pub fn token(&self, id: &str) -> Option<&DeclaredToken> {
        self.tokens.iter().find(|t| t.spec.id == id)
    }
}

impl TokenKind {
    /// The longest life the platform gives one value of this kind, if it limits it.
    pub fn lifetime_limit(&self) -> Option<LifetimeLimit> {
        match self {
            TokenKind::GitlabPersonalAccessToken(_)
            | TokenKind::GitlabProjectAccessToken(_)
            | TokenKind::GitlabGroupAccessToken(_)
            | TokenKind::GitlabPipelineTriggerToken(_) => Some(LifetimeLimit {
                max: Duration::from_days(365),
                exclusive: false,
            }),
            TokenKind::ZendeskOauthToken(t) if t.grant == OauthGrant::ClientCredentials => {
                Some(LifetimeLimit {
                    max: Duration::from_hours(48),
                    exclusive: true,
                })
            }
            _ => None,
        }
    }
}

impl TokenSpec {
    /// The effective rotation policy: this token's override, then `defaults`, then the
    /// built-in values (21d, 365d, rotate, auto). A lifetime inherited from the defaults is
    /// capped at the platform maximum; an explicit one is kept as written (validation
    /// rejects it when it is too long).
    pub fn rotation_policy(&self, defaults: &RotationOverride) -> RotationPolicy {
        let built_in = RotationPolicy::BUILT_IN;
        let mut lifetime = self
            .rotation
            .lifetime
            .or(defaults.lifetime)
            .unwrap_or(built_in.lifetime);
        if self.rotation.lifetime.is_none()
            && let Some(limit) = self.kind.lifetime_limit()
            && !limit.allows(lifetime)
        {
            lifetime = limit.cap();
        }
        RotationPolicy {
            rotate_before: self
                .rotation
                .rotate_before
                .or(defaults.rotate_before)
                .unwrap_or(built_in.rotate_before),
            lifetime,
            strategy: self
                .rotation
                .strategy
                .or(defaults.strategy)
                .unwrap_or(built_in.strategy),
            mode: self
                .rotation
                .mode
                .or(defaults.mode)
                .unwrap_or(built_in.mode),
        }
    }
}

pub use load::MAX_FILE_BYTES;

/// Reads `tokenops.yaml` and every manifest, and checks them. On failure it returns every
/// problem found, each with file:line:column and a hint.
pub fn load(options: &LoadOptions) -> Result<Desired, crate::diag::Diagnostics> {
    load::load(options)
}
