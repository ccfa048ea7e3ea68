//! The registry of token and consumer kinds: the one place that lists every kind.
//!
//! Each kind lives in its own driver file under [`tokens`] or [`consumers`]: the manifest
//! struct (its fields, serde and JSON Schema) and the implementation of [`TokenDriver`] or
//! [`ConsumerDriver`], which says what the kind is, what discovery must list for it, how its
//! live record is read and matched, and how a new value is obtained, learned after a lost
//! answer, written, verified and retired.
//!
//! The two tables below generate the manifest enums ([`TokenKind`], [`ConsumerSpec`]), their
//! plain identifiers ([`TokenKindId`], [`ConsumerKindId`]), the list of kind keys, the JSON
//! Schema of each kind, and the only exhaustive matches over kinds: from a manifest value to
//! its driver. Adding a kind is one line here plus its driver file; a driver that leaves out
//! a trait method does not compile, and nothing else matches on kinds.

pub mod consumer;
pub mod entry;
pub mod gitlab;
pub mod token;
pub mod zendesk;

pub use consumer::{ConsumerCheck, ConsumerDriver, ConsumerLiveCx, Credential, Part, Proof};
pub use token::{
    Issued, Journal, KindCheck, NewExpiry, ScopeRules, StageCx, Stop, TokenClass, TokenDriver,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};

/// Token kind drivers, one file per kind.
pub mod tokens {
    pub mod generated_secret;
    pub mod gitlab_deploy_token;
    pub mod gitlab_group_access_token;
    pub mod gitlab_personal_access_token;
    pub mod gitlab_pipeline_trigger_token;
    pub mod gitlab_project_access_token;
    pub mod gitlab_service_account_token;
    mod resource_access_token;
    pub mod zendesk_api_token;
    pub mod zendesk_oauth_client_secret;
    pub mod zendesk_oauth_token;
    pub mod zendesk_webhook_signing_secret;
}

/// Consumer kind drivers, one file per kind.
pub mod consumers {
    pub mod command;
    pub mod gitlab_ci_variable;
    pub mod gitlab_webhook;
    pub mod manual;
    pub mod tokenops_credential;
    pub mod zendesk_app_setting;
    pub mod zendesk_webhook;
}

macro_rules! token_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $key:literal => $module:ident :: $ty:ident ),* $(,)?) => {
        /// The kind of a token, written as the key that holds its coordinates.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        pub enum TokenKind {
            $( $(#[$doc])* #[serde(rename = $key)] $variant(tokens::$module::$ty), )*
        }

        /// A token kind without its coordinates (what discovery reports for a token it found).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum TokenKindId {
            $( $(#[$doc])* #[serde(rename = $key)] $variant, )*
        }

        /// Every token kind key, in registry order.
        pub const TOKEN_KINDS: &[&str] = &[$($key),*];

        impl TokenKind {
            /// The driver of this kind, holding the declared coordinates.
            pub fn driver(&self) -> &dyn TokenDriver {
                match self { $( TokenKind::$variant(t) => t, )* }
            }

            /// The kind without its coordinates.
            pub fn id(&self) -> TokenKindId {
                match self { $( TokenKind::$variant(_) => TokenKindId::$variant, )* }
            }

            /// The JSON Schema of each kind's coordinates, by kind key.
            pub fn schemas(generator: &mut schemars::SchemaGenerator) -> Vec<(&'static str, schemars::Schema)> {
                vec![$( ($key, generator.subschema_for::<tokens::$module::$ty>()), )*]
            }
        }

        impl TokenKindId {
            /// The kind key as written in manifests.
            pub fn key(self) -> &'static str {
                match self { $( TokenKindId::$variant => $key, )* }
            }

            /// What is known about the kind without coordinates.
            pub fn meta(self) -> &'static TokenMeta {
                match self { $( TokenKindId::$variant => &tokens::$module::META, )* }
            }

            /// The kind with manifest key `key`.
            pub fn from_key(key: &str) -> Option<TokenKindId> {
                match key { $( $key => Some(TokenKindId::$variant), )* _ => None }
            }
        }
    };
}

macro_rules! consumer_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $key:literal => $module:ident :: $ty:ident ),* $(,)?) => {
        /// One place a token's value is used, written as `- KIND: { ... }`.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        pub enum ConsumerSpec {
            $( $(#[$doc])* #[serde(rename = $key)] $variant(consumers::$module::$ty), )*
        }

        /// A consumer kind without its coordinates.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum ConsumerKindId {
            $( $(#[$doc])* #[serde(rename = $key)] $variant, )*
        }

        /// Every consumer kind key, in registry order.
        pub const CONSUMER_KINDS: &[&str] = &[$($key),*];

        impl ConsumerSpec {
            /// The driver of this kind, holding the declared coordinates.
            pub fn driver(&self) -> &dyn ConsumerDriver {
                match self { $( ConsumerSpec::$variant(c) => c, )* }
            }

            /// The kind without its coordinates.
            pub fn id(&self) -> ConsumerKindId {
                match self { $( ConsumerSpec::$variant(_) => ConsumerKindId::$variant, )* }
            }
        }

        impl ConsumerKindId {
            /// The kind key as written in manifests.
            pub fn key(self) -> &'static str {
                match self { $( ConsumerKindId::$variant => $key, )* }
            }
        }
    };
}

token_kinds! {
    /// A GitLab personal access token of a (service) user.
    GitlabPersonalAccessToken = "gitlab_personal_access_token"
        => gitlab_personal_access_token::GitlabPersonalAccessToken,
    /// A GitLab project access token (owned by the project's bot user).
    GitlabProjectAccessToken = "gitlab_project_access_token"
        => gitlab_project_access_token::GitlabProjectAccessToken,
    /// A GitLab group access token (owned by the group's bot user).
    GitlabGroupAccessToken = "gitlab_group_access_token"
        => gitlab_group_access_token::GitlabGroupAccessToken,
    /// A personal access token of a GitLab group service account (the group's Owner rotates
    /// it through the group's routes).
    GitlabServiceAccountToken = "gitlab_service_account_token"
        => gitlab_service_account_token::GitlabServiceAccountToken,
    /// A GitLab pipeline trigger token (no rotate call: replaced by create + delete).
    GitlabPipelineTriggerToken = "gitlab_pipeline_trigger_token"
        => gitlab_pipeline_trigger_token::GitlabPipelineTriggerToken,
    /// A GitLab deploy token of a project or group (no rotate call: replaced by create +
    /// delete; a username and a value).
    GitlabDeployToken = "gitlab_deploy_token" => gitlab_deploy_token::GitlabDeployToken,
    /// A Zendesk OAuth access token of a confidential client.
    ZendeskOauthToken = "zendesk_oauth_token" => zendesk_oauth_token::ZendeskOauthToken,
    /// The secret of a Zendesk OAuth client.
    ZendeskOauthClientSecret = "zendesk_oauth_client_secret"
        => zendesk_oauth_client_secret::ZendeskOauthClientSecret,
    /// The secret a Zendesk webhook signs its requests with (reset, no overlap).
    ZendeskWebhookSigningSecret = "zendesk_webhook_signing_secret"
        => zendesk_webhook_signing_secret::ZendeskWebhookSigningSecret,
    /// A legacy Zendesk API token: tracked, never rotated by API.
    ZendeskApiToken = "zendesk_api_token" => zendesk_api_token::ZendeskApiToken,
    /// A random shared secret tokenops mints itself.
    GeneratedSecret = "generated_secret" => generated_secret::GeneratedSecret,
}

consumer_kinds! {
    /// A project or group CI/CD variable.
    GitlabCiVariable = "gitlab_ci_variable" => gitlab_ci_variable::GitlabCiVariable,
    /// A project or group webhook: its secret token or a custom header.
    GitlabWebhook = "gitlab_webhook" => gitlab_webhook::GitlabWebhook,
    /// The authentication of a Zendesk webhook.
    ZendeskWebhook = "zendesk_webhook" => zendesk_webhook::ZendeskWebhook,
    /// A setting of an installed Zendesk app.
    ZendeskAppSetting = "zendesk_app_setting" => zendesk_app_setting::ZendeskAppSetting,
    /// A step a person does by hand; it becomes a checklist item.
    Manual = "manual" => manual::Manual,
    /// A receiver written by running a command with the value on standard input.
    Command = "command" => command::Command,
    /// The credential tokenops itself signs in to an instance with.
    TokenopsCredential = "tokenops_credential" => tokenops_credential::TokenopsCredential,
}

impl TokenKind {
    /// The kind key as written in manifests.
    pub fn key(&self) -> &'static str {
        self.id().key()
    }

    /// The platform instance the token lives on.
    pub fn instance(&self) -> Option<(crate::Platform, &str)> {
        self.driver().instance()
    }

    /// The scopes the token is declared with (empty for kinds without scopes).
    pub fn scopes(&self) -> &[String] {
        self.driver().scopes()
    }
}

impl ConsumerSpec {
    /// The kind key as written in manifests.
    pub fn kind_key(&self) -> &'static str {
        self.id().key()
    }

    /// The platform instance written to, if any.
    pub fn instance(&self) -> Option<(crate::Platform, &str)> {
        self.driver().instance()
    }

    /// The identity of the place written to. Manual steps have no shared identity.
    pub fn key(&self) -> Option<crate::manifest::ConsumerKey> {
        self.driver().key()
    }
}
