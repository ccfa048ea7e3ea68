//! Seeding: the YAML fixture format (users, groups, projects, tokens with expiries and
//! scopes, hooks, variables, Zendesk instances, apps, webhooks, OAuth clients and tokens,
//! legacy API tokens) and its loading into a [`World`]. Every secret in a seeded world is
//! minted by the sandbox itself; consumers refer to values by `value_of: <ref>`.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::state::{World, utc_date};

/// The seed behind `tokenops demo` and a bare `tokenops sandbox`: a live counterpart of the
/// example manifests, with two tokens due, one expired, one stale consumer and one
/// undeclared token.
const DEFAULT_SEED: &str = include_str!("seed/default.yaml");

/// A seed that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The YAML does not parse into the seed format.
    #[error("sandbox seed: {0}")]
    Yaml(#[from] crate::yaml::YamlError),
    /// The seed parses but refers to something it does not declare.
    #[error("sandbox seed: {0}")]
    Invalid(String),
}

fn bad(message: String) -> SeedError {
    SeedError::Invalid(message)
}

/// A sandbox fixture. See `src/sandbox/seed/default.yaml` for a complete example.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The sandbox clock's start (RFC 3339); absent means "the time given at start".
    #[serde(default)]
    now: Option<String>,
    /// Shared secrets the sandbox generates (e.g. webhook secrets): `{ref, length}`.
    #[serde(default)]
    secrets: Vec<SecretSeed>,
    #[serde(default)]
    gitlab: Vec<GitLabSeed>,
    #[serde(default)]
    zendesk: Vec<ZendeskSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretSeed {
    r#ref: String,
    #[serde(default = "default_secret_length")]
    length: usize,
}

fn default_secret_length() -> usize {
    40
}

/// A value in a seed: a reference to a value the sandbox issued (`{value_of: REF}`, with an
/// optional `prefix` such as `"Bearer "`), or plain non-secret text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ValueSeed {
    Ref {
        value_of: String,
        #[serde(default)]
        prefix: String,
    },
    Plain(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitLabSeed {
    name: String,
    /// Username of the admin whose token the sandbox hands out.
    admin: Option<String>,
    #[serde(default)]
    max_terraform_state_size_bytes: usize,
    #[serde(default)]
    users: Vec<UserSeed>,
    #[serde(default)]
    groups: Vec<SpaceSeed>,
    #[serde(default)]
    projects: Vec<SpaceSeed>,
    #[serde(default)]
    tokens: Vec<TokenSeed>,
    #[serde(default)]
    triggers: Vec<TriggerSeed>,
    #[serde(default)]
    deploy_tokens: Vec<DeployTokenSeed>,
    /// Service accounts of top-level groups, with their tokens (loaded after everything
    /// else, so that adding one leaves every other record's id as it was).
    #[serde(default)]
    service_accounts: Vec<ServiceAccountSeed>,
    #[serde(default)]
    hooks: Vec<HookSeed>,
    #[serde(default)]
    variables: Vec<VariableSeed>,
    #[serde(default)]
    merge_requests: Vec<MergeRequestSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSeed {
    username: String,
    name: Option<String>,
    #[serde(default)]
    admin: bool,
    /// The top-level group whose enterprise user this is (GitLab.com).
    enterprise_of: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceSeed {
    path: String,
    name: Option<String>,
    /// Username to role (`guest`, `reporter`, `developer`, `maintainer`, `owner` or a number).
    #[serde(default)]
    members: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenSeed {
    r#ref: Option<String>,
    /// A personal token of this user...
    user: Option<String>,
    /// ...or a project token...
    project: Option<String>,
    /// ...or a group token.
    group: Option<String>,
    name: String,
    description: Option<String>,
    scopes: Vec<String>,
    access_level: Option<String>,
    /// A date, or `+30d` / `-3d` relative to the seed's now.
    expires_at: Option<String>,
    created_at: Option<String>,
    last_used_at: Option<String>,
    #[serde(default)]
    revoked: bool,
    /// When set, the token was rotated once before: the revoked predecessor's value is
    /// available under this ref.
    previous_ref: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerSeed {
    r#ref: Option<String>,
    project: String,
    description: String,
    owner: String,
    expires_at: Option<String>,
    created_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployTokenSeed {
    r#ref: Option<String>,
    /// A project's deploy token...
    project: Option<String>,
    /// ...or a group's.
    group: Option<String>,
    name: String,
    /// Absent: GitLab's `gitlab+deploy-token-{id}`.
    username: Option<String>,
    scopes: Vec<String>,
    expires_at: Option<String>,
    created_at: Option<String>,
    #[serde(default)]
    revoked: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceAccountSeed {
    /// The top-level group that owns it.
    group: String,
    username: String,
    name: Option<String>,
    #[serde(default)]
    tokens: Vec<ServiceAccountTokenSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceAccountTokenSeed {
    r#ref: Option<String>,
    name: String,
    description: Option<String>,
    scopes: Vec<String>,
    expires_at: Option<String>,
    created_at: Option<String>,
    last_used_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookSeed {
    project: Option<String>,
    group: Option<String>,
    url: String,
    name: Option<String>,
    token: Option<ValueSeed>,
    #[serde(default)]
    custom_headers: BTreeMap<String, ValueSeed>,
    #[serde(default)]
    events: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableSeed {
    project: Option<String>,
    group: Option<String>,
    key: String,
    value: ValueSeed,
    #[serde(default)]
    masked: bool,
    #[serde(default)]
    protected: bool,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    raw: bool,
    environment_scope: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeRequestSeed {
    project: String,
    iid: u64,
    title: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZendeskSeed {
    name: String,
    /// E-mail of the admin whose OAuth token the sandbox hands out.
    admin: Option<String>,
    #[serde(default = "yes")]
    api_token_access: bool,
    #[serde(default)]
    users: Vec<ZendeskUserSeed>,
    #[serde(default)]
    apps: Vec<AppSeed>,
    #[serde(default)]
    webhooks: Vec<WebhookSeed>,
    #[serde(default)]
    oauth_clients: Vec<ClientSeed>,
    #[serde(default)]
    oauth_tokens: Vec<OAuthTokenSeed>,
    #[serde(default)]
    api_tokens: Vec<ApiTokenSeed>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZendeskUserSeed {
    name: String,
    email: String,
    #[serde(default = "agent")]
    role: String,
}

fn agent() -> String {
    "agent".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppSeed {
    name: String,
    #[serde(default = "yes")]
    owned: bool,
    #[serde(default)]
    parameters: Vec<ParameterSeed>,
    /// Settings of its installation (absent: not installed).
    installation: Option<BTreeMap<String, ValueSeed>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterSeed {
    name: String,
    #[serde(default)]
    secure: bool,
    #[serde(default)]
    required: bool,
    kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookSeed {
    name: String,
    endpoint: String,
    #[serde(default)]
    subscriptions: Vec<String>,
    authentication: Option<AuthSeed>,
    #[serde(default)]
    custom_headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthSeed {
    r#type: String,
    data: BTreeMap<String, ValueSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSeed {
    /// The ref under which the client's secret is available.
    r#ref: Option<String>,
    identifier: String,
    name: String,
    #[serde(default = "confidential")]
    kind: String,
    /// When the client was created (default: the seed's now). Zendesk's expiry policy gives
    /// expiring tokens to clients created after 2026-04-30.
    created_at: Option<String>,
}

fn confidential() -> String {
    "confidential".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OAuthTokenSeed {
    r#ref: Option<String>,
    client: String,
    /// E-mail of the user it acts as (default: the admin).
    user: Option<String>,
    scopes: Vec<String>,
    expires_at: Option<String>,
    /// Also issue a refresh token valid until this time.
    refresh_expires_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiTokenSeed {
    r#ref: Option<String>,
    id: u64,
    description: String,
    user: String,
    created_at: Option<String>,
    last_used: Option<String>,
}

mod load;
mod load_zendesk;

impl Seed {
    /// The default seed (the live counterpart of the example manifests).
    pub fn default_demo() -> Seed {
        Seed::from_yaml_str(DEFAULT_SEED, "src/sandbox/seed/default.yaml")
            .expect("the built-in seed parses")
    }

    /// Parses a seed; `origin` names the text in errors (a path or a label).
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Seed, SeedError> {
        Ok(crate::yaml::from_str(text, origin)?)
    }

    /// The clock start the seed asks for, if any.
    pub fn now(&self) -> Option<Timestamp> {
        self.now.as_deref().and_then(|n| n.parse().ok())
    }

    /// Loads the seed into `world`, with relative dates judged from `now`.
    pub(crate) fn load(&self, world: &mut World, now: Timestamp) -> Result<(), SeedError> {
        load::load(self, world, now)
    }
}

/// Parses a seed time: RFC 3339, a date (its midnight UTC), or `±N` with `d`, `h` or `m`.
fn when(text: &str, now: Timestamp, what: &str) -> Result<Timestamp, SeedError> {
    let t = text.trim();
    if let Some(rel) = t
        .strip_prefix('+')
        .map(|r| (1, r))
        .or_else(|| t.strip_prefix('-').map(|r| (-1, r)))
    {
        let (sign, body) = rel;
        let (num, unit) = body.split_at(body.len().saturating_sub(1));
        let n: i64 = num.parse().map_err(|_| {
            bad(format!(
                "{what}: cannot read {text:?}; use +30d, -3d, +36h or a date"
            ))
        })?;
        let secs = match unit {
            "d" => n * 86_400,
            "h" => n * 3_600,
            "m" => n * 60,
            _ => {
                return Err(bad(format!(
                    "{what}: unknown unit in {text:?}; use d, h or m"
                )));
            }
        };
        return Ok(now
            .saturating_add(SignedDuration::from_secs(sign * secs))
            .unwrap_or(now));
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    t.parse::<Date>()
        .map(super::state::midnight_utc)
        .map_err(|_| {
            bad(format!(
                "{what}: cannot read {text:?}; use RFC 3339, YYYY-MM-DD or +30d"
            ))
        })
}

/// A seed date (for `expires_at`): as [`when`], then its UTC date.
fn date(text: &str, now: Timestamp, what: &str) -> Result<Date, SeedError> {
    when(text, now, what).map(utc_date)
}

/// Reads a role name or number.
fn level(text: &str, what: &str) -> Result<u8, SeedError> {
    Ok(match text {
        "guest" => 10,
        "planner" => 15,
        "reporter" => 20,
        "developer" => 30,
        "maintainer" => 40,
        "owner" => 50,
        other => other
            .parse()
            .map_err(|_| bad(format!("{what}: unknown role {other:?}; use guest, reporter, developer, maintainer or owner")))?,
    })
}
