//! `tokenops.yaml`: the platform instances, rotation defaults, ledger and check settings
//! every manifest shares.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Duration, RotationOverride};

/// The whole of `tokenops.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "tokenops.yaml")]
pub struct Config {
    /// Format version; always 1.
    pub version: u32,
    /// GitLab instances tokens and consumers may name.
    #[serde(default)]
    pub gitlab: Vec<GitlabInstance>,
    /// Zendesk instances tokens and consumers may name.
    #[serde(default)]
    pub zendesk: Vec<ZendeskInstance>,
    /// Defaults for every token.
    #[serde(default)]
    pub defaults: Defaults,
    /// Where rotation records (the ledger) are kept.
    #[serde(default)]
    pub state: LedgerSettings,
    /// Settings of `tokenops check`.
    #[serde(default)]
    pub check: CheckSettings,
    /// Where `apply` escrows new values before anything else (age, X25519). Without it,
    /// `apply` refuses to rotate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<EscrowSettings>,
}

/// The escrow key: a public age recipient here, the matching identity in the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscrowSettings {
    /// Public age X25519 recipient (`age1…`) new values are encrypted to.
    pub recipient: String,
    /// Environment variable holding the matching identity (`AGE-SECRET-KEY-1…`), needed to
    /// resume an unfinished rotation.
    #[serde(default = "default_identity_env")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub identity_env: String,
}

fn default_identity_env() -> String {
    "TOKENOPS_ESCROW_IDENTITY".to_string()
}

/// The top-level keys of `tokenops.yaml`.
pub const CONFIG_FIELDS: [&str; 7] = [
    "version", "gitlab", "zendesk", "defaults", "state", "check", "escrow",
];

impl Default for Config {
    fn default() -> Self {
        Config {
            version: 1,
            gitlab: Vec::new(),
            zendesk: Vec::new(),
            defaults: Defaults::default(),
            state: LedgerSettings::default(),
            check: CheckSettings::default(),
            escrow: None,
        }
    }
}

impl Config {
    /// The GitLab instance called `name`.
    pub fn gitlab(&self, name: &str) -> Option<&GitlabInstance> {
        self.gitlab.iter().find(|g| g.name == name)
    }
    /// The Zendesk instance called `name`.
    pub fn zendesk(&self, name: &str) -> Option<&ZendeskInstance> {
        self.zendesk.iter().find(|z| z.name == name)
    }
}

impl ZendeskInstance {
    /// Whether the instance signs in through the client-credentials grant.
    pub fn client_credentials(&self) -> bool {
        self.client_id_env.is_some() && self.client_secret_env.is_some()
    }
}

/// A GitLab instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabInstance {
    /// The name manifests use (e.g. `gitlab.com`).
    #[schemars(pattern(super::names::ID_PATTERN))]
    pub name: String,
    /// Base URL, e.g. `https://gitlab.com`.
    #[schemars(url)]
    pub url: String,
    /// Environment variable holding the access token tokenops itself uses (`api`): what
    /// `apply`, `check --report-issue` and `unlock` sign in with.
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub token_env: String,
    /// Environment variable holding a read-only token (`read_api`) for `plan`, `check`
    /// without `--report-issue` and `import`, so that merge-request pipelines, which cannot
    /// read protected variables, can plan. When it is unset, those commands use `token_env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub read_token_env: Option<String>,
}

/// A Zendesk instance. Sign in with an OAuth client's identifier and secret
/// (`client_id_env` and `client_secret_env`: each run mints its own short-lived access token
/// with the client-credentials grant and revokes it at the end), with a static OAuth access
/// token (`oauth_token_env`, which lapses under Zendesk's expiry policy), or (legacy, dead on
/// 2027-04-30) with `email_env` and `api_token_env`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["client_id_env", "client_secret_env"]}, {"required": ["oauth_token_env"]}, {"required": ["email_env", "api_token_env"]}]))]
pub struct ZendeskInstance {
    /// The name manifests use (e.g. `global`).
    #[schemars(pattern(super::names::ID_PATTERN))]
    pub name: String,
    /// A readable name for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Base URL, e.g. `https://example.zendesk.com`.
    #[schemars(url)]
    pub url: String,
    /// Environment variable holding the identifier (`client_id`) of the confidential OAuth
    /// client tokenops signs in with through the client-credentials grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub client_id_env: Option<String>,
    /// Environment variable holding that client's secret: the long-lived credential, declared
    /// as a `zendesk_oauth_client_secret` with a `tokenops_credential` consumer so that
    /// tokenops rotates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub client_secret_env: Option<String>,
    /// Environment variable holding a static OAuth access token. Under Zendesk's expiry
    /// policy such a token lapses (within 48 hours for clients created after 2026-04-30, and
    /// for every local client from 2027-04-01): prefer `client_id_env` and
    /// `client_secret_env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub oauth_token_env: Option<String>,
    /// Environment variable holding the agent email (legacy API-token sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub email_env: Option<String>,
    /// Environment variable holding a legacy API token (Zendesk deactivates every API token
    /// on 2027-04-30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub api_token_env: Option<String>,
    /// Environment variable holding a read-scoped OAuth access token (`read`) for `plan`,
    /// `check` without `--report-issue` and `import`, so that merge-request pipelines can plan
    /// without the protected credential. When it is unset, those commands use the one above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(super::names::ENV_PATTERN))]
    pub read_oauth_token_env: Option<String>,
}

/// Defaults shared by every token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Default rotation policy (built-in: 21d, 365d, rotate, auto).
    #[serde(default)]
    pub rotation: RotationOverride,
}

/// Where the ledger lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "backend", rename_all = "snake_case", deny_unknown_fields)]
pub enum LedgerSettings {
    /// A JSON file on disk.
    Local {
        /// Path of the ledger file, relative to tokenops.yaml's directory.
        #[serde(default = "default_state_path")]
        path: String,
    },
    /// The GitLab-managed Terraform state of a project: shared by every CI job with no
    /// set-up. In a GitLab pipeline it defaults to the project running it, signed in as
    /// `gitlab-ci-token` with the job's `CI_JOB_TOKEN`; outside one, `gitlab` and `project`
    /// say where, and that instance's credential signs in.
    Gitlab {
        /// The GitLab instance (a `name` under `gitlab:`) that holds the state. In a pipeline
        /// the default is the GitLab running it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gitlab: Option<String>,
        /// Full path (or numeric id) of the project. In a pipeline the default is the project
        /// running it (`CI_PROJECT_ID`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        project: Option<String>,
        /// The state's name.
        #[serde(default = "default_state_name")]
        name: String,
        /// Environment variable with a token to sign in with instead of the job token or
        /// the instance's credential (it needs the Maintainer role on the project to write).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(pattern(super::names::ENV_PATTERN))]
        token_env: Option<String>,
    },
    /// Terraform's HTTP state protocol at an explicit address (GitLab serves it for every
    /// project).
    Http {
        /// State URL, e.g. `https://gitlab.com/api/v4/projects/42/terraform/state/tokenops`.
        #[schemars(url)]
        address: String,
        /// Lock URL (default: `address` + `/lock`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lock_address: Option<String>,
        /// Environment variable with the user name for basic auth.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(pattern(super::names::ENV_PATTERN))]
        username_env: Option<String>,
        /// Environment variable with the password (token) for basic auth.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(pattern(super::names::ENV_PATTERN))]
        password_env: Option<String>,
    },
}

fn default_state_name() -> String {
    "tokenops".to_string()
}

fn default_state_path() -> String {
    ".tokenops/state.json".to_string()
}

impl Default for LedgerSettings {
    fn default() -> Self {
        LedgerSettings::Local {
            path: default_state_path(),
        }
    }
}

/// Settings of `tokenops check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    /// Report tokens that expire within this window.
    #[serde(default = "default_within")]
    pub within: Duration,
    /// Where to look for tokens no manifest declares.
    #[serde(default)]
    pub discover: Discover,
    /// The issue the report is written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportTarget>,
}

fn default_within() -> Duration {
    Duration::from_days(21)
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            within: default_within(),
            discover: Discover::default(),
            report: None,
        }
    }
}

/// Discovery scope of `tokenops check`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Discover {
    /// GitLab users whose personal access tokens are listed.
    #[serde(default)]
    pub gitlab_users: Vec<String>,
    /// GitLab groups whose projects and subgroups are searched for tokens.
    #[serde(default)]
    pub gitlab_groups: Vec<String>,
    /// Also list the pipeline trigger tokens of every project under `gitlab_groups`: one more
    /// request per project. Trigger tokens expire only where the instance enables trigger token
    /// expiry (GitLab's `trigger_token_expiration` feature flag, undocumented on GitLab.com);
    /// elsewhere they never expire, so there is nothing to report and the lists are skipped.
    /// Declared trigger tokens are checked either way.
    #[serde(default)]
    pub gitlab_pipeline_triggers: bool,
    /// Also list the deploy tokens of every project and group under `gitlab_groups`: one
    /// more request per project and group. Declared deploy tokens are checked either way.
    #[serde(default)]
    pub gitlab_deploy_tokens: bool,
    /// Zendesk instances whose legacy API tokens are listed.
    #[serde(default)]
    pub zendesk: Vec<String>,
}

/// The GitLab project whose issue holds the check report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportTarget {
    /// The GitLab instance.
    pub gitlab: String,
    /// Full path of the project.
    pub project: String,
    /// Labels of the report issue.
    #[serde(default)]
    pub labels: Vec<String>,
}
