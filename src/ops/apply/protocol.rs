//! One token's rotation as a state machine over the ledger's steps, after AWS Secrets
//! Manager's createSecret / setSecret / testSecret / finishSecret:
//!
//! 1. intent: what is about to happen is written (and flushed) before the platform call;
//! 2. staged: the new value, age-encrypted, is flushed before any other call;
//! 3. distributed: every consumer was written (each write idempotent);
//! 4. verified: every consumer was proven to hold the value;
//! 5. finish: the old record is retired where still alive, fingerprints and the new expiry
//!    are recorded and the escrowed value is dropped.
//!
//! A rotate or create whose answer is lost is never sent again blindly: live state is read to
//! learn what happened. A new record whose value was lost is rotated by id with tokenops's own
//! credential (reuse detection only fires when a revoked token authenticates a rotate).

use std::collections::BTreeMap;

use jiff::civil::Date;
use rand::Rng;
use secrecy::SecretString;

use super::consumers;
use super::gitlab::{self, GitlabKind, Issued};
use super::zendesk::{self as zd, ZendeskKind, ZendeskStop};
use super::{Ctx, TokenOutcome, TokenResult};
use crate::http::ApiError;
use crate::ledger::{LedgerToken, PendingRotation, Step};
use crate::manifest::{ConsumerSpec, TokenKind, TokenSpec};

/// How a rotation starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// A new rotation from the plan.
    Fresh {
        /// `rotate`, `create`, `recreate` or `generate`.
        action: String,
        /// Expiry of the new value.
        expires_at: Option<Date>,
        /// The live record being replaced.
        old_id: Option<String>,
    },
    /// An unfinished rotation from the ledger.
    Resume(PendingRotation),
}

/// Why a rotation stopped early.
enum Stop {
    /// Left pending in the ledger; the next apply continues from there.
    Pending(String),
    /// Failed; nothing to continue (the pending record is cleared).
    Failed(String),
}

impl From<crate::ledger::LedgerError> for Stop {
    fn from(e: crate::ledger::LedgerError) -> Self {
        Stop::Pending(format!("the ledger could not be written: {e}"))
    }
}

/// The platform side of a token.
enum Source {
    Gitlab { instance: String, kind: GitlabKind },
    Generated { length: u32, alphabet: &'static str },
    Zendesk { instance: String, kind: ZendeskKind },
    Provided(SecretString),
}

fn source_of(spec: &TokenSpec) -> Option<Source> {
    if let Some((instance, kind)) = GitlabKind::of(spec) {
        return Some(Source::Gitlab { instance, kind });
    }
    if let Some((instance, kind)) = ZendeskKind::of(spec) {
        return Some(Source::Zendesk { instance, kind });
    }
    match &spec.kind {
        TokenKind::GeneratedSecret(g) => Some(Source::Generated {
            length: g.length,
            alphabet: g.alphabet.chars(),
        }),
        _ => None,
    }
}

/// Runs (or resumes) the rotation of `spec`.
pub async fn run(ctx: &Ctx, spec: &TokenSpec, start: Start) -> TokenResult {
    let mut notes = Vec::new();
    let outcome = rotate(ctx, spec, start, &mut notes).await;
    let (outcome, detail) = match outcome {
        Ok(detail) => (TokenOutcome::Done, detail),
        Err(Stop::Pending(why)) => (TokenOutcome::Pending, why),
        Err(Stop::Failed(why)) => {
            // Nothing was obtained: forget the intent so the next plan starts afresh.
            let cleared = ctx
                .store
                .commit(&spec.id, |t| {
                    if t.pending.as_ref().is_some_and(|p| p.step == Step::Intent) {
                        t.pending = None;
                    }
                })
                .await;
            match cleared {
                Ok(()) => (TokenOutcome::Failed, why),
                Err(e) => (TokenOutcome::Failed, format!("{why}; {e}")),
            }
        }
    };
    TokenResult {
        id: spec.id.clone(),
        outcome,
        detail,
        notes,
    }
}

async fn rotate(
    ctx: &Ctx,
    spec: &TokenSpec,
    start: Start,
    notes: &mut Vec<String>,
) -> Result<String, Stop> {
    let provided = ctx
        .provided
        .as_ref()
        .filter(|(id, _)| id == &spec.id)
        .map(|(_, value)| Source::Provided(value.clone()));
    // A provided value being resumed comes from the escrow (or, at the intent step, is
    // asked for again).
    let resumed_provide =
        matches!(&start, Start::Resume(p) if p.action.as_deref() == Some("provide"))
            .then(|| Source::Provided(SecretString::from(String::new())));
    let Some(source) = provided.or(resumed_provide).or_else(|| source_of(spec)) else {
        return Err(Stop::Failed(format!(
            "{} tokens are not handled by this version",
            spec.kind.key()
        )));
    };
    let (pending, value) = match start {
        Start::Fresh {
            action,
            expires_at,
            old_id,
        } => {
            let mut intent = PendingRotation::intent(ctx.now, &action);
            intent.old_platform_id = old_id;
            intent.new_expires_at = expires_at;
            if let Source::Gitlab { instance, kind } = &source {
                let client = gitlab_client(ctx, instance)?;
                let known = gitlab::records(client, kind).await.map_err(Stop::Failed)?;
                intent.known_ids = known.into_iter().map(|r| r.id).collect();
            }
            if let Source::Zendesk { instance, kind } = &source {
                let client = zendesk_client(ctx, instance)?;
                intent.known_ids = zd::known_ids(client, kind).await.map_err(Stop::Failed)?;
            }
            commit_pending(ctx, &spec.id, &intent).await?;
            ctx.crash_point(&spec.id, "intent");
            let issued = stage(ctx, spec, &source, &mut intent, true, notes).await?;
            ctx.crash_point(&spec.id, "obtained");
            escrow(ctx, spec, intent, issued).await?
        }
        Start::Resume(mut pending) => {
            notes.extend(pending.notes.iter().cloned());
            if pending.step == Step::Intent {
                let issued = stage(ctx, spec, &source, &mut pending, false, notes).await?;
                escrow(ctx, spec, pending, issued).await?
            } else {
                let armored = pending.escrow.clone().ok_or_else(|| {
                    Stop::Pending(
                        "the ledger says the value was staged but holds no escrow; restore \
                         the ledger from its previous version"
                            .to_string(),
                    )
                })?;
                let value = ctx
                    .escrow
                    .open(&armored)
                    .map_err(|e| Stop::Pending(e.to_string()))?;
                (pending, value)
            }
        }
    };
    distribute_verify_finish(ctx, spec, &source, pending, value).await
}

fn gitlab_client<'a>(
    ctx: &'a Ctx,
    instance: &str,
) -> Result<&'a crate::gitlab::GitLabClient, Stop> {
    ctx.clients.gitlab_for(instance).map_err(Stop::Failed)
}

fn record_pending(ctx: &Ctx, id: &str, pending: &PendingRotation) {
    let pending = pending.clone();
    ctx.store.record(id, move |t| t.pending = Some(pending));
}

fn zendesk_client<'a>(
    ctx: &'a Ctx,
    instance: &str,
) -> Result<&'a crate::zendesk::ZendeskClient, Stop> {
    ctx.clients.zendesk_for(instance).map_err(Stop::Failed)
}

async fn commit_pending(ctx: &Ctx, id: &str, pending: &PendingRotation) -> Result<(), Stop> {
    let pending = pending.clone();
    ctx.store
        .commit(id, move |t| t.pending = Some(pending))
        .await
        .map_err(Stop::from)
}

fn mint(length: u32, alphabet: &str) -> SecretString {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut rng = rand::rng();
    let value: String = (0..length)
        .map(|_| chars[rng.random_range(0..chars.len())])
        .collect();
    SecretString::from(value)
}

/// Obtains the new value: the platform call, or (after a lost answer or when resuming at the
/// intent step) what live state says happened.
async fn stage(
    ctx: &Ctx,
    spec: &TokenSpec,
    source: &Source,
    pending: &mut PendingRotation,
    fresh: bool,
    notes: &mut Vec<String>,
) -> Result<Issued, Stop> {
    let (instance, kind) = match source {
        Source::Generated { length, alphabet } => {
            return Ok((String::new(), mint(*length, alphabet)));
        }
        Source::Gitlab { instance, kind } => (instance.as_str(), kind),
        Source::Provided(value) => {
            return super::provide::stage(&ctx.clients, spec, value)
                .await
                .map_err(Stop::Failed);
        }
        Source::Zendesk { instance, kind } => {
            let client = zendesk_client(ctx, instance)?;
            let secrets = &ctx.zendesk_client_secrets;
            return zd::stage(client, instance, kind, pending, fresh, secrets)
                .await
                .map_err(|e| match e {
                    ZendeskStop::Pending(why) => Stop::Pending(why),
                    ZendeskStop::Failed(why) => Stop::Failed(why),
                });
        }
    };
    let client = gitlab_client(ctx, instance)?;
    let expires_at = pending.new_expires_at.ok_or_else(|| {
        Stop::Failed("the plan gives no expiry for the new value; GitLab needs one".to_string())
    })?;
    let mut must_learn = !fresh;
    for _attempt in 0..4 {
        if must_learn {
            match learn(client, kind, pending).await? {
                Learned::Obtained(issued) => {
                    notes.push(
                        "the create's answer was lost; the new trigger was read back".to_string(),
                    );
                    return Ok(issued);
                }
                Learned::Lost(new_id)
                    if kind.rotatable()
                        && matches!(pending.action.as_deref(), Some("create" | "recreate")) =>
                {
                    // A create (overlap or recreate) whose value was lost: the old record must
                    // stay alive until finish, so the lost record is revoked (nobody holds its
                    // value) and a new one created; the old id is kept for finish to retire.
                    gitlab::retire(client, kind, &new_id).await.map_err(|e| {
                        Stop::Pending(format!(
                            "the value of new record {new_id} was lost and revoking it failed \
                             ({e}); the next apply tries again"
                        ))
                    })?;
                    let note = format!(
                        "the value of new record {new_id} was lost (the answer never arrived); \
                         it was revoked and a new record created"
                    );
                    tracing::warn!(token = %spec.id, "{note}");
                    notes.push(note.clone());
                    pending.known_ids.push(new_id);
                    pending.notes.push(note);
                    commit_pending(ctx, &spec.id, pending).await?;
                    match gitlab::create(client, kind, expires_at).await {
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
                    tracing::warn!(token = %spec.id, "{note}");
                    notes.push(note.clone());
                    let ids = gitlab::records(client, kind).await.map_err(Stop::Pending)?;
                    pending.action = Some("rotate".to_string());
                    pending.old_platform_id = Some(new_id);
                    pending.known_ids = ids.into_iter().map(|r| r.id).collect();
                    pending.notes.push(note);
                    commit_pending(ctx, &spec.id, pending).await?;
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
        let call = match (pending.action.as_deref(), &pending.old_platform_id) {
            (Some("rotate"), Some(old)) if kind.rotatable() => {
                gitlab::rotate(client, kind, old, expires_at).await
            }
            _ => gitlab::create(client, kind, expires_at).await,
        };
        match call {
            Ok(issued) => return Ok(issued),
            Err(ApiError::OutcomeUnknown { .. }) => {
                tracing::warn!(token = %spec.id, "outcome unknown; re-reading live state");
                must_learn = true;
            }
            Err(e) if recovering(pending) => {
                let lost = pending.old_platform_id.clone().unwrap_or_default();
                return Err(Stop::Failed(format!(
                    "the value of new record {lost} was lost and rotating it again failed ({e}).                      A person must revoke record {lost} in GitLab (its value is unknown to                      anyone), then run `tokenops apply` again: the plan recreates the token and                      writes every consumer"
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

/// True when the current intent is the recovery of a value that was lost.
fn recovering(pending: &PendingRotation) -> bool {
    pending.notes.iter().any(|n| n.contains("was lost"))
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
    client: &crate::gitlab::GitLabClient,
    kind: &GitlabKind,
    pending: &PendingRotation,
) -> Result<Learned, Stop> {
    let records = gitlab::records(client, kind).await.map_err(|e| {
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
    if pending.action.as_deref() == Some("rotate") && kind.rotatable() {
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

/// Escrows the value and flushes before any other call.
async fn escrow(
    ctx: &Ctx,
    spec: &TokenSpec,
    mut pending: PendingRotation,
    issued: Issued,
) -> Result<(PendingRotation, SecretString), Stop> {
    let (new_id, value) = issued;
    let sealed = ctx
        .escrow
        .seal(&value)
        .map_err(|e| Stop::Pending(e.to_string()))?;
    pending.step = Step::Staged;
    pending.new_platform_id = (!new_id.is_empty()).then_some(new_id);
    pending.escrow = Some(sealed);
    pending.fingerprint = ctx.store.read(|l| l.fingerprint(&value));
    commit_pending(ctx, &spec.id, &pending).await?;
    ctx.crash_point(&spec.id, "staged");
    Ok((pending, value))
}

async fn distribute_verify_finish(
    ctx: &Ctx,
    spec: &TokenSpec,
    source: &Source,
    mut pending: PendingRotation,
    value: SecretString,
) -> Result<String, Stop> {
    let fingerprint = match &pending.fingerprint {
        Some(fp) => fp.clone(),
        None => ctx
            .store
            .read(|l| l.fingerprint(&value))
            .unwrap_or_default(),
    };
    let writable: Vec<&ConsumerSpec> = spec
        .consumers
        .iter()
        .filter(|c| !matches!(c, ConsumerSpec::Manual(_)))
        .collect();
    let introspect = match source {
        Source::Gitlab { instance, kind } if kind.rotatable() => pending
            .new_platform_id
            .clone()
            .map(|id| (instance.clone(), id)),
        _ => None,
    };

    if pending.step < Step::Distributed {
        let mut first = true;
        for consumer in &writable {
            consumers::write(&ctx.clients, consumer, &value)
                .await
                .map_err(|e| Stop::Pending(format!("writing {}: {e}", describe(consumer))))?;
            if first {
                ctx.crash_point(&spec.id, "written");
                first = false;
            }
        }
        pending.step = Step::Distributed;
        // Not flushed on its own: a crash before the next write only means the consumers
        // are written again, which is idempotent.
        record_pending(ctx, &spec.id, &pending);
        ctx.crash_point(&spec.id, "distributed");
    }

    if pending.step < Step::Verified {
        let mut verified = BTreeMap::new();
        for consumer in &writable {
            let auth = introspect.as_ref().map(|(g, id)| (g.as_str(), id.as_str()));
            if consumers::verify(&ctx.clients, consumer, &value, auth)
                .await
                .is_err()
            {
                // A resumed rotation may find a consumer someone changed since: write it
                // again (idempotent) and check once more.
                consumers::write(&ctx.clients, consumer, &value)
                    .await
                    .map_err(|e| Stop::Pending(format!("writing {}: {e}", describe(consumer))))?;
                consumers::verify(&ctx.clients, consumer, &value, auth)
                    .await
                    .map_err(|e| Stop::Pending(format!("verifying {}: {e}", describe(consumer))))?;
            }
            if let Some(key) = consumer.key() {
                verified.insert(key.0, fingerprint.clone());
            }
        }
        pending.verified = verified;
        pending.step = Step::Verified;
        record_pending(ctx, &spec.id, &pending);
        ctx.crash_point(&spec.id, "verified");
    }

    // Finish: retire the old record where it is still alive, only now that every consumer
    // holds the new value.
    let retire_old = match (source, pending.action.as_deref()) {
        (Source::Gitlab { kind, .. }, Some("create")) => Some(kind),
        (Source::Gitlab { kind, .. }, Some("recreate")) if !kind.rotatable() => Some(kind),
        _ => None,
    };
    if let (Some(kind), Some(old), Source::Gitlab { instance, .. }) =
        (retire_old, &pending.old_platform_id, source)
        && pending.new_platform_id.as_ref() != Some(old)
    {
        let client = gitlab_client(ctx, instance)?;
        gitlab::retire(client, kind, old).await.map_err(|e| {
            Stop::Pending(format!(
                "every consumer holds the new value, but retiring old record {old} failed \
                 ({e}); the next apply retries"
            ))
        })?;
        ctx.crash_point(&spec.id, "retired");
    }
    if let (Source::Zendesk { instance, kind }, Some(old)) = (source, &pending.old_platform_id)
        && kind.overlaps()
        && pending.new_platform_id.as_ref() != Some(old)
    {
        zd::retire(zendesk_client(ctx, instance)?, kind, old)
            .await
            .map_err(|e| {
                Stop::Pending(format!(
                    "every consumer holds the new value, but revoking old OAuth token {old} \
                     failed ({e}); the next apply retries"
                ))
            })?;
        ctx.crash_point(&spec.id, "retired");
    }
    let done = LedgerToken {
        platform_id: pending.new_platform_id.clone(),
        replaced_at: Some(ctx.now),
        expires_at: pending.new_expires_at,
        fingerprint: Some(fingerprint),
        consumers: pending.verified.clone(),
        pending: None,
    };
    // Durable before the summary says done: a crash after this point leaves nothing to redo.
    ctx.store
        .commit(&spec.id, move |t| *t = done)
        .await
        .map_err(Stop::from)?;
    if let Source::Zendesk { kind, .. } = source {
        return Ok(if kind.overlaps() {
            "new OAuth token minted, scopes checked; every consumer verified; old token revoked"
        } else {
            "new client secret generated; every consumer verified"
        }
        .to_string());
    }
    Ok(match pending.action.as_deref() {
        Some("rotate") => "rotated; every consumer verified".to_string(),
        Some("generate") => "new secret generated; every consumer verified".to_string(),
        Some("provide") => {
            "the provided value was distributed; every consumer verified".to_string()
        }
        _ => "created anew; every consumer verified; old record retired".to_string(),
    })
}

fn describe(consumer: &ConsumerSpec) -> String {
    consumer
        .key()
        .map(|k| k.0)
        .unwrap_or_else(|| consumer.kind_key().to_string())
}
