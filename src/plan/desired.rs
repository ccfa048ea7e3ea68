//! The desired state as the plan engine sees it: each declared token reduced to what the
//! decision needs (platform object, scopes, effective policy, consumers with their non-secret
//! settings). Built from the loaded manifests by [`from_manifest`].

use std::collections::BTreeMap;

use crate::manifest::{ConsumerSpec, Desired, GitlabOwner, TokenKind, ZendeskWebhookAuth};

use serde::{Deserialize, Serialize};

pub use crate::manifest::{Mode, Strategy};

/// How a token kind gets a new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenClass {
    /// GitLab personal, project and group access tokens: the rotate call (old value dies at
    /// once), or create-then-revoke with the `overlap` strategy.
    Rotatable,
    /// Pipeline trigger tokens and Zendesk OAuth tokens: create a new one, switch consumers,
    /// revoke the old one.
    Replaceable,
    /// Zendesk OAuth client secrets: `generate_secret` replaces the secret at once.
    SecretReset,
    /// A random secret tokenops generates itself; its only record is the ledger.
    Generated,
    /// A legacy Zendesk API token: nobody can create one any more; never rotated.
    Legacy,
}

/// The effective rotation policy of one token, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Due when the time left is at most this.
    pub rotate_before_secs: i64,
    /// Lifetime of a new value (already capped at the platform maximum).
    pub lifetime_secs: i64,
    /// Rotate or overlap.
    pub strategy: Strategy,
    /// Auto or manual.
    pub mode: Mode,
}

/// One declared token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredToken {
    /// Manifest id.
    pub id: String,
    /// Kind, spelled as in manifests.
    pub kind: String,
    /// Platform instance name (`gitlab.com`, `global`…); empty for generated secrets.
    pub platform: String,
    /// The platform object in words (`project support/ops/x, token "name"`).
    pub object: String,
    /// Declared scopes, sorted (empty for kinds without scopes).
    pub scopes: Vec<String>,
    /// Effective policy.
    pub policy: Policy,
    /// How a new value is obtained.
    pub class: TokenClass,
    /// A project or group token: a new record means a new bot user.
    pub bot_owned: bool,
    /// Where the value goes.
    pub consumers: Vec<DesiredConsumer>,
}

/// One declared consumer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredConsumer {
    /// Stable consumer key (unique across manifests).
    pub key: String,
    /// Kind, spelled as in manifests.
    pub kind: String,
    /// The consumer in words (`gitlab.com: project support/ops/x variable SYNC_TOKEN`).
    pub label: String,
    /// Non-secret settings the manifest declares, compared with the live ones.
    pub settings: BTreeMap<String, String>,
    /// For manual consumers, what a person must do.
    pub instructions: Option<String>,
}

impl TokenClass {
    /// The class of a manifest token kind.
    pub fn of(kind: &TokenKind) -> TokenClass {
        match kind {
            TokenKind::GitlabPersonalAccessToken(_)
            | TokenKind::GitlabProjectAccessToken(_)
            | TokenKind::GitlabGroupAccessToken(_) => TokenClass::Rotatable,
            TokenKind::GitlabPipelineTriggerToken(_) | TokenKind::ZendeskOauthToken(_) => {
                TokenClass::Replaceable
            }
            TokenKind::ZendeskOauthClientSecret(_) => TokenClass::SecretReset,
            TokenKind::GeneratedSecret(_) => TokenClass::Generated,
            TokenKind::ZendeskApiToken(_) => TokenClass::Legacy,
        }
    }
}

/// Reduces the loaded manifests to what the plan engine needs, in manifest order.
pub fn from_manifest(desired: &Desired) -> Vec<DesiredToken> {
    desired
        .tokens
        .iter()
        .map(|declared| {
            let spec = &declared.spec;
            let policy = desired.rotation(spec);
            let mut scopes = spec.kind.scopes().to_vec();
            scopes.sort();
            DesiredToken {
                id: spec.id.clone(),
                kind: spec.kind.key().to_string(),
                platform: spec
                    .kind
                    .instance()
                    .map(|(_, name)| name.to_string())
                    .unwrap_or_default(),
                object: object_words(&spec.kind),
                scopes,
                policy: Policy {
                    rotate_before_secs: secs(policy.rotate_before.as_secs()),
                    lifetime_secs: secs(policy.lifetime.as_secs()),
                    strategy: policy.strategy,
                    mode: policy.mode,
                },
                class: TokenClass::of(&spec.kind),
                bot_owned: matches!(
                    spec.kind,
                    TokenKind::GitlabProjectAccessToken(_) | TokenKind::GitlabGroupAccessToken(_)
                ),
                consumers: spec.consumers.iter().map(consumer).collect(),
            }
        })
        .collect()
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The platform object a token kind names, in words.
pub fn object_words(kind: &TokenKind) -> String {
    match kind {
        TokenKind::GitlabPersonalAccessToken(t) => {
            format!("user {}, personal access token \"{}\"", t.user, t.name)
        }
        TokenKind::GitlabProjectAccessToken(t) => {
            format!("project {}, access token \"{}\"", t.project, t.name)
        }
        TokenKind::GitlabGroupAccessToken(t) => {
            format!("group {}, access token \"{}\"", t.group, t.name)
        }
        TokenKind::GitlabPipelineTriggerToken(t) => {
            format!(
                "project {}, pipeline trigger \"{}\"",
                t.project, t.description
            )
        }
        TokenKind::ZendeskOauthToken(t) => format!(
            "OAuth token of client {} ({})",
            t.client,
            t.scopes.join(" ")
        ),
        TokenKind::ZendeskOauthClientSecret(t) => {
            format!("secret of OAuth client {}", t.client)
        }
        TokenKind::ZendeskApiToken(t) => format!("API token {} used as {}", t.token_id, t.email),
        TokenKind::GeneratedSecret(t) => format!(
            "secret generated by tokenops ({} {:?} characters)",
            t.length, t.alphabet
        )
        .to_lowercase(),
    }
}

fn consumer(spec: &ConsumerSpec) -> DesiredConsumer {
    let key = spec
        .key()
        .map(|k| k.0)
        .unwrap_or_else(|| format!("manual:{}", manual_text(spec)));
    let mut settings = BTreeMap::new();
    let label = match spec {
        ConsumerSpec::GitlabCiVariable(v) => {
            for (name, value) in [
                ("masked", v.masked),
                ("protected", v.protected),
                ("hidden", v.hidden),
                ("raw", v.raw),
            ] {
                settings.insert(name.to_string(), value.to_string());
            }
            settings.insert("environment_scope".to_string(), v.environment_scope.clone());
            format!(
                "{}: {} variable {}{}",
                v.gitlab,
                owner_words(&v.owner),
                v.key,
                if v.environment_scope == "*" {
                    String::new()
                } else {
                    format!(" ({})", v.environment_scope)
                }
            )
        }
        ConsumerSpec::GitlabWebhook(h) => {
            if let Some(url) = &h.url {
                settings.insert("url".to_string(), url.clone());
            }
            if let Some(header) = &h.header {
                settings.insert("header".to_string(), header.clone());
            }
            let hook = match (&h.url, h.hook_id) {
                (_, Some(id)) => format!("hook #{id}"),
                (Some(url), None) => format!("hook {url}"),
                (None, None) => "hook".to_string(),
            };
            format!("{}: {} {}", h.gitlab, owner_words(&h.owner), hook)
        }
        ConsumerSpec::ZendeskWebhook(w) => {
            settings.insert("auth".to_string(), auth_words(w.auth).to_string());
            format!(
                "{}: webhook \"{}\" ({})",
                w.zendesk,
                w.target(),
                auth_words(w.auth)
            )
        }
        ConsumerSpec::ZendeskAppSetting(a) => {
            format!(
                "{}: app \"{}\" setting {}",
                a.zendesk,
                a.target(),
                a.setting
            )
        }
        ConsumerSpec::Manual(m) => format!("manual: {}", m.instructions),
    };
    DesiredConsumer {
        key,
        kind: spec.kind_key().to_string(),
        label,
        settings,
        instructions: match spec {
            ConsumerSpec::Manual(m) => Some(m.instructions.clone()),
            _ => None,
        },
    }
}

fn manual_text(spec: &ConsumerSpec) -> String {
    match spec {
        ConsumerSpec::Manual(m) => m.instructions.clone(),
        _ => String::new(),
    }
}

fn owner_words(owner: &GitlabOwner) -> String {
    match owner {
        GitlabOwner::Project(p) => format!("project {p}"),
        GitlabOwner::Group(g) => format!("group {g}"),
    }
}

/// The manifest spelling of a Zendesk webhook authentication type.
pub fn auth_words(auth: ZendeskWebhookAuth) -> &'static str {
    match auth {
        ZendeskWebhookAuth::BearerToken => "bearer_token",
        ZendeskWebhookAuth::BasicAuth => "basic_auth",
        ZendeskWebhookAuth::ApiKey => "api_key",
    }
}
