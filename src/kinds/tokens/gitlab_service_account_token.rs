//! `gitlab_service_account_token`: a personal access token of a group service account, the
//! non-human user a top-level group owns (on GitLab.com the way a team holds a personal token
//! that is nobody's own). Managed through the group's routes by an Owner of the group:
//! rotated by id (`POST /groups/:id/service_accounts/:user_id/personal_access_tokens/:token_id
//! /rotate`, always with `expires_at`, which GitLab honours from 17.9), or created
//! (`POST …/personal_access_tokens`) with the overlap strategy or when it must be created
//! again, then the old one revoked (`DELETE …/:token_id`).

use async_trait::async_trait;
use jiff::civil::Date;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::ListKey;
use crate::gitlab::{GitLabClient, NewAccessToken};
use crate::http::ApiError;
use crate::inventory::DiscoveredToken;
use crate::kinds::entry::{key, q, scopes, slug};
use crate::kinds::gitlab::{self as gl, GitlabRecords, Record};
use crate::kinds::{
    Issued, KindCheck, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId, TokenMeta,
    UndeclaredEntry,
};
use crate::ledger::PendingRotation;
use crate::manifest::scopes::GITLAB_PAT_SCOPES;
use crate::manifest::{Duration, LifetimeLimit};

/// A personal access token of a group service account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabServiceAccountToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// The top-level group that owns the service account (e.g. `support`).
    pub group: String,
    /// Username of the service account.
    pub service_account: String,
    /// Token name as shown in GitLab.
    pub name: String,
    /// GitLab scopes, e.g. `[api]` or `[read_api]`.
    #[schemars(schema_with = "crate::manifest::scopes::gitlab_pat_scopes_schema")]
    pub scopes: Vec<String>,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "service account token",
    last_use: true,
    class: TokenClass::Rotatable,
    found_identity,
    import,
};

/// Discovery reports a service account token's owner as `GROUP/USERNAME`.
fn split_found(owner: &str) -> (&str, &str) {
    owner.rsplit_once('/').unwrap_or(("", owner))
}

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    let (group, user) = split_found(&found.owner);
    (
        key(&[
            &found.platform,
            "group",
            group,
            "service_account",
            user,
            &found.record.name,
        ]),
        format!("service account {user} of group {group}"),
    )
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    let (group, user) = split_found(&found.owner);
    let r = &found.record;
    UndeclaredEntry::Entry {
        id_base: slug(&[user, &r.name]),
        body: format!(
            "    gitlab_service_account_token:\n      gitlab: {}\n      group: {}\n      \
             service_account: {}\n      name: {}\n      scopes: {}\n",
            q(&found.platform),
            q(group),
            q(user),
            q(&r.name),
            scopes(&r.scopes)
        ),
    }
}

/// Discovery's owner string of a service account token.
pub fn found_owner(group: &str, user: &str) -> String {
    format!("{group}/{user}")
}

#[async_trait]
impl TokenDriver for GitlabServiceAccountToken {
    fn id(&self) -> TokenKindId {
        TokenKindId::GitlabServiceAccountToken
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
    fn scopes(&self) -> &[String] {
        &self.scopes
    }
    fn scope_rules(&self) -> ScopeRules {
        ScopeRules::Gitlab {
            allowed: &GITLAB_PAT_SCOPES,
            what: "a service account token",
        }
    }
    fn lifetime_limit(&self) -> Option<LifetimeLimit> {
        Some(LifetimeLimit {
            max: Duration::from_days(365),
            exclusive: false,
        })
    }
    fn object_words(&self) -> String {
        format!(
            "group {}, service account {}, personal access token \"{}\"",
            self.group, self.service_account, self.name
        )
    }
    fn bot_owned(&self) -> bool {
        false
    }
    fn check(&self, cx: &mut KindCheck<'_>) {
        if self.group.contains('/') {
            cx.problem(
                "group",
                format!(
                    "`{}` is a subgroup; service accounts belong to a top-level group",
                    crate::text::echo(&self.group)
                ),
                "name the top-level group (the first part of the path), e.g. `group: support`",
            );
        }
    }
    fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
        None
    }
    fn declares(&self, found: &DiscoveredToken) -> bool {
        found.kind == self.id().key()
            && self.gitlab == found.platform
            && found_owner(&self.group, &self.service_account) == found.owner
            && self.name == found.record.name
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        Some((
            key(&[
                &self.gitlab,
                "group",
                &self.group,
                "service_account",
                &self.service_account,
                &self.name,
            ]),
            format!(
                "service account {} of group {}",
                self.service_account, self.group
            ),
            self.name.clone(),
        ))
    }

    crate::kinds::gitlab::gitlab_named_token_methods!();

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
}

impl GitlabServiceAccountToken {
    fn list(&self) -> ListKey {
        ListKey::GitlabServiceAccountTokens {
            gitlab: self.gitlab.clone(),
            group: self.group.clone(),
            user: self.service_account.clone(),
        }
    }

    /// The service account's user id, or an error naming the manifest field to fix.
    async fn account(&self, client: &GitLabClient) -> Result<u64, ApiError> {
        match client
            .service_account_id(&self.group, &self.service_account)
            .await?
        {
            Some(id) => Ok(id),
            None => Err(gl::no_such_user(client, &self.service_account)),
        }
    }
}

#[async_trait]
impl GitlabRecords for GitlabServiceAccountToken {
    fn gitlab(&self) -> &str {
        &self.gitlab
    }
    fn rotatable(&self) -> bool {
        true
    }
    async fn records(&self, client: &GitLabClient) -> Result<Vec<Record>, String> {
        let uid = self.account(client).await.map_err(|e| e.to_string())?;
        let tokens = client
            .list_service_account_tokens(&self.group, uid, None)
            .await
            .map_err(|e| e.to_string())?;
        Ok(tokens
            .into_iter()
            .filter(|t| t.name == self.name)
            .map(|t| Record {
                id: t.id.to_string(),
                active: t.active && !t.revoked,
                value: None,
            })
            .collect())
    }
    async fn rotate(
        &self,
        client: &GitLabClient,
        id: u64,
        expires_at: Date,
    ) -> Result<Issued, ApiError> {
        let uid = self.account(client).await?;
        let t = client
            .rotate_service_account_token(&self.group, uid, id, expires_at)
            .await?;
        gl::issued(t.id, t.token, "service account token rotate")
    }
    async fn create(
        &self,
        client: &GitLabClient,
        expires_at: Option<Date>,
    ) -> Result<Issued, ApiError> {
        let Some(expires_at) = expires_at else {
            return Err(gl::no_expiry(client));
        };
        let uid = self.account(client).await?;
        let new = NewAccessToken {
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            description: None,
            access_level: None,
            expires_at,
        };
        let t = client
            .create_service_account_token(&self.group, uid, &new)
            .await?;
        gl::issued(t.id, t.token, "service account token create")
    }
    async fn revoke(&self, client: &GitLabClient, id: u64) -> Result<(), ApiError> {
        let uid = self.account(client).await?;
        client
            .revoke_service_account_token(&self.group, uid, id)
            .await
    }
}
