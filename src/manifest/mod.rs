//! The desired state as written by people: `tokenops.yaml` and every `*.yaml` under
//! `manifests/`. This module owns the types (with their JSON Schema), the loader that reads
//! them with file:line:column for every problem, and the validation rules.

mod checks;
mod config;
mod config_checks;
mod config_env;
mod config_warnings;
pub(crate) mod consumer;
mod duration;
mod files;
mod load;
pub mod names;
mod rotation;
pub mod scopes;
mod token;
pub mod tree;
mod tree_error;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::Platform;
pub use crate::kinds::consumers::gitlab_ci_variable::GitlabCiVariable;
pub use crate::kinds::consumers::gitlab_webhook::GitlabWebhook;
pub use crate::kinds::consumers::manual::Manual;
pub use crate::kinds::consumers::zendesk_app_setting::ZendeskAppSetting;
pub use crate::kinds::consumers::zendesk_webhook::{ZendeskWebhook, ZendeskWebhookAuth};
pub use crate::kinds::tokens::generated_secret::{Alphabet, GeneratedSecret};
pub use crate::kinds::tokens::gitlab_group_access_token::GitlabGroupAccessToken;
pub use crate::kinds::tokens::gitlab_personal_access_token::GitlabPersonalAccessToken;
pub use crate::kinds::tokens::gitlab_pipeline_trigger_token::GitlabPipelineTriggerToken;
pub use crate::kinds::tokens::gitlab_project_access_token::GitlabProjectAccessToken;
pub use crate::kinds::tokens::zendesk_api_token::ZendeskApiToken;
pub use crate::kinds::tokens::zendesk_oauth_client_secret::ZendeskOauthClientSecret;
pub use crate::kinds::tokens::zendesk_oauth_token::{OauthGrant, ZendeskOauthToken};
pub use crate::kinds::{CONSUMER_KINDS, ConsumerSpec, TOKEN_KINDS, TokenKind};
pub use config::{
    CONFIG_FIELDS, CheckSettings, Config, Defaults, Discover, EscrowSettings, GitlabInstance,
    LedgerSettings, ReportTarget, ZendeskInstance,
};
pub use consumer::{ConsumerKey, GitlabOwner};
pub use duration::{DURATION_PATTERN, Duration, DurationError};
pub use rotation::{LifetimeLimit, Mode, RotationOverride, RotationPolicy, Strategy};
pub use token::{AccessLevel, TOKEN_FIELDS, TokenSpec};

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
    /// The manifests directory as given (`--manifests`).
    pub manifests: std::path::PathBuf,
}

impl Desired {
    /// A manifest file as shown to people: relative to the directory that holds the
    /// manifests directory (`manifests/zendesk/legacy.yaml`), wherever that directory is.
    pub fn shown(&self, file: &std::path::Path) -> String {
        let base = self.manifests.parent().unwrap_or(std::path::Path::new(""));
        file.strip_prefix(base)
            .unwrap_or(file)
            .display()
            .to_string()
    }

    /// The effective rotation policy of `token` under this configuration.
    pub fn rotation(&self, token: &TokenSpec) -> RotationPolicy {
        token.rotation_policy(&self.config.defaults.rotation)
    }

    /// The token with id `id`.
    pub fn token(&self, id: &str) -> Option<&DeclaredToken> {
        self.tokens.iter().find(|t| t.spec.id == id)
    }
}

impl TokenSpec {
    /// The effective rotation policy: this token's override, then `defaults`, then the
    /// built-in values (21d, 365d, rotate, auto). A lifetime inherited from the defaults is
    /// capped at the platform maximum; an explicit one is kept as written (validation
    /// rejects it when it is too long).
    pub fn rotation_policy(&self, defaults: &RotationOverride) -> RotationPolicy {
        self.kind.rotation_policy(&self.rotation, defaults)
    }
}

impl TokenKind {
    /// The effective rotation policy of a token of this kind with override `rotation`
    /// (see [`TokenSpec::rotation_policy`]).
    pub fn rotation_policy(
        &self,
        rotation: &RotationOverride,
        defaults: &RotationOverride,
    ) -> RotationPolicy {
        let built_in = RotationPolicy::BUILT_IN;
        let mut lifetime = rotation
            .lifetime
            .or(defaults.lifetime)
            .unwrap_or(built_in.lifetime);
        if rotation.lifetime.is_none()
            && let Some(limit) = self.driver().lifetime_limit()
            && !limit.allows(lifetime)
        {
            lifetime = limit.cap();
        }
        RotationPolicy {
            rotate_before: rotation
                .rotate_before
                .or(defaults.rotate_before)
                .unwrap_or(built_in.rotate_before),
            lifetime,
            strategy: rotation
                .strategy
                .or(defaults.strategy)
                .unwrap_or(built_in.strategy),
            mode: rotation.mode.or(defaults.mode).unwrap_or(built_in.mode),
        }
    }
}

pub use config_warnings::sign_in_warnings;
pub use files::MAX_FILE_BYTES;

/// Reads `tokenops.yaml` and every manifest, and checks them. On failure it returns every
/// problem found, each with file:line:column and a hint.
pub fn load(options: &LoadOptions) -> Result<Desired, crate::diag::Diagnostics> {
    load::load(options)
}
