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
//! The protocol carries out the plan's typed actions, recorded with the intent: how the value
//! is obtained, which consumers are written, which old record is retired. Everything that
//! depends on the kind (the platform calls, learning what a call with a lost answer did,
//! writing and verifying a consumer) is the kind's driver's ([`crate::kinds`]).

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::civil::Date;
use secrecy::SecretString;

use super::{Ctx, TokenOutcome, TokenResult};
use crate::inventory::Holds;
use crate::kinds::{Credential, Issued, Journal, Proof, StageCx, Stop};
use crate::ledger::{LedgerToken, Obtain, PendingRotation, Step};
use crate::manifest::{ConsumerSpec, TokenSpec};

/// How a rotation starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// A new rotation from the plan's actions.
    Fresh {
        /// How the new value is obtained (the plan's first action).
        obtain: Obtain,
        /// Expiry of the new value, when the platform call sets one.
        expires_at: Option<Date>,
        /// The live record being replaced.
        old_id: Option<String>,
        /// The record to retire once every consumer holds the new value (the plan's
        /// `revoke`).
        retire: Option<String>,
        /// The consumers to write, by key (the plan's `write` actions).
        consumers: Vec<String>,
    },
    /// An unfinished rotation from the ledger.
    Resume(Box<PendingRotation>),
}

/// The ledger, as the journal a driver commits recoveries to.
struct TokenJournal<'a> {
    ctx: &'a Ctx,
    id: &'a str,
}

#[async_trait]
impl Journal for TokenJournal<'_> {
    async fn commit(&self, pending: &PendingRotation) -> Result<(), Stop> {
        commit_pending(self.ctx, self.id, pending).await
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
                // The end of the run says the ledger could not be written, once.
                Err(e) if e.is_write() => (TokenOutcome::Failed, why),
                Err(e) => (TokenOutcome::Failed, format!("{why}; {}", e.brief())),
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
    let journal = TokenJournal { ctx, id: &spec.id };
    let cx = StageCx {
        spec,
        clients: &ctx.clients,
        client_secrets: &ctx.zendesk_client_secrets,
        journal: &journal,
    };
    let driver = spec.kind.driver();
    let (pending, value) = match start {
        Start::Fresh {
            obtain,
            expires_at,
            old_id,
            retire,
            consumers,
        } => {
            let mut intent = PendingRotation::intent(ctx.now, obtain);
            intent.old_platform_id = old_id;
            intent.new_expires_at = expires_at;
            intent.retire = retire;
            intent.consumers = consumers;
            intent.username = driver.username().ok().map(str::to_string);
            if obtain != Obtain::Provide {
                intent.known_ids = driver.known_ids(&cx).await?;
            }
            // No platform call before the intent is durable: a run that cannot write the
            // ledger changes nothing.
            commit_pending(ctx, &spec.id, &intent)
                .await
                .map_err(|stop| match stop {
                    Stop::Pending(why) | Stop::Failed(why) => Stop::Failed(format!(
                        "nothing was changed: {why}, so the platform was not called and every \
                         consumer keeps the current value; fix that and run apply again"
                    )),
                })?;
            ctx.crash_point(&spec.id, "intent");
            let issued = stage(ctx, &cx, &mut intent, true, notes).await?;
            ctx.crash_point(&spec.id, "obtained");
            escrow(ctx, spec, intent, issued).await?
        }
        Start::Resume(pending) => {
            let mut pending = *pending;
            notes.extend(pending.notes.iter().cloned());
            if pending.step == Step::Intent {
                // Nothing was obtained yet: the new record gets the username declared now.
                pending.username = driver.username().ok().map(str::to_string);
                let issued = stage(ctx, &cx, &mut pending, false, notes).await?;
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
                still_alive(ctx, spec, &pending, &value).await?;
                switch_run_credential(ctx, spec, &pending, &value).await?;
                (pending, value)
            }
        }
    };
    distribute_verify_finish(ctx, &cx, pending, value).await
}

/// Before an escrowed value is distributed on resume, proves it still authenticates as the
/// record it was staged for, where the platform can tell: a ledger restored from an older
/// copy, or a token revoked since, must not put a dead value in any consumer. A dead value
/// drops the unfinished rotation; the next plan reads what is live.
async fn still_alive(
    ctx: &Ctx,
    spec: &TokenSpec,
    pending: &PendingRotation,
    value: &SecretString,
) -> Result<(), Stop> {
    if pending.action == Some(Obtain::Provide) {
        return Ok(());
    }
    let Some(kind) = spec.kind.driver().probe(value) else {
        return Ok(());
    };
    let probe = crate::discover::lists::Probe {
        consumer: spec.id.clone(),
        kind,
    };
    let answer = crate::discover::fetch::probe_all(vec![probe], &ctx.clients).await;
    let expected = pending.new_platform_id.as_deref();
    let reason = match answer.into_iter().next().map(|(_, r)| r) {
        Some(Ok(Holds::AuthenticatesAs(id))) if expected.is_none_or(|e| e == id) => {
            return Ok(());
        }
        Some(Ok(Holds::AuthenticatesAs(id))) => format!("it authenticates as record {id}"),
        Some(Ok(Holds::Rejected(why))) => format!("the platform refuses it ({why})"),
        Some(Ok(_)) | None => return Ok(()),
        Some(Err(e)) => {
            return Err(Stop::Pending(format!(
                "the escrowed value could not be checked before it is distributed ({e}); the \
                 next apply checks again"
            )));
        }
    };
    ctx.store
        .commit(&spec.id, |t| t.pending = None)
        .await
        .map_err(Stop::from)?;
    Err(Stop::Failed(format!(
        "the escrowed value of record {} no longer authenticates: {reason}. It was not \
         written anywhere and the unfinished rotation was dropped (was the ledger restored from \
         an older copy, or the token revoked since?). Run `tokenops plan`: it shows what is \
         live and what apply will do",
        expected.unwrap_or("(unknown)")
    )))
}

/// When the token is tokenops's own credential, signs every client of the run in with the
/// new value now that it is escrowed: the rotation revoked the old one, and every later call
/// of the run (this token's other consumers included) must use the new one.
async fn switch_run_credential(
    ctx: &Ctx,
    spec: &TokenSpec,
    pending: &PendingRotation,
    value: &SecretString,
) -> Result<(), Stop> {
    for consumer in spec
        .consumers
        .iter()
        .filter(|c| c.driver().run_credential().is_some())
    {
        consumer
            .driver()
            .write(
                &ctx.clients,
                Credential {
                    value,
                    username: username(spec, pending).as_deref(),
                },
            )
            .await
            .map_err(|e| Stop::Pending(format!("switching {}: {e}", describe(consumer))))?;
    }
    Ok(())
}

fn record_pending(ctx: &Ctx, id: &str, pending: &PendingRotation) {
    let pending = pending.clone();
    ctx.store.record(id, move |t| t.pending = Some(pending));
}

/// Once a value is obtained it exists in this process only until the ledger holds it, and
/// the platform call may already have killed the old one: it must reach the consumers even
/// when the ledger cannot be written. A failed write marks the token unrecorded and the
/// rotation goes on (the store keeps the change in memory and the run's last write tries
/// again; if that fails too, the summary says which tokens the ledger does not show). Other
/// errors stop the rotation as usual.
async fn commit_obtained(
    ctx: &Ctx,
    id: &str,
    change: impl FnOnce(&mut LedgerToken),
) -> Result<(), Stop> {
    match ctx.store.commit(id, change).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_write() => {
            ctx.unrecorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_string());
            Ok(())
        }
        Err(e) => Err(Stop::from(e)),
    }
}

async fn commit_pending(ctx: &Ctx, id: &str, pending: &PendingRotation) -> Result<(), Stop> {
    let pending = pending.clone();
    ctx.store
        .commit(id, move |t| t.pending = Some(pending))
        .await
        .map_err(Stop::from)
}

/// Obtains the new value: a provided one (checked first), or the driver's platform call.
async fn stage(
    ctx: &Ctx,
    cx: &StageCx<'_>,
    pending: &mut PendingRotation,
    fresh: bool,
    notes: &mut Vec<String>,
) -> Result<Issued, Stop> {
    if pending.action == Some(Obtain::Provide) {
        let value = ctx
            .provided
            .as_ref()
            .filter(|(id, _)| id == &cx.spec.id)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| SecretString::from(String::new()));
        return super::provide::stage(cx.clients, cx.spec, &value)
            .await
            .map_err(Stop::Failed);
    }
    cx.spec.kind.driver().stage(cx, pending, fresh, notes).await
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
    let staged = pending.clone();
    commit_obtained(ctx, &spec.id, move |t| t.pending = Some(staged)).await?;
    switch_run_credential(ctx, spec, &pending, &value).await?;
    ctx.crash_point(&spec.id, "staged");
    Ok((pending, value))
}

async fn distribute_verify_finish(
    ctx: &Ctx,
    cx: &StageCx<'_>,
    mut pending: PendingRotation,
    value: SecretString,
) -> Result<String, Stop> {
    let spec = cx.spec;
    let driver = spec.kind.driver();
    let fingerprint = match &pending.fingerprint {
        Some(fp) => fp.clone(),
        None => ctx
            .store
            .read(|l| l.fingerprint(&value))
            .unwrap_or_default(),
    };
    let mut writable: Vec<&ConsumerSpec> = spec
        .consumers
        .iter()
        .filter(|c| c.driver().written_by_apply())
        .filter(|c| {
            pending.consumers.is_empty()
                || c.key().is_some_and(|k| pending.consumers.contains(&k.0))
        })
        .collect();
    // The run's own credential first: every other write then signs in with the new value.
    writable.sort_by_key(|c| c.driver().run_credential().is_none());
    // Consumers whose write answer already proved what they hold, in this run.
    let mut proven = std::collections::BTreeSet::new();
    let username = username(spec, &pending);
    let given = Credential {
        value: &value,
        username: username.as_deref(),
    };

    if pending.step < Step::Distributed {
        let mut first = true;
        for (i, consumer) in writable.iter().enumerate() {
            let proof = consumer
                .driver()
                .write(&ctx.clients, given)
                .await
                .map_err(|e| Stop::Pending(format!("writing {}: {e}", describe(consumer))))?;
            if proof.is_some() {
                proven.insert(i);
            }
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
        for (i, consumer) in writable.iter().enumerate() {
            let d = consumer.driver();
            let checked = if proven.contains(&i) {
                Ok(Proof::Written)
            } else {
                d.verify(&ctx.clients, given).await
            };
            if let Err(e) = checked {
                if !d.rewrite_safe() {
                    return Err(Stop::Pending(format!(
                        "verifying {}: {e}",
                        describe(consumer)
                    )));
                }
                // A resumed rotation may find a consumer someone changed since: write it
                // again (idempotent) and check once more.
                d.write(&ctx.clients, given)
                    .await
                    .map_err(|e| Stop::Pending(format!("writing {}: {e}", describe(consumer))))?;
                d.verify(&ctx.clients, given)
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

    // Finish: retire the old record the plan said to retire, only now that every consumer
    // holds the new value.
    if let Some(old) = &pending.retire
        && pending.new_platform_id.as_ref() != Some(old)
    {
        driver.retire(cx, old).await.map_err(|e| {
            Stop::Pending(format!(
                "every consumer holds the new value, but retiring old record {old} failed \
                 ({e}); the next apply retries"
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
    commit_obtained(ctx, &spec.id, move |t| *t = done).await?;
    Ok(driver
        .done_words(pending.action.unwrap_or(Obtain::Create))
        .to_string())
}

/// The username consumers are given: the one the rotation fixed with its intent (the
/// declared one, for a rotation the ledger recorded before usernames were kept).
fn username(spec: &TokenSpec, pending: &PendingRotation) -> Option<String> {
    pending
        .username
        .clone()
        .or_else(|| spec.kind.driver().username().ok().map(str::to_string))
}

fn describe(consumer: &ConsumerSpec) -> String {
    consumer
        .key()
        .map(|k| k.0)
        .unwrap_or_else(|| consumer.kind_key().to_string())
}
