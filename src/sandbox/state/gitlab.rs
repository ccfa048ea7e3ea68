//! One simulated GitLab instance: users, groups, projects, memberships, access tokens, trigger
//! tokens, webhooks, CI/CD variables, issues, notes and Terraform states, as plain data.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;

use super::{Issuer, Value, ValueKind, midnight_utc};

/// A GitLab user (human, service or bot).
#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub admin: bool,
    pub bot: bool,
    pub state: String,
    pub email: String,
    /// For a group service account: the top-level group that provisioned it.
    pub service_account_of: Option<u64>,
    /// For a GitLab.com enterprise user: the top-level group that manages it.
    pub enterprise_of: Option<u64>,
}

/// A group, identified by its full path (`support/ops`).
#[derive(Debug, Clone)]
pub struct Group {
    pub id: u64,
    pub full_path: String,
    pub name: String,
    pub parent_id: Option<u64>,
    /// Direct members: user id to access level.
    pub members: BTreeMap<u64, u8>,
}

/// A project, identified by its path with namespace.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    pub path_with_namespace: String,
    pub name: String,
    pub namespace_id: u64,
    pub members: BTreeMap<u64, u8>,
}

/// What an access token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    /// A personal access token of `user_id`.
    Personal,
    /// A project access token (owned by the project's bot user).
    Project(u64),
    /// A group access token (owned by the group's bot user).
    Group(u64),
}

/// A personal, project or group access token (GitLab's `PersonalAccessToken` record).
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub id: u64,
    pub owner: TokenOwner,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub user_id: u64,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Date>,
    pub revoked: bool,
    pub access_level: Option<u8>,
    /// The token this one replaced by rotation (the family chain).
    pub previous_id: Option<u64>,
    pub value: Value,
}

impl AccessToken {
    /// Whether the token is past 00:00 UTC on its expiry date.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|d| now >= midnight_utc(d))
    }
    /// Not revoked and not expired.
    pub fn active(&self, now: Timestamp) -> bool {
        !self.revoked && !self.expired(now)
    }
}

/// A pipeline trigger token.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub id: u64,
    pub project_id: u64,
    pub description: String,
    pub owner_id: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_used: Option<Timestamp>,
    pub expires_at: Option<Date>,
    pub value: Value,
}

/// A deploy token of a project or group.
#[derive(Debug, Clone)]
pub struct DeployToken {
    pub id: u64,
    pub scope: Scope,
    pub name: String,
    /// The username given at creation; `None` means `gitlab+deploy-token-{id}`.
    pub username: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<Date>,
    pub revoked: bool,
    pub creator_id: u64,
    pub created_at: Timestamp,
    pub value: Value,
}

impl DeployToken {
    /// The username it authenticates with.
    pub fn username(&self) -> String {
        self.username
            .clone()
            .unwrap_or_else(|| format!("gitlab+deploy-token-{}", self.id))
    }
    /// Whether the token is past 00:00 UTC on its expiry date.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|d| now >= midnight_utc(d))
    }
    /// Not revoked and not expired.
    pub fn active(&self, now: Timestamp) -> bool {
        !self.revoked && !self.expired(now)
    }
}

/// Where a hook or variable lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Project(u64),
    Group(u64),
}

/// A project or group webhook.
#[derive(Debug, Clone)]
pub struct Hook {
    pub id: u64,
    pub scope: Scope,
    pub url: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The write-only secret token.
    pub token: Option<Value>,
    /// Event toggles and other plain settings, as sent.
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub custom_headers: BTreeMap<String, Value>,
    pub url_variables: BTreeMap<String, Value>,
    pub created_at: Timestamp,
}

/// A CI/CD variable.
#[derive(Debug, Clone)]
pub struct Variable {
    pub scope: Scope,
    pub key: String,
    pub value: Value,
    pub variable_type: String,
    pub protected: bool,
    pub masked: bool,
    pub hidden: bool,
    pub raw: bool,
    pub environment_scope: String,
    pub description: Option<String>,
}

/// An issue.
#[derive(Debug, Clone)]
pub struct Issue {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    pub description: Option<String>,
    pub labels: Vec<String>,
    pub state: String,
    pub author_id: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

/// A merge request (only what notes need).
#[derive(Debug, Clone)]
pub struct MergeRequest {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
}

/// A note (comment) on an issue or a merge request.
#[derive(Debug, Clone)]
pub struct Note {
    pub id: u64,
    pub project_id: u64,
    /// `Issue` or `MergeRequest`.
    pub noteable_type: String,
    pub noteable_id: u64,
    pub noteable_iid: u64,
    pub body: String,
    pub author_id: u64,
    pub system: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A CI/CD job token (`CI_JOB_TOKEN`): it acts as the user who started the job, inside the
/// job's project, until the job finishes.
#[derive(Debug, Clone)]
pub struct JobToken {
    pub project_id: u64,
    pub user_id: u64,
    /// False once the job finished.
    pub running: bool,
}

/// A Terraform HTTP state and its lock.
#[derive(Debug, Clone, Default)]
pub struct TfState {
    pub data: Option<Vec<u8>>,
    pub versions: u64,
    /// The lock body as posted, and the holder's username.
    pub lock: Option<(serde_json::Map<String, serde_json::Value>, String)>,
}

/// One GitLab instance.
#[derive(Debug, Default)]
pub struct GitLab {
    pub users: BTreeMap<u64, User>,
    pub groups: BTreeMap<u64, Group>,
    pub projects: BTreeMap<u64, Project>,
    pub tokens: BTreeMap<u64, AccessToken>,
    /// Token value to token id, for authentication.
    pub token_index: HashMap<Value, u64>,
    pub triggers: BTreeMap<u64, Trigger>,
    pub deploy_tokens: BTreeMap<u64, DeployToken>,
    pub hooks: BTreeMap<u64, Hook>,
    pub variables: Vec<Variable>,
    pub issues: BTreeMap<u64, Issue>,
    pub merge_requests: BTreeMap<u64, MergeRequest>,
    pub notes: BTreeMap<u64, Note>,
    pub tf_states: HashMap<(u64, String), TfState>,
    /// CI/CD job tokens by value.
    pub job_tokens: HashMap<Value, JobToken>,
    /// The credential the sandbox hands out for this instance (an admin's PAT).
    pub admin_token: Option<Value>,
    /// The host name used in bot e-mails and web URLs.
    pub host: String,
    /// `max_terraform_state_size_bytes` (0 means unlimited).
    pub max_state_size: usize,
    next_id: u64,
}

impl GitLab {
    /// An empty instance named after `host`.
    pub fn new(host: &str) -> Self {
        GitLab {
            host: host.to_string(),
            next_id: 1,
            ..Default::default()
        }
    }

    /// A fresh id (one counter for every kind of record keeps ids unique and readable).
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Adds a user and returns its id.
    pub fn add_user(&mut self, username: &str, name: &str, admin: bool, bot: bool) -> u64 {
        let id = self.next_id();
        let email = if bot {
            format!("{username}@noreply.{}", self.host)
        } else {
            format!("{username}@example.com")
        };
        self.users.insert(
            id,
            User {
                id,
                username: username.to_string(),
                name: name.to_string(),
                admin,
                bot,
                state: "active".into(),
                email,
                service_account_of: None,
                enterprise_of: None,
            },
        );
        id
    }

    /// Adds a service account of top-level group `group_id` and returns its id.
    pub fn add_service_account(&mut self, group_id: u64, username: &str, name: &str) -> u64 {
        let id = self.add_user(username, name, false, true);
        if let Some(u) = self.users.get_mut(&id) {
            u.email = format!("{username}@noreply.{}", self.host);
            u.service_account_of = Some(group_id);
        }
        id
    }

    /// Finds a user by username.
    pub fn user_by_name(&self, username: &str) -> Option<&User> {
        self.users.values().find(|u| u.username == username)
    }

    /// Finds a project by numeric id or full path.
    pub fn project(&self, key: &str) -> Option<&Project> {
        match key.parse::<u64>() {
            Ok(id) => self.projects.get(&id),
            Err(_) => self
                .projects
                .values()
                .find(|p| p.path_with_namespace == key),
        }
    }

    /// Finds a group by numeric id or full path.
    pub fn group(&self, key: &str) -> Option<&Group> {
        match key.parse::<u64>() {
            Ok(id) => self.groups.get(&id),
            Err(_) => self.groups.values().find(|g| g.full_path == key),
        }
    }

    /// The highest access level `user` has in `group`, counting ancestor groups.
    pub fn group_access(&self, group_id: u64, user: u64) -> u8 {
        let mut level = 0;
        let mut cursor = Some(group_id);
        while let Some(id) = cursor {
            let Some(group) = self.groups.get(&id) else {
                break;
            };
            level = level.max(group.members.get(&user).copied().unwrap_or(0));
            cursor = group.parent_id;
        }
        level
    }

    /// The highest access level `user` has in `project`, counting its groups.
    pub fn project_access(&self, project_id: u64, user: u64) -> u8 {
        let Some(project) = self.projects.get(&project_id) else {
            return 0;
        };
        let direct = project.members.get(&user).copied().unwrap_or(0);
        direct.max(self.group_access(project.namespace_id, user))
    }

    /// The access level of `user` on a hook or variable scope.
    pub fn scope_access(&self, scope: Scope, user: u64) -> u8 {
        match scope {
            Scope::Project(id) => self.project_access(id, user),
            Scope::Group(id) => self.group_access(id, user),
        }
    }

    /// Ids of `group` and every group below it.
    pub fn descendants(&self, group_id: u64) -> Vec<u64> {
        let mut out = vec![group_id];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            out.extend(
                self.groups
                    .values()
                    .filter(|g| g.parent_id == Some(parent))
                    .map(|g| g.id),
            );
            i += 1;
        }
        out
    }

    /// Creates a token record with a freshly minted value and returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn create_token(
        &mut self,
        issuer: &mut Issuer,
        owner: TokenOwner,
        user_id: u64,
        name: &str,
        description: Option<String>,
        scopes: Vec<String>,
        access_level: Option<u8>,
        expires_at: Option<Date>,
        now: Timestamp,
    ) -> u64 {
        let id = self.next_id();
        let value = issuer.mint(ValueKind::GitLabAccessToken);
        self.token_index.insert(value.clone(), id);
        self.tokens.insert(
            id,
            AccessToken {
                id,
                owner,
                name: name.to_string(),
                description,
                scopes,
                user_id,
                created_at: now,
                last_used_at: None,
                expires_at,
                revoked: false,
                access_level,
                previous_id: None,
                value,
            },
        );
        id
    }

    /// Creates the bot user of a project or group token and makes it a member.
    pub fn create_bot(
        &mut self,
        issuer: &mut Issuer,
        owner: TokenOwner,
        name: &str,
        level: u8,
    ) -> u64 {
        let suffix = format!("{:06x}", issuer.number(0xff_ffff));
        let username = match owner {
            TokenOwner::Project(id) => format!("project_{id}_bot_{suffix}"),
            TokenOwner::Group(id) => format!("group_{id}_bot_{suffix}"),
            TokenOwner::Personal => format!("bot_{suffix}"),
        };
        let user = self.add_user(&username, name, false, true);
        match owner {
            TokenOwner::Project(id) => {
                if let Some(p) = self.projects.get_mut(&id) {
                    p.members.insert(user, level);
                }
            }
            TokenOwner::Group(id) => {
                if let Some(g) = self.groups.get_mut(&id) {
                    g.members.insert(user, level);
                }
            }
            TokenOwner::Personal => {}
        }
        user
    }

    /// Rotates token `id`: revokes it and creates its successor with the same name,
    /// description, scopes, owner and access level. Returns the new id.
    pub fn rotate(
        &mut self,
        issuer: &mut Issuer,
        id: u64,
        expires_at: Date,
        now: Timestamp,
    ) -> u64 {
        let old = self.tokens.get_mut(&id).expect("rotate: token exists");
        old.revoked = true;
        let old = old.clone();
        let new_id = self.create_token(
            issuer,
            old.owner,
            old.user_id,
            &old.name,
            old.description.clone(),
            old.scopes.clone(),
            old.access_level,
            Some(expires_at),
            now,
        );
        if let Some(t) = self.tokens.get_mut(&new_id) {
            t.previous_id = Some(id);
        }
        new_id
    }

    /// Revokes every token in the rotation family of `id` (ancestors and descendants).
    pub fn revoke_family(&mut self, id: u64) {
        let mut family = vec![id];
        let mut cursor = self.tokens.get(&id).and_then(|t| t.previous_id);
        while let Some(prev) = cursor {
            family.push(prev);
            cursor = self.tokens.get(&prev).and_then(|t| t.previous_id);
        }
        let mut i = 0;
        while i < family.len() {
            let parent = family[i];
            let children: Vec<u64> = self
                .tokens
                .values()
                .filter(|t| t.previous_id == Some(parent) && !family.contains(&t.id))
                .map(|t| t.id)
                .collect();
            family.extend(children);
            i += 1;
        }
        for member in family {
            if let Some(t) = self.tokens.get_mut(&member) {
                t.revoked = true;
            }
        }
    }

    /// The token a value authenticates as, if any (revoked and expired ones included).
    pub fn token_by_value(&self, value: &str) -> Option<&AccessToken> {
        self.token_index
            .get(&Value::from_request(value))
            .and_then(|id| self.tokens.get(id))
    }

    /// The token `value` authenticates as at `now`: known, not revoked, not expired. This is
    /// the question "does this consumer hold a working value?".
    pub fn authenticates(&self, value: &str, now: Timestamp) -> Option<&AccessToken> {
        self.token_by_value(value).filter(|t| t.active(now))
    }

    /// Creates a trigger with a fresh value and returns its id.
    pub fn create_trigger(
        &mut self,
        issuer: &mut Issuer,
        project_id: u64,
        description: &str,
        owner_id: u64,
        expires_at: Option<Date>,
        now: Timestamp,
    ) -> u64 {
        let id = self.next_id();
        let value = issuer.mint(ValueKind::GitLabTriggerToken);
        self.triggers.insert(
            id,
            Trigger {
                id,
                project_id,
                description: description.to_string(),
                owner_id,
                created_at: now,
                updated_at: now,
                last_used: None,
                expires_at,
                value,
            },
        );
        id
    }

    /// Creates a deploy token with a fresh value and returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn create_deploy_token(
        &mut self,
        issuer: &mut Issuer,
        scope: Scope,
        name: &str,
        username: Option<String>,
        scopes: Vec<String>,
        expires_at: Option<Date>,
        creator_id: u64,
        now: Timestamp,
    ) -> u64 {
        let id = self.next_id();
        let value = issuer.mint(ValueKind::GitLabDeployToken);
        self.deploy_tokens.insert(
            id,
            DeployToken {
                id,
                scope,
                name: name.to_string(),
                username,
                scopes,
                expires_at,
                revoked: false,
                creator_id,
                created_at: now,
                value,
            },
        );
        id
    }

    /// The deploy token a username and value sign in as at `now`, if any.
    pub fn deploy_token_login(
        &self,
        username: &str,
        value: &str,
        now: Timestamp,
    ) -> Option<&DeployToken> {
        self.deploy_tokens
            .values()
            .find(|t| t.value.reveal() == value && t.username() == username)
            .filter(|t| t.active(now))
    }

    /// Starts a CI job in `project_id` for `user_id` and returns its job token.
    pub fn start_job(&mut self, issuer: &mut Issuer, project_id: u64, user_id: u64) -> Value {
        let value = issuer.mint(ValueKind::GitLabJobToken);
        self.job_tokens.insert(
            value.clone(),
            JobToken {
                project_id,
                user_id,
                running: true,
            },
        );
        value
    }

    /// The running job a job token belongs to, if any.
    pub fn running_job(&self, value: &str) -> Option<&JobToken> {
        self.job_tokens
            .get(&Value::from_request(value))
            .filter(|j| j.running)
    }
}
