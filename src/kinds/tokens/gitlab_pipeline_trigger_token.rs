//! `gitlab_pipeline_trigger_token`: a pipeline trigger token of a project, named by its
//! description. GitLab has no rotate call for triggers: a new trigger is created, every
//! consumer switched and verified, then the old one deleted. The full value is shown to the
//! trigger's owner on every list, so a lost create answer is learned by reading it back.

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::civil::Date;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::fingerprint_of;
use crate::discover::lists::{ListKey, Listing, ProbeKind};
use crate::gitlab::{GitLabClient, Trigger};
use crate::http::ApiError;
use crate::inventory::{DiscoveredToken, LiveRecord, LiveToken};
use crate::kinds::entry::{key, q, slug};
use crate::kinds::gitlab::{self as gl, GitlabRecords, Record};
use crate::kinds::token::gitlab_done_words;
use crate::kinds::{
    Issued, KindCheck, NewExpiry, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};
use crate::ledger::{Ledger, Obtain, PendingRotation};
use crate::manifest::{Duration, LifetimeLimit};

/// A pipeline trigger token of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabPipelineTriggerToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project whose pipelines the token starts.
    pub project: String,
    /// The trigger's description, which identifies it (e.g. `Zendesk Global - Ticket Export`).
    pub description: String,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "pipeline trigger token",
    last_use: true,
    class: TokenClass::Replaceable,
    found_identity,
    import,
};

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    let (p, o) = (found.platform.as_str(), found.owner.as_str());
    (
        key(&[p, "project", o, "trigger", &found.record.name]),
        format!("project {o}"),
    )
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    let r = &found.record;
    UndeclaredEntry::Entry {
        id_base: slug(&[&found.owner, "trigger", &r.name]),
        body: format!(
            "    gitlab_pipeline_trigger_token:\n      gitlab: {}\n      project: {}\n      \
             description: {}\n",
            q(&found.platform),
            q(&found.owner),
            q(&r.name)
        ),
    }
}

/// Only the trigger's owner sees the whole value; anyone else sees four characters.
fn full_value(t: &Trigger) -> Option<&SecretString> {
    t.token.as_ref().filter(|v| v.expose_secret().len() > 8)
}

fn record(t: &Trigger, description: &str, ledger: &Ledger) -> LiveRecord {
    LiveRecord {
        platform_id: t.id.to_string(),
        name: description.to_string(),
        scopes: Vec::new(),
        expires_at: t.expires_at.map(crate::time::utc_date),
        expires_at_time: t.expires_at,
        active: true,
        revoked: false,
        last_used_at: t.last_used,
        user_id: t.owner.as_ref().map(|o| o.id),
        access_level: None,
        value_fingerprint: full_value(t).map(|v| fingerprint_of(ledger, v)),
        age_unknown: false,
        username: None,
    }
}

#[async_trait]
impl TokenDriver for GitlabPipelineTriggerToken {
    fn id(&self) -> TokenKindId {
        TokenKindId::GitlabPipelineTriggerToken
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
    fn scopes(&self) -> &[String] {
        &[]
    }
    fn scope_rules(&self) -> ScopeRules {
        ScopeRules::None
    }
    fn lifetime_limit(&self) -> Option<LifetimeLimit> {
        Some(LifetimeLimit {
            max: Duration::from_days(365),
            exclusive: false,
        })
    }
    fn new_expiry(&self) -> NewExpiry {
        // The create call sends no `expires_at` (GitLab accepts one only behind a feature
        // flag), so a new trigger does not expire.
        NewExpiry::Never
    }
    fn object_words(&self) -> String {
        format!(
            "project {}, pipeline trigger \"{}\"",
            self.project, self.description
        )
    }
    fn bot_owned(&self) -> bool {
        false
    }
    fn check(&self, _cx: &mut KindCheck<'_>) {}
    fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
        None
    }
    fn declares(&self, found: &DiscoveredToken) -> bool {
        found.kind == self.id().key()
            && self.gitlab == found.platform
            && self.project == found.owner
            && self.description == found.record.name
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        Some((
            key(&[
                &self.gitlab,
                "project",
                &self.project,
                "trigger",
                &self.description,
            ]),
            format!("project {}", self.project),
            self.description.clone(),
        ))
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(self.list());
    }
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>> {
        let Some(Ok(Listing::Triggers(triggers))) = cx.fetched.get(&self.list()) else {
            return Err(None);
        };
        let mut named: Vec<&Trigger> = triggers
            .iter()
            .filter(|t| t.description.as_deref() == Some(self.description.as_str()))
            .collect();
        named.sort_by_key(|t| (t.created_at, t.id));
        let chosen = cx
            .remembered_id()
            .and_then(|id| named.iter().find(|t| t.id.to_string() == id))
            .or_else(|| named.last())
            .copied();
        Ok(match chosen {
            Some(t) => LiveToken::Found(record(t, &self.description, cx.ledger)),
            None => LiveToken::Missing,
        })
    }
    fn probe(&self, _value: &SecretString) -> Option<ProbeKind> {
        None
    }

    async fn known_ids(&self, cx: &StageCx<'_>) -> Result<Vec<String>, Stop> {
        gl::known_ids(cx, self).await
    }
    async fn stage(
        &self,
        cx: &StageCx<'_>,
        pending: &mut PendingRotation,
        fresh: bool,
        notes: &mut Vec<String>,
    ) -> Result<Issued, Stop> {
        gl::stage(cx, self, pending, fresh, notes).await
    }
    async fn retire(&self, cx: &StageCx<'_>, old: &str) -> Result<(), String> {
        gl::retire(cx, self, old).await
    }
    async fn check_provided(
        &self,
        _clients: &Clients,
        _value: &SecretString,
    ) -> Result<String, String> {
        Ok(String::new())
    }
    fn client_secret(&self) -> Option<(String, String)> {
        None
    }
    fn done_words(&self, obtain: Obtain) -> &'static str {
        gitlab_done_words(obtain)
    }
    fn retired_word(&self) -> &'static str {
        // `DELETE /projects/:id/triggers/:trigger_id` removes the trigger.
        "deleted"
    }
}

impl GitlabPipelineTriggerToken {
    fn list(&self) -> ListKey {
        ListKey::GitlabTriggers {
            gitlab: self.gitlab.clone(),
            project: self.project.clone(),
        }
    }
}

#[async_trait]
impl GitlabRecords for GitlabPipelineTriggerToken {
    fn gitlab(&self) -> &str {
        &self.gitlab
    }
    fn rotatable(&self) -> bool {
        false
    }
    async fn records(&self, client: &GitLabClient) -> Result<Vec<Record>, String> {
        let triggers = client
            .list_triggers(&self.project)
            .await
            .map_err(|e| e.to_string())?;
        Ok(triggers
            .iter()
            .filter(|t| t.description.as_deref() == Some(self.description.as_str()))
            .map(|t| Record {
                id: t.id.to_string(),
                active: true,
                value: full_value(t).cloned(),
            })
            .collect())
    }
    async fn rotate(
        &self,
        client: &GitLabClient,
        _id: u64,
        expires_at: Date,
    ) -> Result<Issued, ApiError> {
        self.create(client, Some(expires_at)).await
    }
    async fn create(
        &self,
        client: &GitLabClient,
        _expires_at: Option<Date>,
    ) -> Result<Issued, ApiError> {
        let t = client
            .create_trigger(&self.project, &self.description)
            .await?;
        gl::issued(t.id, t.token, "pipeline trigger create")
    }
    async fn revoke(&self, client: &GitLabClient, id: u64) -> Result<(), ApiError> {
        client.delete_trigger(&self.project, id).await
    }
}
