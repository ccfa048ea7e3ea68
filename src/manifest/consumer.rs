//! Consumer kinds: the places a token's value is written to, and the stable
//! [`ConsumerKey`] that identifies each place across manifests.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tree::HINT;

/// One place a token's value is used, written as `- KIND: { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerSpec {
    /// A project or group CI/CD variable.
    GitlabCiVariable(GitlabCiVariable),
    /// A project or group webhook: its secret token or a custom header.
    GitlabWebhook(GitlabWebhook),
    /// The authentication of a Zendesk webhook.
    ZendeskWebhook(ZendeskWebhook),
    /// A setting of an installed Zendesk app.
    ZendeskAppSetting(ZendeskAppSetting),
    /// A step a person does by hand; it becomes a checklist item.
    Manual(Manual),
}

/// Every consumer kind key, in the order of [`ConsumerSpec`].
pub const CONSUMER_KINDS: [&str; 5] = [
    "gitlab_ci_variable",
    "gitlab_webhook",
    "zendesk_webhook",
    "zendesk_app_setting",
    "manual",
];

/// A stable identity for a consumer, e.g.
/// `gitlab:gitlab.com/project/support/ops/x/variable/KEY@*`. Two tokens writing the same key
/// would overwrite each other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConsumerKey(pub String);

impl fmt::Display for ConsumerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ConsumerSpec {
    /// The kind key as written in manifests.
    pub fn kind_key(&self) -> &'static str {
        match self {
            ConsumerSpec::GitlabCiVariable(_) => CONSUMER_KINDS[0],
            ConsumerSpec::GitlabWebhook(_) => CONSUMER_KINDS[1],
            ConsumerSpec::ZendeskWebhook(_) => CONSUMER_KINDS[2],
            ConsumerSpec::ZendeskAppSetting(_) => CONSUMER_KINDS[3],
            ConsumerSpec::Manual(_) => CONSUMER_KINDS[4],
        }
    }

    /// The platform instance written to, if any.
    pub fn instance(&self) -> Option<(super::Platform, &str)> {
        use super::Platform::{Gitlab, Zendesk};
        match self {
            ConsumerSpec::GitlabCiVariable(c) => Some((Gitlab, &c.gitlab)),
            ConsumerSpec::GitlabWebhook(c) => Some((Gitlab, &c.gitlab)),
            ConsumerSpec::ZendeskWebhook(c) => Some((Zendesk, &c.zendesk)),
            ConsumerSpec::ZendeskAppSetting(c) => Some((Zendesk, &c.zendesk)),
            ConsumerSpec::Manual(_) => None,
        }
    }

    /// The identity of the place written to. Manual steps have no shared identity.
    pub fn key(&self) -> Option<ConsumerKey> {
        let key = match self {
            ConsumerSpec::GitlabCiVariable(c) => format!(
                "gitlab:{}/{}/variable/{}@{}",
                c.gitlab,
                c.owner.path(),
                c.key,
                c.environment_scope
            ),
            ConsumerSpec::GitlabWebhook(c) => {
                let hook = match (&c.url, c.hook_id) {
                    (_, Some(id)) => format!("#{id}"),
                    (Some(url), None) => url.clone(),
                    (None, None) => String::new(),
                };
                let slot = match &c.header {
                    Some(h) => format!("header/{}", h.to_ascii_lowercase()),
                    None => "token".to_string(),
                };
                format!("gitlab:{}/{}/hook/{hook}/{slot}", c.gitlab, c.owner.path())
            }
            ConsumerSpec::ZendeskWebhook(c) => {
                format!("zendesk:{}/webhook/{}", c.zendesk, c.target())
            }
            ConsumerSpec::ZendeskAppSetting(c) => format!(
                "zendesk:{}/app/{}/setting/{}",
                c.zendesk,
                c.target(),
                c.setting
            ),
            ConsumerSpec::Manual(_) => return None,
        };
        Some(ConsumerKey(key))
    }
}

/// Where a GitLab variable or hook lives: a project or a group, by full path.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GitlabOwner {
    /// A project path such as `support/ops/bridge`.
    Project(String),
    /// A group path such as `support/ops`.
    Group(String),
}

impl GitlabOwner {
    /// `project/PATH` or `group/PATH`.
    pub fn path(&self) -> String {
        match self {
            GitlabOwner::Project(p) => format!("project/{p}"),
            GitlabOwner::Group(g) => format!("group/{g}"),
        }
    }
}

/// A CI/CD variable of a project or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "GitlabCiVariableRepr", into = "GitlabCiVariableRepr")]
pub struct GitlabCiVariable {
    /// The GitLab instance.
    pub gitlab: String,
    /// The project or group that holds the variable.
    pub owner: GitlabOwner,
    /// Variable key (`[A-Za-z0-9_]`, at most 255 characters).
    pub key: String,
    /// Environment scope (`*` for all).
    pub environment_scope: String,
    /// Hide the value in job logs.
    pub masked: bool,
    /// Only pass it to protected branches and tags.
    pub protected: bool,
    /// Masked and hidden: the value can never be read back (creation only).
    pub hidden: bool,
    /// No `$VAR` expansion; allows any non-space characters in a masked value.
    pub raw: bool,
}

/// The YAML shape of a CI variable consumer (exactly one of `project` and `group`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GitlabCiVariable")]
#[schemars(extend("oneOf" = [{"required": ["project"]}, {"required": ["group"]}]))]
pub struct GitlabCiVariableRepr {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project holding the variable (or use `group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Full path of the group holding the variable (or use `project`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Variable key (`[A-Za-z0-9_]`, at most 255 characters).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_]{1,255}$"))]
    pub key: String,
    /// Environment scope, `*` (all environments) by default.
    #[serde(default = "star")]
    pub environment_scope: String,
    /// Hide the value in job logs (the value must pass GitLab's masking rules).
    #[serde(default)]
    pub masked: bool,
    /// Only pass the variable to protected branches and tags.
    #[serde(default)]
    pub protected: bool,
    /// Masked and hidden: never readable again (GitLab sets this only at creation).
    #[serde(default)]
    pub hidden: bool,
    /// Do not expand `$VAR` references; lets a masked value hold any non-space character.
    #[serde(default)]
    pub raw: bool,
}

fn star() -> String {
    "*".to_string()
}

fn owner_of(project: Option<String>, group: Option<String>) -> Result<GitlabOwner, String> {
    match (project, group) {
        (Some(p), None) => Ok(GitlabOwner::Project(p)),
        (None, Some(g)) => Ok(GitlabOwner::Group(g)),
        (Some(_), Some(_)) => Err(format!(
            "both `project` and `group` are given{HINT}keep only the one that holds it"
        )),
        (None, None) => Err(format!(
            "missing field `project` (or `group`){HINT}add `project: PATH` or `group: PATH`"
        )),
    }
}

fn split_owner(owner: GitlabOwner) -> (Option<String>, Option<String>) {
    match owner {
        GitlabOwner::Project(p) => (Some(p), None),
        GitlabOwner::Group(g) => (None, Some(g)),
    }
}

impl TryFrom<GitlabCiVariableRepr> for GitlabCiVariable {
    type Error = String;
    fn try_from(r: GitlabCiVariableRepr) -> Result<Self, String> {
        Ok(GitlabCiVariable {
            owner: owner_of(r.project, r.group)?,
            gitlab: r.gitlab,
            key: r.key,
            environment_scope: r.environment_scope,
            masked: r.masked,
            protected: r.protected,
            hidden: r.hidden,
            raw: r.raw,
        })
    }
}

impl From<GitlabCiVariable> for GitlabCiVariableRepr {
    fn from(v: GitlabCiVariable) -> Self {
        let (project, group) = split_owner(v.owner);
        GitlabCiVariableRepr {
            gitlab: v.gitlab,
            project,
            group,
            key: v.key,
            environment_scope: v.environment_scope,
            masked: v.masked,
            protected: v.protected,
            hidden: v.hidden,
            raw: v.raw,
        }
    }
}

/// A project or group webhook that carries the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "GitlabWebhookRepr", into = "GitlabWebhookRepr")]
pub struct GitlabWebhook {
    /// The GitLab instance.
    pub gitlab: String,
    /// The project or group that owns the hook.
    pub owner: GitlabOwner,
    /// The hook's URL (identifies it when `hook_id` is absent).
    pub url: Option<String>,
    /// The hook's numeric id.
    pub hook_id: Option<u64>,
    /// A custom header carrying the value; `None` means the hook's secret token.
    pub header: Option<String>,
    /// Text put before the value in the custom header (e.g. `Bearer `).
    pub header_prefix: Option<String>,
}

/// The YAML shape of a GitLab webhook consumer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GitlabWebhook")]
#[schemars(extend("oneOf" = [{"required": ["project"]}, {"required": ["group"]}]))]
#[schemars(extend("anyOf" = [{"required": ["url"]}, {"required": ["hook_id"]}]))]
pub struct GitlabWebhookRepr {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project owning the hook (or use `group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Full path of the group owning the hook (or use `project`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The hook's URL; identifies the hook unless `hook_id` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The hook's numeric id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_id: Option<u64>,
    /// Write the value into this custom header instead of the secret token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Text before the value in the custom header, e.g. `"Bearer "`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_prefix: Option<String>,
}

impl TryFrom<GitlabWebhookRepr> for GitlabWebhook {
    type Error = String;
    fn try_from(r: GitlabWebhookRepr) -> Result<Self, String> {
        if r.url.is_none() && r.hook_id.is_none() {
            return Err(format!(
                "missing field `url` (or `hook_id`){HINT}identify the hook with `url:` or `hook_id:`"
            ));
        }
        if r.header_prefix.is_some() && r.header.is_none() {
            return Err(format!(
                "`header_prefix` needs `header`{HINT}add `header:` with the header's name, or remove `header_prefix`"
            ));
        }
        Ok(GitlabWebhook {
            owner: owner_of(r.project, r.group)?,
            gitlab: r.gitlab,
            url: r.url,
            hook_id: r.hook_id,
            header: r.header,
            header_prefix: r.header_prefix,
        })
    }
}

impl From<GitlabWebhook> for GitlabWebhookRepr {
    fn from(v: GitlabWebhook) -> Self {
        let (project, group) = split_owner(v.owner);
        GitlabWebhookRepr {
            gitlab: v.gitlab,
            project,
            group,
            url: v.url,
            hook_id: v.hook_id,
            header: v.header,
            header_prefix: v.header_prefix,
        }
    }
}

/// The authentication of a Zendesk webhook that carries the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["webhook"]}, {"required": ["webhook_id"]}]))]
pub struct ZendeskWebhook {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The webhook's name (or give `webhook_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// The webhook's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// How the value is sent.
    pub auth: ZendeskWebhookAuth,
    /// User name for `basic_auth` (the value is the password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Header name for `api_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl ZendeskWebhook {
    /// The webhook's id (`#ID`) or name.
    pub fn target(&self) -> String {
        match (&self.webhook_id, &self.webhook) {
            (Some(id), _) => format!("#{id}"),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        }
    }
}

/// Zendesk webhook authentication types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ZendeskWebhookAuth {
    /// `Authorization: Bearer VALUE`.
    BearerToken,
    /// `Authorization: Basic` with `username` and the value as password.
    BasicAuth,
    /// A custom header (`header`) holding the value.
    ApiKey,
}

/// A setting of an installed Zendesk app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["app"]}, {"required": ["installation_id"]}]))]
pub struct ZendeskAppSetting {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The installed app's name (or give `installation_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The installation's numeric id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_id: Option<u64>,
    /// The setting that holds the value.
    pub setting: String,
}

impl ZendeskAppSetting {
    /// The installation's id (`#ID`) or app name.
    pub fn target(&self) -> String {
        match (self.installation_id, &self.app) {
            (Some(id), _) => format!("#{id}"),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        }
    }
}

/// A manual step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manual {
    /// What a person must do with the new value.
    pub instructions: String,
}
