//! The GitLab side of staging a new value: list the records that carry a token's name (to
//! learn what a call with an unknown outcome did), rotate (always with an explicit
//! `expires_at`), create, and revoke or delete the old record at finish. Personal, project and
//! group access tokens and pipeline trigger tokens.

use jiff::civil::Date;
use secrecy::SecretString;

use crate::gitlab::{GitLabClient, NewAccessToken, Owner, TokenFilter};
use crate::http::ApiError;
use crate::manifest::{TokenKind, TokenSpec};

/// A GitLab token kind with what the calls need.
#[derive(Debug, Clone)]
pub enum GitlabKind {
    /// A personal access token of `user`.
    Personal {
        /// User name.
        user: String,
        /// Token name.
        name: String,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// A project or group access token.
    Resource {
        /// The project or group.
        owner: Owner,
        /// Token name.
        name: String,
        /// Scopes.
        scopes: Vec<String>,
        /// Role.
        access_level: u8,
    },
    /// A pipeline trigger token of `project`, named by its description.
    Trigger {
        /// Project path.
        project: String,
        /// Description (the runbook's naming).
        description: String,
    },
}

impl GitlabKind {
    /// The GitLab kind of a manifest token, with its instance name.
    pub fn of(spec: &TokenSpec) -> Option<(String, GitlabKind)> {
        Some(match &spec.kind {
            TokenKind::GitlabPersonalAccessToken(t) => (
                t.gitlab.clone(),
                GitlabKind::Personal {
                    user: t.user.clone(),
                    name: t.name.clone(),
                    scopes: t.scopes.clone(),
                },
            ),
            TokenKind::GitlabProjectAccessToken(t) => (
                t.gitlab.clone(),
                GitlabKind::Resource {
                    owner: Owner::Project(t.project.clone()),
                    name: t.name.clone(),
                    scopes: t.scopes.clone(),
                    access_level: t.access_level.number(),
                },
            ),
            TokenKind::GitlabGroupAccessToken(t) => (
                t.gitlab.clone(),
                GitlabKind::Resource {
                    owner: Owner::Group(t.group.clone()),
                    name: t.name.clone(),
                    scopes: t.scopes.clone(),
                    access_level: t.access_level.number(),
                },
            ),
            TokenKind::GitlabPipelineTriggerToken(t) => (
                t.gitlab.clone(),
                GitlabKind::Trigger {
                    project: t.project.clone(),
                    description: t.description.clone(),
                },
            ),
            _ => return None,
        })
    }

    /// True for kinds with a rotate call.
    pub fn rotatable(&self) -> bool {
        !matches!(self, GitlabKind::Trigger { .. })
    }
}

/// One live record carrying the token's name.
#[derive(Debug, Clone)]
pub struct Record {
    /// Platform id.
    pub id: String,
    /// Usable (not revoked, not expired).
    pub active: bool,
    /// The full value, where GitLab shows it (triggers, to their owner).
    pub value: Option<SecretString>,
}

async fn user_id(client: &GitLabClient, user: &str) -> Result<u64, String> {
    match client.user_by_username(user).await {
        Ok(Some(u)) => Ok(u.id),
        Ok(None) => Err(format!(
            "{}: no user named {user}; check the manifest's `user`",
            client.instance()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Every record with the token's name (or trigger description).
pub async fn records(client: &GitLabClient, kind: &GitlabKind) -> Result<Vec<Record>, String> {
    match kind {
        GitlabKind::Personal { user, name, .. } => {
            let uid = user_id(client, user).await?;
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
                .filter(|t| &t.name == name)
                .map(|t| Record {
                    id: t.id.to_string(),
                    active: t.active && !t.revoked,
                    value: None,
                })
                .collect())
        }
        GitlabKind::Resource { owner, name, .. } => {
            let tokens = client
                .list_access_tokens(owner, None)
                .await
                .map_err(|e| e.to_string())?;
            Ok(tokens
                .into_iter()
                .filter(|t| &t.name == name)
                .map(|t| Record {
                    id: t.id.to_string(),
                    active: t.active && !t.revoked,
                    value: None,
                })
                .collect())
        }
        GitlabKind::Trigger {
            project,
            description,
        } => {
            let triggers = client
                .list_triggers(project)
                .await
                .map_err(|e| e.to_string())?;
            Ok(triggers
                .into_iter()
                .filter(|t| t.description.as_deref() == Some(description.as_str()))
                .map(|t| Record {
                    id: t.id.to_string(),
                    active: true,
                    value: t
                        .token
                        .filter(|v| secrecy::ExposeSecret::expose_secret(v).len() > 8),
                })
                .collect())
        }
    }
}

fn target(method: &str, object: String) -> Box<crate::http::Target> {
    Box::new(crate::http::Target {
        platform: crate::http::Platform::GitLab,
        instance: String::new(),
        method: method.to_string(),
        object,
    })
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::Decode {
        target: target("POST", format!("record {id}")),
        detail: "the ledger holds a platform id that is not a number; restore the ledger"
            .to_string(),
    })
}

/// What a rotate or create returned: the new id and the value shown once.
pub type Issued = (String, SecretString);

fn issued(id: u64, token: Option<SecretString>, what: &str) -> Result<Issued, ApiError> {
    match token {
        Some(value) => Ok((id.to_string(), value)),
        None => Err(ApiError::OutcomeUnknown {
            target: target("POST", what.to_string()),
            reason: "the answer carried no token value".to_string(),
        }),
    }
}

/// The rotate call for record `id`, with the new expiry.
pub async fn rotate(
    client: &GitLabClient,
    kind: &GitlabKind,
    id: &str,
    expires_at: Date,
) -> Result<Issued, ApiError> {
    let numeric = parse_id(id)?;
    match kind {
        GitlabKind::Personal { .. } => {
            let t = client.rotate_personal_token(numeric, expires_at).await?;
            issued(t.id, t.token, "personal access token rotate")
        }
        GitlabKind::Resource { owner, .. } => {
            let t = client
                .rotate_access_token(owner, numeric, expires_at)
                .await?;
            issued(t.id, t.token, "access token rotate")
        }
        GitlabKind::Trigger { .. } => create(client, kind, expires_at).await,
    }
}

/// Creates a new record (a new bot user for project and group tokens).
pub async fn create(
    client: &GitLabClient,
    kind: &GitlabKind,
    expires_at: Date,
) -> Result<Issued, ApiError> {
    match kind {
        GitlabKind::Personal { user, name, scopes } => {
            let uid = match client.user_by_username(user).await? {
                Some(u) => u.id,
                None => {
                    return Err(ApiError::Invalid {
                        target: target("GET", format!("{}: user {user}", client.instance())),
                        status: 404,
                        detail: "no such user".to_string(),
                    });
                }
            };
            let new = NewAccessToken {
                name: name.clone(),
                scopes: scopes.clone(),
                description: None,
                access_level: None,
                expires_at,
            };
            let t = client.create_personal_token_for_user(uid, &new).await?;
            issued(t.id, t.token, "personal access token create")
        }
        GitlabKind::Resource {
            owner,
            name,
            scopes,
            access_level,
        } => {
            let new = NewAccessToken {
                name: name.clone(),
                scopes: scopes.clone(),
                description: None,
                access_level: Some(*access_level),
                expires_at,
            };
            let t = client.create_access_token(owner, &new).await?;
            issued(t.id, t.token, "access token create")
        }
        GitlabKind::Trigger {
            project,
            description,
        } => {
            let t = client.create_trigger(project, description).await?;
            issued(t.id, t.token, "pipeline trigger create")
        }
    }
}

/// Revokes (tokens) or deletes (triggers) the old record; one already gone is fine.
pub async fn retire(client: &GitLabClient, kind: &GitlabKind, id: &str) -> Result<(), ApiError> {
    let numeric = parse_id(id)?;
    let result = match kind {
        GitlabKind::Personal { .. } => client.revoke_personal_token(numeric).await,
        GitlabKind::Resource { owner, .. } => client.revoke_access_token(owner, numeric).await,
        GitlabKind::Trigger { project, .. } => client.delete_trigger(project, numeric).await,
    };
    match result {
        Ok(()) => Ok(()),
        Err(ApiError::NotFound { .. }) => Ok(()),
        Err(ApiError::Invalid { status: 400, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
