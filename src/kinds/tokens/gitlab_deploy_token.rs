//! `gitlab_deploy_token`: a deploy token of a project or group, a username and a value
//! (`gldt-`) for Git, registry and package access. GitLab has no rotate call for deploy
//! tokens and shows the value only in the create answer: a new token is created (with the
//! declared username, so consumers of the username keep it), every consumer switched and
//! verified, then the old one deleted. A create whose answer is lost leaves a record whose
//! value nobody has: it is deleted and the create sent again, the old token alive meanwhile.

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::civil::Date;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing, ProbeKind};
use crate::gitlab::{DeployToken, GitLabClient, NewDeployToken};
use crate::http::ApiError;
use crate::inventory::{DiscoveredToken, LiveRecord, LiveToken};
use crate::kinds::entry::{key, q, scopes, slug};
use crate::kinds::gitlab::{self as gl, GitlabRecords, Record, owner_words};
use crate::kinds::token::gitlab_done_words;
use crate::kinds::{
    Issued, KindCheck, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};
use crate::ledger::{Obtain, PendingRotation};
use crate::manifest::consumer::{owner_of, split_owner};
use crate::manifest::scopes::GITLAB_DEPLOY_SCOPES;
use crate::manifest::{GitlabOwner, LifetimeLimit};

/// A deploy token of a project or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "GitlabDeployTokenRepr", into = "GitlabDeployTokenRepr")]
pub struct GitlabDeployToken {
    /// The GitLab instance.
    pub gitlab: String,
    /// The project or group the token belongs to.
    pub owner: GitlabOwner,
    /// Token name as shown in GitLab.
    pub name: String,
    /// Deploy token scopes.
    pub scopes: Vec<String>,
    /// The username every new token is created with.
    pub username: Option<String>,
}

/// The YAML shape of a deploy token (exactly one of `project` and `group`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GitlabDeployToken")]
#[schemars(extend("oneOf" = [{"required": ["project"]}, {"required": ["group"]}]))]
pub struct GitlabDeployTokenRepr {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project the token belongs to (or use `group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Full path of the group the token belongs to (or use `project`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Token name as shown in GitLab.
    pub name: String,
    /// Deploy token scopes, e.g. `[read_registry]`.
    #[schemars(schema_with = "crate::manifest::scopes::gitlab_deploy_scopes_schema")]
    pub scopes: Vec<String>,
    /// The username each new token is created with (letters, digits, `_`, `-`, `+`, `.`).
    /// Without it GitLab names every new token `gitlab+deploy-token-{id}`, so consumers that
    /// receive the username (`part: username`) need it declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._+-]{1,255}$"))]
    pub username: Option<String>,
}

impl TryFrom<GitlabDeployTokenRepr> for GitlabDeployToken {
    type Error = String;
    fn try_from(r: GitlabDeployTokenRepr) -> Result<Self, String> {
        Ok(GitlabDeployToken {
            owner: owner_of(r.project, r.group)?,
            gitlab: r.gitlab,
            name: r.name,
            scopes: r.scopes,
            username: r.username,
        })
    }
}

impl From<GitlabDeployToken> for GitlabDeployTokenRepr {
    fn from(t: GitlabDeployToken) -> Self {
        let (project, group) = split_owner(t.owner);
        GitlabDeployTokenRepr {
            gitlab: t.gitlab,
            project,
            group,
            name: t.name,
            scopes: t.scopes,
            username: t.username,
        }
    }
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "deploy token",
    last_use: false,
    class: TokenClass::Replaceable,
    found_identity,
    import,
};

/// Discovery reports a deploy token's owner as `project/PATH` or `group/PATH`.
fn split_found(owner: &str) -> (&'static str, &str) {
    match owner.split_once('/') {
        Some(("group", path)) => ("group", path),
        Some(("project", path)) => ("project", path),
        _ => ("project", owner),
    }
}

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    let (kind, path) = split_found(&found.owner);
    (
        key(&[
            &found.platform,
            kind,
            path,
            "deploy_token",
            &found.record.name,
        ]),
        format!("{kind} {path}"),
    )
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    let (kind, path) = split_found(&found.owner);
    let r = &found.record;
    let username = r
        .username
        .as_deref()
        .map(|u| format!("      username: {}\n", q(u)))
        .unwrap_or_default();
    UndeclaredEntry::Entry {
        id_base: slug(&[path, "deploy", &r.name]),
        body: format!(
            "    gitlab_deploy_token:\n      gitlab: {}\n      {kind}: {}\n      name: {}\n      \
             scopes: {}\n{username}",
            q(&found.platform),
            q(path),
            q(&r.name),
            scopes(&r.scopes)
        ),
    }
}

/// Discovery's owner string of a deploy token (`project/PATH`, `group/PATH`).
pub fn found_owner(owner: &GitlabOwner) -> String {
    owner.path()
}

/// A deploy token as plain data.
pub fn record_of(t: &DeployToken) -> LiveRecord {
    let mut scopes = t.scopes.clone();
    scopes.sort();
    LiveRecord {
        platform_id: t.id.to_string(),
        name: t.name.clone(),
        scopes,
        expires_at: t.expires_at.map(crate::time::utc_date),
        expires_at_time: t.expires_at,
        active: t.active(),
        revoked: t.revoked,
        username: Some(t.username.clone()),
        ..LiveRecord::default()
    }
}

fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

#[async_trait]
impl TokenDriver for GitlabDeployToken {
    fn id(&self) -> TokenKindId {
        TokenKindId::GitlabDeployToken
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
    fn scopes(&self) -> &[String] {
        &self.scopes
    }
    fn scope_rules(&self) -> ScopeRules {
        ScopeRules::Gitlab {
            allowed: &GITLAB_DEPLOY_SCOPES,
            what: "a deploy token",
        }
    }
    fn lifetime_limit(&self) -> Option<LifetimeLimit> {
        // GitLab sets no longest life for deploy tokens.
        None
    }
    fn object_words(&self) -> String {
        format!(
            "{}, deploy token \"{}\"",
            owner_words(&self.owner),
            self.name
        )
    }
    fn bot_owned(&self) -> bool {
        false
    }
    fn check(&self, cx: &mut KindCheck<'_>) {
        if let Some(name) = &self.username
            && !valid_username(name)
        {
            cx.problem(
                "username",
                format!(
                    "`{}` is not a deploy token username",
                    crate::text::echo(name)
                ),
                "use only letters, digits, `_`, `-`, `+` and `.` (at most 255 characters)",
            );
        }
        if self.scopes.is_empty() {
            cx.problem(
                "scopes",
                "a deploy token needs at least one scope",
                "add one, e.g. `scopes: [read_registry]`",
            );
        }
    }
    fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
        // `gldt-` and 20 characters of `[A-Za-z0-9_-]`: maskable.
        None
    }
    fn declares(&self, found: &DiscoveredToken) -> bool {
        found.kind == self.id().key()
            && self.gitlab == found.platform
            && found_owner(&self.owner) == found.owner
            && self.name == found.record.name
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        let (kind, path) = split_found_owner(&self.owner);
        Some((
            key(&[&self.gitlab, kind, path, "deploy_token", &self.name]),
            owner_words(&self.owner),
            self.name.clone(),
        ))
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(self.list());
    }
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>> {
        let Some(Ok(Listing::DeployTokens(tokens))) = cx.fetched.get(&self.list()) else {
            return Err(None);
        };
        let mut named: Vec<&DeployToken> = tokens.iter().filter(|t| t.name == self.name).collect();
        named.sort_by_key(|t| t.id);
        let chosen = cx
            .remembered_id()
            .and_then(|id| named.iter().find(|t| t.id.to_string() == id && t.active()))
            .or_else(|| named.iter().rev().find(|t| t.active()))
            .or_else(|| named.last())
            .copied();
        Ok(match chosen {
            Some(t) => LiveToken::Found(record_of(t)),
            None => LiveToken::Missing,
        })
    }
    fn probe(&self, _value: &SecretString) -> Option<ProbeKind> {
        // GitLab has no endpoint a deploy token can ask who it is.
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
        // `DELETE .../deploy_tokens/:id` destroys the record (app/models/deploy_token.rb).
        "deleted"
    }
    fn username(&self) -> Result<&str, (String, String)> {
        self.username.as_deref().ok_or_else(|| {
            (
                "this consumer receives the deploy token's username, and the token declares \
                 none: GitLab names every new deploy token differently \
                 (`gitlab+deploy-token-{id}`)"
                    .to_string(),
                "add `username:` to the gitlab_deploy_token (e.g. `username: reports-registry`)"
                    .to_string(),
            )
        })
    }
}

fn split_found_owner(owner: &GitlabOwner) -> (&'static str, &str) {
    match owner {
        GitlabOwner::Project(p) => ("project", p),
        GitlabOwner::Group(g) => ("group", g),
    }
}

impl GitlabDeployToken {
    fn list(&self) -> ListKey {
        ListKey::GitlabDeployTokens {
            gitlab: self.gitlab.clone(),
            owner: self.owner.clone(),
        }
    }
}

#[async_trait]
impl GitlabRecords for GitlabDeployToken {
    fn gitlab(&self) -> &str {
        &self.gitlab
    }
    fn rotatable(&self) -> bool {
        false
    }
    async fn records(&self, client: &GitLabClient) -> Result<Vec<Record>, String> {
        let tokens = client
            .list_deploy_tokens(&gl::owner(&self.owner))
            .await
            .map_err(|e| e.to_string())?;
        Ok(tokens
            .iter()
            .filter(|t| t.name == self.name)
            .map(|t| Record {
                id: t.id.to_string(),
                active: t.active(),
                value: None,
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
        expires_at: Option<Date>,
    ) -> Result<Issued, ApiError> {
        let new = NewDeployToken {
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            expires_at,
            username: self.username.clone(),
        };
        let t = client
            .create_deploy_token(&gl::owner(&self.owner), &new)
            .await?;
        gl::issued(t.id, t.token, "deploy token create")
    }
    async fn revoke(&self, client: &GitLabClient, id: u64) -> Result<(), ApiError> {
        client
            .delete_deploy_token(&gl::owner(&self.owner), id)
            .await
    }
}
