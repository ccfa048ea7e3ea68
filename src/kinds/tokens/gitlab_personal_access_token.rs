//! `gitlab_personal_access_token`: a personal access token of a (service) user. Rotated by
//! id (`POST /personal_access_tokens/:id/rotate`) with an explicit expiry, or created for the
//! user by an administrator (`POST /users/:id/personal_access_tokens`) with the overlap
//! strategy or when it must be created again.

use async_trait::async_trait;
use jiff::civil::Date;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::ListKey;
use crate::gitlab::{GitLabClient, NewAccessToken, TokenFilter};
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

/// A personal access token of `user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabPersonalAccessToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Username of the token's owner.
    pub user: String,
    /// Token name as shown in GitLab.
    pub name: String,
    /// GitLab scopes, e.g. `[api]` or `[read_api]`.
    #[schemars(schema_with = "crate::manifest::scopes::gitlab_pat_scopes_schema")]
    pub scopes: Vec<String>,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "personal access token",
    last_use: true,
    class: TokenClass::Rotatable,
    found_identity,
    import,
};

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    let (p, o) = (found.platform.as_str(), found.owner.as_str());
    (
        key(&[p, "user", o, "personal_access_token", &found.record.name]),
        format!("user {o}"),
    )
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    let r = &found.record;
    UndeclaredEntry::Entry {
        id_base: slug(&[&found.owner, &r.name]),
        body: format!(
            "    gitlab_personal_access_token:\n      gitlab: {}\n      user: {}\n      \
             name: {}\n      scopes: {}\n",
            q(&found.platform),
            q(&found.owner),
            q(&r.name),
            scopes(&r.scopes)
        ),
    }
}

#[async_trait]
impl TokenDriver for GitlabPersonalAccessToken {
    fn id(&self) -> TokenKindId {
        TokenKindId::GitlabPersonalAccessToken
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
            what: "a personal access token",
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
            "user {}, personal access token \"{}\"",
            self.user, self.name
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
            && self.user == found.owner
            && self.name == found.record.name
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        Some((
            key(&[
                &self.gitlab,
                "user",
                &self.user,
                "personal_access_token",
                &self.name,
            ]),
            format!("user {}", self.user),
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
    fn signs_in_to(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
}

impl GitlabPersonalAccessToken {
    fn list(&self) -> ListKey {
        ListKey::GitlabUserTokens {
            gitlab: self.gitlab.clone(),
            user: self.user.clone(),
        }
    }
}

#[async_trait]
impl GitlabRecords for GitlabPersonalAccessToken {
    fn gitlab(&self) -> &str {
        &self.gitlab
    }
    fn rotatable(&self) -> bool {
        true
    }
    async fn records(&self, client: &GitLabClient) -> Result<Vec<Record>, String> {
        let uid = gl::user_id(client, &self.user).await?;
        let filter = TokenFilter {
            user_id: Some(uid),
            ..TokenFilter::default()
        };
        let tokens = client
            .list_personal_tokens(&filter)
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
        let t = client.rotate_personal_token(id, expires_at).await?;
        gl::issued(t.id, t.token, "personal access token rotate")
    }
    async fn self_rotate(
        &self,
        client: &GitLabClient,
        expires_at: Date,
    ) -> Result<Issued, ApiError> {
        let t = client.self_rotate_personal_token(expires_at).await?;
        gl::issued(t.id, t.token, "personal access token self rotate")
    }
    async fn create(
        &self,
        client: &GitLabClient,
        expires_at: Option<Date>,
    ) -> Result<Issued, ApiError> {
        let Some(expires_at) = expires_at else {
            return Err(gl::no_expiry(client));
        };
        let uid = match client.user_by_username(&self.user).await? {
            Some(u) => u.id,
            None => return Err(gl::no_such_user(client, &self.user)),
        };
        let new = NewAccessToken {
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            description: None,
            access_level: None,
            expires_at,
        };
        let t = client.create_personal_token_for_user(uid, &new).await?;
        gl::issued(t.id, t.token, "personal access token create")
    }
    async fn revoke(&self, client: &GitLabClient, id: u64) -> Result<(), ApiError> {
        client.revoke_personal_token(id).await
    }
}
