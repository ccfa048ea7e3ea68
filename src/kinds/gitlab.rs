//! What the GitLab token kinds share: matching a declaration to its live record, the
//! records that carry a token's name (to learn what a call with an unknown outcome did), and
//! the staging loop over rotate and create that never re-sends a call blindly.
//!
//! A rotate or create whose answer is lost is never sent again: live state is read to learn
//! what happened. A new record whose value was lost is rotated by id with tokenops's own
//! credential (reuse detection only fires when a revoked token authenticates a rotate); a
//! create (overlap, recreate) whose value was lost is revoked and created again, so the old
//! record stays alive until every consumer holds the new value.

use async_trait::async_trait;
use jiff::civil::Date;
use secrecy::SecretString;

use super::token::{Issued, StageCx, Stop};
use crate::gitlab::{AccessToken, GitLabClient, Owner};
use crate::http::ApiError;
use crate::inventory::{LiveRecord, LiveToken};
use crate::ledger::{Obtain, PendingRotation, Recovery};
use crate::manifest::GitlabOwner;

/// The client-side owner of a manifest owner.
pub fn owner(o: &GitlabOwner) -> Owner {
    match o {
        GitlabOwner::Project(p) => Owner::Project(p.clone()),
        GitlabOwner::Group(g) => Owner::Group(g.clone()),
    }
}

/// `project PATH` or `group PATH`.
pub fn owner_words(owner: &GitlabOwner) -> String {
    match owner {
        GitlabOwner::Project(p) => format!("project {p}"),
        GitlabOwner::Group(g) => format!("group {g}"),
    }
}

/// The record a declaration names: among records with the declared name, the one the ledger
/// remembers, else the newest active one, else the newest of any state.
pub fn access_token(tokens: &[AccessToken], name: &str, remembered: Option<&str>) -> LiveToken {
    let mut named: Vec<&AccessToken> = tokens.iter().filter(|t| t.name == name).collect();
    if named.is_empty() {
        return LiveToken::Missing;
    }
    named.sort_by_key(|t| (t.created_at, t.id));
    let chosen = remembered
        .and_then(|id| named.iter().find(|t| t.id.to_string() == id && t.active))
        .or_else(|| named.iter().rev().find(|t| t.active))
        .or_else(|| named.last())
        .copied();
    match chosen {
        Some(t) => LiveToken::Found(record_of(t)),
        None => LiveToken::Missing,
    }
}

/// A token record as plain data.
pub fn record_of(t: &AccessToken) -> LiveRecord {
    let mut scopes = t.scopes.clone();
    scopes.sort();
    LiveRecord {
        platform_id: t.id.to_string(),
        name: t.name.clone(),
        scopes,
        expires_at: t.expires_at,
        expires_at_time: None,
        active: t.active,
        revoked: t.revoked,
        last_used_at: t.last_used_at,
        user_id: t.user_id,
        access_level: t.access_level.map(u32::from),
        value_fingerprint: None,
        age_unknown: false,
        username: None,
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

/// The GitLab calls of one token kind.
#[async_trait]
pub trait GitlabRecords: Send + Sync {
    /// The GitLab instance.
    fn gitlab(&self) -> &str;
    /// True for kinds with a rotate call.
    fn rotatable(&self) -> bool;
    /// Every record with the token's name (or trigger description).
    async fn records(&self, client: &GitLabClient) -> Result<Vec<Record>, String>;
    /// The rotate call for record `id`, with the new expiry.
    async fn rotate(
        &self,
        client: &GitLabClient,
        id: u64,
        expires_at: Date,
    ) -> Result<Issued, ApiError>;
    /// Rotates the token the client signs in with, through the self-rotate route (tokens
    /// that are tokenops's own credential).
    async fn self_rotate(
        &self,
        client: &GitLabClient,
        _expires_at: Date,
    ) -> Result<Issued, ApiError> {
        Err(ApiError::Invalid {
            target: target("POST", format!("{}: self rotate", client.instance())),
            status: 405,
            detail: "this kind has no self-rotate call".to_string(),
        })
    }
    /// Creates a new record (a new bot user for project and group tokens).
    async fn create(
        &self,
        client: &GitLabClient,
        expires_at: Option<Date>,
    ) -> Result<Issued, ApiError>;
    /// Revokes (tokens) or deletes (triggers) record `id`.
    async fn revoke(&self, client: &GitLabClient, id: u64) -> Result<(), ApiError>;
}

/// The id of user `user`, or an error naming the manifest field to fix.
pub async fn user_id(client: &GitLabClient, user: &str) -> Result<u64, String> {
    match client.user_by_username(user).await {
        Ok(Some(u)) => Ok(u.id),
        Ok(None) => Err(format!(
            "{}: no user named {user}; check the manifest's `user`",
            client.instance()
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn target(method: &str, object: String) -> Box<crate::http::Target> {
    Box::new(crate::http::Target {
        platform: crate::Platform::GitLab,
        instance: String::new(),
        method: method.to_string(),
        object,
    })
}

/// A ledger id as a GitLab id.
pub fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::Decode {
        target: target("POST", format!("record {id}")),
        detail: "the ledger holds a platform id that is not a number; restore the ledger"
            .to_string(),
    })
}

/// The new id and value of a rotate or create answer; an answer without the value is as
/// good as lost.
pub fn issued(id: u64, token: Option<SecretString>, what: &str) -> Result<Issued, ApiError> {
    match token {
        Some(value) => Ok((id.to_string(), value)),
        None => Err(ApiError::OutcomeUnknown {
            target: target("POST", what.to_string()),
            reason: "the answer carried no token value".to_string(),
        }),
    }
}

/// An error of a call naming a user that does not exist.
pub fn no_such_user(client: &GitLabClient, user: &str) -> ApiError {
    ApiError::Invalid {
        target: target("GET", format!("{}: user {user}", client.instance())),
        status: 404,
        detail: "no such user".to_string(),
    }
}

fn client<'a>(cx: &'a StageCx<'_>, kind: &dyn GitlabRecords) -> Result<&'a GitLabClient, Stop> {
    cx.clients.gitlab_for(kind.gitlab()).map_err(Stop::Failed)
}

/// Ids of the records carrying the token's name.
pub async fn known_ids(cx: &StageCx<'_>, kind: &dyn GitlabRecords) -> Result<Vec<String>, Stop> {
    let records = kind
        .records(client(cx, kind)?)
        .await
        .map_err(Stop::Failed)?;
    Ok(records.into_iter().map(|r| r.id).collect())
}

/// Retires record `old`; one already gone is fine.
pub async fn retire(cx: &StageCx<'_>, kind: &dyn GitlabRecords, old: &str) -> Result<(), String> {
    let client = cx.clients.gitlab_for(kind.gitlab())?;
    let numeric = parse_id(old).map_err(|e| e.to_string())?;
    match kind.revoke(client, numeric).await {
        Ok(()) | Err(ApiError::NotFound { .. }) | Err(ApiError::Invalid { status: 400, .. }) => {
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Obtains the new value of a GitLab token: the rotate or create call, or (after a lost
/// answer, or when resuming at the intent step) what live state says happened.
pub async fn stage(
    cx: &StageCx<'_>,
    kind: &dyn GitlabRecords,
    pending: &mut PendingRotation,
    fresh: bool,
    notes: &mut Vec<String>,
) -> Result<Issued, Stop> {
    let client = client(cx, kind)?;
    let id = &cx.spec.id;
    let expires_at = pending.new_expires_at;
    let mut must_learn = !fresh;
    // The token is tokenops's own credential for this instance: rotated through the
    // self-rotate route while the run signs in with it, and never sent twice with it.
    let own = cx.spec.run_credential() == Some((crate::Platform::GitLab, kind.gitlab()));
    for _attempt in 0..4 {
        if must_learn && own {
            match signed_in_as(client, pending).await? {
                SignedIn::AsOld if fresh => {
                    return Err(Stop::Pending(
                        "the self-rotation's outcome was unknown; the old credential still                          signs in, so it did not happen. It is not repeated in this run: the                          next apply performs it"
                            .to_string(),
                    ));
                }
                SignedIn::AsOld => must_learn = false,
                SignedIn::Other => {}
                SignedIn::Dead => return Err(Stop::Failed(lost_own_credential(cx, kind))),
            }
        }
        if must_learn {
            match learn(client, kind, pending).await? {
                Learned::Obtained(issued) => {
                    notes.push(
                        "the create's answer was lost; the new trigger was read back".to_string(),
                    );
                    return Ok(issued);
                }
                Learned::Lost(new_id)
                    if !kind.rotatable()
                        || matches!(pending.action, Some(Obtain::Create | Obtain::Recreate)) =>
                {
                    // A create (overlap, recreate, or any create of a kind without a rotate
                    // call) whose value was lost: the old record must stay alive until
                    // finish, so the lost record is revoked (nobody holds its value) and a new
                    // one created; the record to retire at finish is kept.
                    let numeric = parse_id(&new_id).map_err(|e| Stop::Failed(e.to_string()))?;
                    match kind.revoke(client, numeric).await {
                        Ok(()) | Err(ApiError::NotFound { .. }) => {}
                        Err(e) => {
                            return Err(Stop::Pending(format!(
                                "the value of new record {new_id} was lost and revoking it \
                                 failed ({e}); the next apply tries again"
                            )));
                        }
                    }
                    let note = format!(
                        "the value of new record {new_id} was lost (the answer never arrived); \
                         it was revoked and a new record created"
                    );
                    tracing::warn!(token = %id, "{note}");
                    notes.push(note.clone());
                    pending.known_ids.push(new_id);
                    pending.notes.push(note);
                    cx.journal.commit(pending).await?;
                    match kind.create(client, expires_at).await {
                        Ok(issued) => return Ok(issued),
                        Err(ApiError::OutcomeUnknown { .. }) => {
                            must_learn = true;
                            continue;
                        }
                        Err(e) => return Err(Stop::Failed(e.to_string())),
                    }
                }
                Learned::Lost(new_id) => {
                    let note = format!(
                        "the value of new record {new_id} was lost (the answer never arrived); \
                         it was rotated again by id with tokenops's own credential"
                    );
                    tracing::warn!(token = %id, "{note}");
                    notes.push(note.clone());
                    let ids = kind.records(client).await.map_err(Stop::Pending)?;
                    pending.action = Some(Obtain::Rotate);
                    pending.recovery = Some(Recovery::LostValue {
                        record: new_id.clone(),
                    });
                    pending.old_platform_id = Some(new_id);
                    pending.known_ids = ids.into_iter().map(|r| r.id).collect();
                    pending.notes.push(note);
                    cx.journal.commit(pending).await?;
                }
                Learned::NotDone if fresh => {
                    return Err(Stop::Pending(
                        "the platform call's outcome was unknown; live state shows it did not \
                         happen. It is not repeated in this run: the next apply performs it"
                            .to_string(),
                    ));
                }
                Learned::NotDone => {}
                Learned::Gone => {
                    return Err(Stop::Failed(
                        "the record to rotate is revoked or gone and no new record exists; the \
                         next plan recreates the token"
                            .to_string(),
                    ));
                }
            }
        }
        let call = match (pending.action, &pending.old_platform_id) {
            (Some(Obtain::Rotate), Some(old)) if kind.rotatable() => {
                let numeric = parse_id(old).map_err(|e| Stop::Failed(e.to_string()))?;
                let expires_at = expires_at.ok_or_else(|| {
                    Stop::Failed(
                        "the plan gives no expiry for the new value; GitLab needs one".to_string(),
                    )
                })?;
                if own && signed_in_as(client, pending).await? == SignedIn::AsOld {
                    kind.self_rotate(client, expires_at).await
                } else {
                    kind.rotate(client, numeric, expires_at).await
                }
            }
            _ => kind.create(client, expires_at).await,
        };
        match call {
            Ok(issued) => return Ok(issued),
            Err(ApiError::OutcomeUnknown { .. }) => {
                tracing::warn!(token = %id, "outcome unknown; re-reading live state");
                must_learn = true;
            }
            Err(e) if pending.recovery.is_some() => {
                let lost = pending.old_platform_id.clone().unwrap_or_default();
                return Err(Stop::Failed(format!(
                    "the value of new record {lost} was lost and rotating it again failed ({e}). \
                     A person must revoke record {lost} in GitLab (its value is unknown to \
                     anyone), then run `tokenops apply` again: the plan recreates the token and \
                     writes every consumer"
                )));
            }
            Err(e) => return Err(Stop::Failed(e.to_string())),
        }
    }
    Err(Stop::Pending(
        "the platform kept losing answers; the rotation stays pending and the next apply \
         learns from live state what happened"
            .to_string(),
    ))
}

/// Who the run's credential signs in as, for a token that is tokenops's own credential.
#[derive(Debug, PartialEq, Eq)]
enum SignedIn {
    /// As the record being rotated: the rotation has not happened.
    AsOld,
    /// As another, live record (another credential rotates this one by id).
    Other,
    /// Not at all: the credential is revoked (a self-rotation went through) or expired.
    Dead,
}

/// `GET /personal_access_tokens/self` with the run's credential: not a rotate route, so
/// asking with a revoked value does not trigger reuse detection.
async fn signed_in_as(client: &GitLabClient, pending: &PendingRotation) -> Result<SignedIn, Stop> {
    match client.personal_token_self().await {
        Ok(t) if t.active && pending.old_platform_id.as_deref() == Some(&t.id.to_string()) => {
            Ok(SignedIn::AsOld)
        }
        Ok(t) if t.active => Ok(SignedIn::Other),
        Ok(_) | Err(ApiError::Unauthorized { .. }) => Ok(SignedIn::Dead),
        Err(e) => Err(Stop::Pending(format!(
            "tokenops could not ask GitLab which token it signs in with ({e}); the next apply \
             asks again"
        ))),
    }
}

/// What a person does when tokenops's own credential was rotated and the answer lost.
fn lost_own_credential(cx: &StageCx<'_>, kind: &dyn GitlabRecords) -> String {
    lost_own_credential_words(cx.spec, kind.gitlab())
}

/// What a person does when tokenops's own credential for GitLab `gitlab` (token `spec`) was
/// self-rotated and the answer with the new value lost.
pub fn lost_own_credential_words(spec: &crate::manifest::TokenSpec, gitlab: &str) -> String {
    let token = spec.kind.driver();
    let holders: Vec<String> = spec
        .consumers
        .iter()
        .filter(|c| c.driver().run_credential().is_none())
        .map(|c| c.driver().label())
        .collect();
    format!(
        "token {id}: the credential tokenops signs in to GitLab `{gitlab}` with no longer signs \
         in: its self-rotation went through but the answer with the new value was lost, so \
         nobody knows the new value. The self-rotation is never sent again with the old value \
         (GitLab would revoke the whole token family). A person must: 1. in GitLab, revoke the \
         newest active token of {object} (its value is lost) and create a new one with scopes \
         [{scopes}]; 2. put its value in {holders} and in the variable `token_env` names for \
         `{gitlab}`; 3. run `tokenops apply` again: tokenops keeps the new value alive from \
         then on",
        id = spec.id,
        object = token.object_words(),
        scopes = token.scopes().join(", "),
        holders = if holders.is_empty() {
            "the CI/CD variable that holds it".to_string()
        } else {
            holders.join(", ")
        },
    )
}

enum Learned {
    /// The call happened and the value could be read back.
    Obtained(Issued),
    /// The call happened and its value is lost: a new record with this id exists.
    Lost(String),
    /// The call did not happen.
    NotDone,
    /// The old record is gone and nothing replaced it.
    Gone,
}

async fn learn(
    client: &GitLabClient,
    kind: &dyn GitlabRecords,
    pending: &PendingRotation,
) -> Result<Learned, Stop> {
    let records = kind.records(client).await.map_err(|e| {
        Stop::Pending(format!(
            "the outcome of the platform call is unknown and live state could not be read \
             ({e}); the next apply reads it again"
        ))
    })?;
    let newest = records
        .iter()
        .filter(|r| r.active)
        .filter(|r| !pending.known_ids.contains(&r.id))
        .filter(|r| pending.old_platform_id.as_ref() != Some(&r.id))
        .max_by_key(|r| r.id.parse::<u64>().unwrap_or(0));
    if let Some(new) = newest {
        return Ok(match &new.value {
            Some(value) => Learned::Obtained((new.id.clone(), value.clone())),
            None => Learned::Lost(new.id.clone()),
        });
    }
    if pending.action == Some(Obtain::Rotate) && kind.rotatable() {
        let old_alive = pending
            .old_platform_id
            .as_ref()
            .is_some_and(|old| records.iter().any(|r| &r.id == old && r.active));
        return Ok(if old_alive {
            Learned::NotDone
        } else {
            Learned::Gone
        });
    }
    Ok(Learned::NotDone)
}

/// An error for a create the plan gave no expiry (GitLab needs one for access tokens).
pub fn no_expiry(client: &GitLabClient) -> ApiError {
    ApiError::Invalid {
        target: target("POST", format!("{}: access token", client.instance())),
        status: 400,
        detail: "the plan gives no expiry for the new value; GitLab needs one".to_string(),
    }
}

/// The records of a project or group access token named `name`.
pub async fn resource_records(
    client: &GitLabClient,
    owner: &Owner,
    name: &str,
) -> Result<Vec<Record>, String> {
    let tokens = client
        .list_access_tokens(owner, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(tokens
        .into_iter()
        .filter(|t| t.name == name)
        .map(|t| Record {
            id: t.id.to_string(),
            active: t.active && !t.revoked,
            value: None,
        })
        .collect())
}

/// Creates a project or group access token (a new bot user).
pub async fn resource_create(
    client: &GitLabClient,
    owner: &Owner,
    new: crate::gitlab::NewAccessToken,
) -> Result<Issued, ApiError> {
    let t = client.create_access_token(owner, &new).await?;
    issued(t.id, t.token, "access token create")
}

/// Rotates the project or group access token the client signs in with.
pub async fn resource_self_rotate(
    client: &GitLabClient,
    owner: &Owner,
    expires_at: Date,
) -> Result<Issued, ApiError> {
    let t = client.self_rotate_access_token(owner, expires_at).await?;
    issued(t.id, t.token, "access token self rotate")
}

/// Rotates project or group access token `id`.
pub async fn resource_rotate(
    client: &GitLabClient,
    owner: &Owner,
    id: u64,
    expires_at: Date,
) -> Result<Issued, ApiError> {
    let t = client.rotate_access_token(owner, id, expires_at).await?;
    issued(t.id, t.token, "access token rotate")
}

/// The `TokenDriver` methods every GitLab token with a name in its owner's token list shares
/// (personal, service-account, project and group access tokens): the one list discovery
/// needs (`self.list()`), the live record by name, the probe of a value, no client secret,
/// and GitLab's words for what was done. Written inside the kind's `impl TokenDriver`;
/// `#[async_trait]` leaves these synchronous methods as they are.
macro_rules! gitlab_named_token_methods {
    () => {
        fn lists(&self, needs: &mut std::collections::BTreeSet<$crate::discover::lists::ListKey>) {
            needs.insert(self.list());
        }
        fn live(
            &self,
            cx: &$crate::kinds::TokenLiveCx<'_>,
        ) -> Result<$crate::inventory::LiveToken, Option<String>> {
            match cx.fetched.get(&self.list()) {
                Some(Ok($crate::discover::lists::Listing::Tokens(tokens))) => Ok(
                    $crate::kinds::gitlab::access_token(tokens, &self.name, cx.remembered_id()),
                ),
                _ => Err(None),
            }
        }
        fn probe(
            &self,
            value: &secrecy::SecretString,
        ) -> Option<$crate::discover::lists::ProbeKind> {
            Some($crate::discover::lists::ProbeKind::GitlabToken {
                gitlab: self.gitlab.clone(),
                value: value.clone(),
            })
        }
        fn client_secret(&self) -> Option<(String, String)> {
            None
        }
        fn done_words(&self, obtain: $crate::ledger::Obtain) -> &'static str {
            $crate::kinds::token::gitlab_done_words(obtain)
        }
    };
}
pub(crate) use gitlab_named_token_methods;
