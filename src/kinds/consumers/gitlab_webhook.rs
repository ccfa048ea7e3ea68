//! `gitlab_webhook`: a project or group webhook, identified by URL or id, carrying the value
//! in its secret token or in a custom header. Both are write-only: the hook is re-sent with
//! its URL unchanged (GitLab clears the secret and the custom headers only when the URL
//! changes), and proven by the fingerprint of what was written.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing};
use crate::gitlab::{GitLabClient, Hook, HookWrite};
use crate::inventory::{Holds, LiveConsumer};
use crate::kinds::gitlab::{owner, owner_words};
use crate::kinds::{
    ConsumerCheck, ConsumerDriver, ConsumerKindId, ConsumerLiveCx, Credential, Proof,
};
use crate::manifest::consumer::{owner_of, split_owner};
use crate::manifest::tree::HINT;
use crate::manifest::{ConsumerKey, GitlabOwner};

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

impl GitlabWebhook {
    fn matches(&self, hook: &Hook) -> bool {
        match (self.hook_id, &self.url) {
            (Some(id), _) => hook.id == id,
            (None, Some(url)) => &hook.url == url,
            (None, None) => false,
        }
    }

    async fn find(&self, client: &GitLabClient) -> Result<Hook, String> {
        let owner = owner(&self.owner);
        let hooks = client.list_hooks(&owner).await.map_err(|e| e.to_string())?;
        hooks
            .into_iter()
            .find(|hook| self.matches(hook))
            .ok_or_else(|| {
                format!(
                    "{}: {} has no webhook {}; create it (tokenops does not create hooks) or \
                     fix the manifest",
                    client.instance(),
                    owner.label(),
                    self.hook_id
                        .map(|id| format!("#{id}"))
                        .or_else(|| self.url.clone())
                        .unwrap_or_default()
                )
            })
    }
}

#[async_trait]
impl ConsumerDriver for GitlabWebhook {
    fn id(&self) -> ConsumerKindId {
        ConsumerKindId::GitlabWebhook
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
    fn key(&self) -> Option<ConsumerKey> {
        let hook = match (&self.url, self.hook_id) {
            (_, Some(id)) => format!("#{id}"),
            (Some(url), None) => url.clone(),
            (None, None) => String::new(),
        };
        let slot = match &self.header {
            Some(h) => format!("header/{}", h.to_ascii_lowercase()),
            None => "token".to_string(),
        };
        Some(ConsumerKey(format!(
            "gitlab:{}/{}/hook/{hook}/{slot}",
            self.gitlab,
            self.owner.path()
        )))
    }
    fn label(&self) -> String {
        let hook = match (&self.url, self.hook_id) {
            (_, Some(id)) => format!("hook #{id}"),
            (Some(url), None) => format!("hook {url}"),
            (None, None) => "hook".to_string(),
        };
        format!("{}: {} {}", self.gitlab, owner_words(&self.owner), hook)
    }
    fn settings(&self) -> BTreeMap<String, String> {
        let mut settings = BTreeMap::new();
        if let Some(url) = &self.url {
            settings.insert("url".to_string(), url.clone());
        }
        if let Some(header) = &self.header {
            settings.insert("header".to_string(), header.clone());
        }
        settings
    }
    fn instructions(&self) -> Option<&str> {
        None
    }
    fn check(&self, _cx: &mut ConsumerCheck<'_>) {}

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(ListKey::GitlabHooks {
            gitlab: self.gitlab.clone(),
            owner: self.owner.clone(),
        });
    }
    fn live(&self, cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>> {
        let list = ListKey::GitlabHooks {
            gitlab: self.gitlab.clone(),
            owner: self.owner.clone(),
        };
        let Some(Ok(Listing::Hooks(hooks))) = cx.fetched.get(&list) else {
            return Err(None);
        };
        let Some(hook) = hooks.iter().find(|hook| self.matches(hook)) else {
            return Ok(LiveConsumer::Missing);
        };
        let mut settings = BTreeMap::new();
        if self.url.is_some() || self.hook_id.is_some() {
            settings.insert("url".to_string(), hook.url.clone());
        }
        let has_header = |header: &str| {
            hook.custom_headers
                .iter()
                .any(|c| c.key.eq_ignore_ascii_case(header))
        };
        let holds = match &self.header {
            Some(header) if has_header(header) => {
                settings.insert("header".to_string(), header.clone());
                Holds::WriteOnly
            }
            Some(_) => Holds::Nothing,
            None => Holds::WriteOnly,
        };
        Ok(LiveConsumer::Present { settings, holds })
    }

    fn written_by_apply(&self) -> bool {
        true
    }
    fn rewrite_safe(&self) -> bool {
        true
    }
    async fn write(
        &self,
        clients: &Clients,
        given: Credential<'_>,
    ) -> Result<Option<Proof>, String> {
        let value = given.value;
        let client = clients.gitlab_for(&self.gitlab)?;
        let hook = self.find(client).await?;
        let owner = owner(&self.owner);
        match &self.header {
            Some(header) => {
                let full = SecretString::from(format!(
                    "{}{}",
                    self.header_prefix.as_deref().unwrap_or(""),
                    value.expose_secret()
                ));
                client
                    .set_hook_custom_header(&owner, hook.id, header, &full)
                    .await
                    .map_err(|e| e.to_string())?;
                // The header exists now: write-only, the accepted write is the proof.
                Ok(Some(Proof::Written))
            }
            None => {
                // The URL is sent unchanged together with the secret, so GitLab clears neither
                // the secret nor the custom headers (it only clears them when the URL changes).
                let write = HookWrite::new(hook.url.clone(), value.clone(), Vec::new());
                client
                    .update_hook(&owner, hook.id, &write)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Some(Proof::Written))
            }
        }
    }
    async fn verify(&self, clients: &Clients, _given: Credential<'_>) -> Result<Proof, String> {
        let client = clients.gitlab_for(&self.gitlab)?;
        let hook = self.find(client).await?;
        if let Some(header) = &self.header
            && !hook
                .custom_headers
                .iter()
                .any(|c| c.key.eq_ignore_ascii_case(header))
        {
            return Err(format!(
                "webhook {} has no custom header {header} after the write",
                hook.url
            ));
        }
        Ok(Proof::Written)
    }
}
