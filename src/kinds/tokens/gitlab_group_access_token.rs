//! `gitlab_group_access_token`: a group access token, owned by the group's bot user.
//! Rotated by id (`POST /groups/:id/access_tokens/:token_id/rotate`) with an explicit expiry,
//! or created (`POST /groups/:id/access_tokens`), which makes a new bot user, with the
//! overlap strategy or when it must be created again.

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::civil::Date;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing, ProbeKind};
use crate::gitlab::{GitLabClient, NewAccessToken, Owner};
use crate::http::ApiError;
use crate::inventory::{DiscoveredToken, LiveToken};
use crate::kinds::entry::{key, q, role, scopes, slug};
use crate::kinds::gitlab::{self as gl, GitlabRecords, Record};
use crate::kinds::token::gitlab_done_words;
use crate::kinds::{
    Issued, KindCheck, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};
use crate::ledger::{Obtain, PendingRotation};
use crate::manifest::scopes::GITLAB_GROUP_SCOPES;
use crate::manifest::{AccessLevel, Duration, GitlabOwner, LifetimeLimit};

/// A group access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabGroupAccessToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the group, e.g. `support/ops`.
    pub group: String,
    /// Token name (also the bot user's display name).
    pub name: String,
    /// GitLab scopes a group token can carry.
    pub scopes: Vec<String>,
    /// Role of the token's bot user in the group.
    #[serde(default = "AccessLevel::default_role")]
    pub access_level: AccessLevel,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "group access token",
    class: TokenClass::Rotatable,
    found_identity,
    import,
};

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    let (p, o) = (found.platform.as_str(), found.owner.as_str());
    (
        key(&[p, "group", o, "access_token", &found.record.name]),
        format!("group {o}"),
    )
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    let r = &found.record;
    UndeclaredEntry::Entry {
        id_base: slug(&[&found.owner, &r.name]),
        body: format!(
            "    gitlab_group_access_token:\n      gitlab: {}\n      group: {}\n      name: {}\n      \
             scopes: {}\n      access_level: {}\n",
            q(&found.platform),
            q(&found.owner),
            q(&r.name),
            scopes(&r.scopes),
            role(r.access_level)
        ),
    }
}

#[async_trait]
impl TokenDriver for GitlabGroupAccessToken {
    fn id(&self) -> TokenKindId {
        TokenKindId::GitlabGroupAccessToken
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
    fn scopes(&self) -> &[String] {
        &self.scopes
    }
    fn scope_rules(&self) -> ScopeRules {
        ScopeRules::Gitlab {
            allowed: &GITLAB_GROUP_SCOPES,
            what: "a group access token",
        }
    }
    fn lifetime_limit(&self) -> Option<LifetimeLimit> {
        Some(LifetimeLimit {
            max: Duration::from_days(365),
            exclusive: false,
        })
    }
    fn object_words(&self) -> String {
        format!("group {}, access token \"{}\"", self.group, self.name)
    }
    fn bot_owned(&self) -> bool {
        true
    }
    fn check(&self, _cx: &mut KindCheck<'_>) {}
    fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
        None
    }
    fn declares(&self, found: &DiscoveredToken) -> bool {
        found.kind == self.id().key()
            && self.gitlab == found.platform
            && self.group == found.owner
            && self.name == found.record.name
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        Some((
            key(&[
                &self.gitlab,
                "group",
                &self.group,
                "access_token",
                &self.name,
            ]),
            format!("group {}", self.group),
            self.name.clone(),
        ))
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(self.list());
    }
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>> {
        match cx.fetched.get(&self.list()) {
            Some(Ok(Listing::Tokens(tokens))) => {
                Ok(gl::access_token(tokens, &self.name, cx.remembered_id()))
            }
            _ => Err(None),
        }
    }
    fn probe(&self, value: &SecretString) -> Option<ProbeKind> {
        Some(ProbeKind::GitlabToken {
            gitlab: self.gitlab.clone(),
            value: value.clone(),
        })
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
    fn signs_in_to(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
}

impl GitlabGroupAccessToken {
    fn list(&self) -> ListKey {
        ListKey::GitlabOwnerTokens {
            gitlab: self.gitlab.clone(),
            owner: GitlabOwner::Group(self.group.clone()),
        }
    }

    fn owner(&self) -> Owner {
        Owner::Group(self.group.clone())
    }
}

#[async_trait]
impl GitlabRecords for GitlabGroupAccessToken {
    fn gitlab(&self) -> &str {
        &self.gitlab
    }
    fn rotatable(&self) -> bool {
        true
    }
    async fn records(&self, client: &GitLabClient) -> Result<Vec<Record>, String> {
        gl::resource_records(client, &self.owner(), &self.name).await
    }
    async fn rotate(
        &self,
        client: &GitLabClient,
        id: u64,
        expires_at: Date,
    ) -> Result<Issued, ApiError> {
        gl::resource_rotate(client, &self.owner(), id, expires_at).await
    }
    async fn self_rotate(
        &self,
        client: &GitLabClient,
        expires_at: Date,
    ) -> Result<Issued, ApiError> {
        gl::resource_self_rotate(client, &self.owner(), expires_at).await
    }
    async fn create(
        &self,
        client: &GitLabClient,
        expires_at: Option<Date>,
    ) -> Result<Issued, ApiError> {
        let Some(expires_at) = expires_at else {
            return Err(gl::no_expiry(client));
        };
        let new = NewAccessToken {
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            description: None,
            access_level: Some(self.access_level.number()),
            expires_at,
        };
        gl::resource_create(client, &self.owner(), new).await
    }
    async fn revoke(&self, client: &GitLabClient, id: u64) -> Result<(), ApiError> {
        client.revoke_access_token(&self.owner(), id).await
    }
}
