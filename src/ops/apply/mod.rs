//! `tokenops apply`: take the ledger lock, finish every unfinished rotation, then plan (or
//! load a saved plan and check that live state has not moved since) and rotate what the plan
//! says, several tokens at a time. One token's failure never stops the others; the run ends
//! with a per-token summary.
//!
//! * [`protocol`]: one token's rotation over the ledger steps, carrying out the plan's typed
//!   actions; what depends on the kind is the kind's driver's ([`crate::kinds`]);
//! * [`provide`]: a value a person obtained by hand;
//! * [`escrow`]: age encryption of new values;
//! * [`store`]: the locked ledger with group commit;
//! * [`summary`]: the report.

pub mod escrow;
pub mod own;
pub mod protocol;
pub mod provide;
pub mod store;
pub mod summary;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jiff::Timestamp;
use jiff::civil::Date;
use secrecy::SecretString;

use super::Outcome;
use super::plan::{PlanError, make_plan};
use crate::clients::{Clients, RunContext};
use crate::ledger::Obtain;
use crate::ledger::local::LockError;
use crate::ledger::{HeldLedger, LedgerError, LedgerSource};
use crate::manifest::{Desired, TokenSpec};
use crate::plan::{Action, PLAN_FORMAT, Plan, TokenPlan};
use escrow::{Escrow, EscrowError};
use protocol::Start;
use store::Store;
pub use summary::{ApplyReport, SummaryFormat, TokenOutcome, TokenResult};

/// What `apply` was asked to do.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Path of `tokenops.yaml` (named in messages).
    pub config: PathBuf,
    /// Where the ledger is.
    pub ledger: LedgerSource,
    /// A saved plan to execute exactly; `None` plans and applies in one go.
    pub plan_file: Option<PathBuf>,
    /// How long to wait for the ledger lock.
    pub lock_timeout: Duration,
    /// Tokens rotated at the same time.
    pub parallel: usize,
    /// The escrow identity, read from the environment by the CLI.
    pub escrow_identity: Option<SecretString>,
    /// Test-only fault point `<token-id>:<step>`: the process kills itself there.
    pub crash_at: Option<String>,
    /// Who holds the lock (pid, host, start), for a second run to name.
    pub holder: String,
    /// Zendesk OAuth client secrets for the client-credentials grant, keyed
    /// `INSTANCE/CLIENT` (read from the environment by the CLI).
    pub zendesk_client_secrets: std::collections::BTreeMap<String, SecretString>,
    /// `--provide TOKEN_ID`: distribute this value (read from stdin by the CLI) for that
    /// token instead of applying the plan.
    pub provide: Option<(String, SecretString)>,
    /// `--replace` and `--target` (empty with a saved plan, which carries its own).
    pub selection: crate::plan::Selection,
    /// How the summary is written (`--format`).
    pub summary_format: summary::SummaryFormat,
}

/// Why `apply` could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Planning failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The ledger lock is held.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The ledger could not be read or written.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// No escrow key is configured.
    #[error(
        "apply refuses to rotate: no escrow key is configured. A new GitLab token value is shown \
         once and must be made durable before anything else; add to {config}:\n  escrow:\n    \
         recipient: age1…   # public key from `age-keygen`\n    identity_env: \
         TOKENOPS_ESCROW_IDENTITY\nand keep the secret key in that environment variable"
    )]
    NoEscrow {
        /// The config path.
        config: String,
    },
    /// The escrow key is unusable.
    #[error(transparent)]
    Escrow(#[from] EscrowError),
    /// The saved plan cannot be read.
    #[error("cannot read the plan {path}: {reason}; make it again with `tokenops plan --out`")]
    BadPlan {
        /// Where.
        path: String,
        /// Why.
        reason: String,
    },
    /// Live state moved since the plan was saved.
    #[error(
        "the plan {path} is stale: the manifests, live state or the ledger changed since it was \
         made, so applying it would carry out changes nobody reviewed \
         (fingerprint {saved}, now {live}). Run `tokenops plan --out {path}` again, review it, \
         and apply the new plan"
    )]
    StalePlan {
        /// Where.
        path: String,
        /// The saved fingerprint.
        saved: String,
        /// The current fingerprint.
        live: String,
    },
    /// tokenops's own credential was self-rotated and the answer lost.
    #[error("{0}")]
    OwnCredentialLost(String),
    /// Output failed.
    #[error("cannot write the summary: {0}")]
    Output(std::io::Error),
}

/// Everything one token's rotation needs.
pub struct Ctx {
    /// The ledger.
    pub store: Store,
    /// The escrow.
    pub escrow: Escrow,
    /// Platform clients.
    pub clients: Clients,
    /// The current time.
    pub now: Timestamp,
    crash_at: Option<String>,
    /// Zendesk OAuth client secrets for the client-credentials grant.
    pub zendesk_client_secrets: std::collections::BTreeMap<String, SecretString>,
    /// A value provided by hand for one token (`--provide`).
    pub provided: Option<(String, SecretString)>,
    /// Tokens whose obtained value reached the consumers although the ledger could not
    /// record it.
    pub unrecorded: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Ctx {
    /// The test-only fault point: kills the process without any cleanup, as a crash would.
    pub fn crash_point(&self, token: &str, point: &str) {
        if let Some(at) = &self.crash_at
            && at.split_once(':') == Some((token, point))
        {
            // SAFETY: kill(2) on our own pid with a valid signal number has no memory effects.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// Runs `apply` and writes the summary to `stdout`.
pub async fn run(
    options: &ApplyOptions,
    desired: &Desired,
    ctx: &RunContext,
    stdout: &mut dyn Write,
) -> Result<(Outcome, ApplyReport), ApplyError> {
    let started = Instant::now();
    let file = HeldLedger::acquire(
        &options.ledger,
        &options.holder,
        ctx.now,
        options.lock_timeout,
    )
    .await?;
    let ledger = file.read().await?;

    // An unfinished rotation of tokenops's own credential may have revoked the value the
    // environment holds: sign in with the escrowed one before planning.
    if let Some(settings) = &desired.config.escrow {
        let early = Escrow::new(
            &settings.recipient,
            options.escrow_identity.clone(),
            &settings.identity_env,
        )?;
        own::adopt_escrowed(desired, &ledger, &early, &ctx.clients).await;
    }
    if let Some(words) = own::lost_before_escrow(desired, &ledger, &ctx.clients).await {
        return Err(ApplyError::OwnCredentialLost(words));
    }

    // The plan: saved (and checked against live state) or made now. Pending rotations show
    // in it as `resume`; they are finished first below.
    let live = match &options.plan_file {
        // A saved plan carries its own selection; the live fingerprint does not depend on it.
        Some(_) => make_plan(desired, &ledger, ctx, &Default::default()).await?,
        None => make_plan(desired, &ledger, ctx, &options.selection).await?,
    };
    let plan = match &options.plan_file {
        Some(plan_path) => {
            let shown = plan_path.display().to_string();
            let text = std::fs::read_to_string(plan_path).map_err(|e| ApplyError::BadPlan {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
            let saved: Plan = serde_json::from_str(&text).map_err(|e| ApplyError::BadPlan {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
            if saved.format != PLAN_FORMAT {
                return Err(ApplyError::BadPlan {
                    path: shown,
                    reason: format!(
                        "format {} is not the format {PLAN_FORMAT} this version reads",
                        saved.format
                    ),
                });
            }
            if saved.live_fingerprint != live.live_fingerprint {
                return Err(ApplyError::StalePlan {
                    path: shown,
                    saved: short(&saved.live_fingerprint),
                    live: short(&live.live_fingerprint),
                });
            }
            saved
        }
        None => live,
    };

    // With `--target`, only the targeted tokens' unfinished rotations are finished; the
    // others stay pending for a whole run.
    let pending: Vec<String> = ledger
        .tokens
        .iter()
        .filter(|(id, t)| t.pending.is_some() && plan.selection.covers(id))
        .map(|(id, _)| id.clone())
        .collect();
    let wants_change = !pending.is_empty()
        || options.provide.is_some()
        || plan.tokens.iter().any(TokenPlan::replaces_value);
    let escrow = match &desired.config.escrow {
        Some(settings) => Escrow::new(
            &settings.recipient,
            options.escrow_identity.clone(),
            &settings.identity_env,
        )?,
        None if wants_change => {
            return Err(ApplyError::NoEscrow {
                config: options.config.display().to_string(),
            });
        }
        None => {
            let report = ApplyReport::default();
            summary::write(&report, options.summary_format, stdout).map_err(ApplyError::Output)?;
            return Ok((Outcome::Success, report));
        }
    };

    let store = Store::new(file, ledger);
    if store.read(|l| l.fingerprint_key.is_empty()) {
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        store.commit_doc(move |l| l.fingerprint_key = hex).await?;
    }
    let run_ctx = Ctx {
        store,
        escrow,
        clients: ctx.clients.clone(),
        now: ctx.now,
        crash_at: options.crash_at.clone(),
        zendesk_client_secrets: options.zendesk_client_secrets.clone(),
        provided: options.provide.clone(),
        unrecorded: Default::default(),
    };
    let parallel = options.parallel.max(1);
    let mut report = ApplyReport::default();

    // Tokens that are tokenops's own credential go last, one at a time, after every other
    // token: nothing else runs on a value that was just replaced.
    let own = |id: &str| {
        desired
            .tokens
            .iter()
            .any(|t| t.spec.id == id && t.spec.run_credential().is_some())
    };
    let (own_pending, pending_others): (Vec<String>, Vec<String>) =
        pending.iter().cloned().partition(|id| own(id));

    // The plan's jobs (run in 2.).
    let jobs: Vec<(&TokenPlan, Option<&TokenSpec>)> = plan
        .tokens
        .iter()
        .filter(|_| options.provide.is_none())
        .filter(|t| !pending.contains(&t.id))
        .map(|t| {
            (
                t,
                desired
                    .tokens
                    .iter()
                    .find(|d| d.spec.id == t.id)
                    .map(|d| &d.spec),
            )
        })
        .collect();

    // 1. Finish every unfinished rotation.
    let resumed = futures_util::stream::iter(
        pending_others
            .iter()
            .map(|id| resume_one(&run_ctx, desired, id)),
    )
    .buffer_unordered(parallel)
    .collect::<Vec<_>>()
    .await;
    report.results.extend(resumed);
    let (own_jobs, jobs): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .partition(|(_, spec)| spec.is_some_and(|s| s.run_credential().is_some()));

    // With --provide, only the provided token (see `provide`).
    if let Some((id, _)) = &options.provide {
        report
            .results
            .push(provide::run(&run_ctx, desired, id).await);
    }

    // 2. The plan.
    let progress = &run_ctx.clients.progress;
    progress.begin("rotating", jobs.len() as u64);
    let results = futures_util::stream::iter(jobs.into_iter().map(|(token, spec)| {
        let ctx = &run_ctx;
        let replace = plan.selection.replaces(&token.id);
        async move {
            let mut result = execute(ctx, token, spec).await;
            if let Some(r) = result.as_mut() {
                done_notes(r, token, spec, replace);
            }
            ctx.clients.progress.advance(1);
            result
        }
    }))
    .buffer_unordered(parallel)
    .collect::<Vec<_>>()
    .await;
    progress.end();
    report.results.extend(results.into_iter().flatten());

    // 3. tokenops's own credentials, last and one at a time.
    for id in &own_pending {
        let mut result = resume_one(&run_ctx, desired, id).await;
        if result.outcome == TokenOutcome::Done {
            let spec = desired.tokens.iter().find(|t| &t.spec.id == id);
            result
                .notes
                .extend(spec.and_then(|t| own::switched_note(&t.spec)));
        }
        report.results.push(result);
    }
    for (token, spec) in own_jobs {
        let mut result = execute(&run_ctx, token, spec).await;
        if let Some(r) = result.as_mut() {
            done_notes(r, token, spec, plan.selection.replaces(&token.id));
        }
        report.results.extend(result);
    }
    report.results.sort_by(|a, b| a.id.cmp(&b.id));

    for token in &plan.tokens {
        if !token.replaces_value() {
            continue;
        }
        let done = report
            .results
            .iter()
            .any(|r| r.id == token.id && r.outcome == TokenOutcome::Done);
        if !done {
            continue;
        }
        let source = new_value_source(desired, &token.id);
        for action in &token.actions {
            if let Action::Manual { instructions } = action {
                report
                    .checklist
                    .push(format!("{}: {instructions} {source}.", token.id));
            }
        }
    }
    // A ledger that could not be written still gets the summary first: it says what each
    // token's consumers hold; the error then says what to do, once.
    let flushed = run_ctx.store.flush().await;
    if flushed.is_err() {
        let unrecorded = run_ctx
            .unrecorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for r in report
            .results
            .iter_mut()
            .filter(|r| unrecorded.contains(&r.id))
        {
            r.notes.push(
                "the ledger on disk does not show this rotation: the new value was written to \
                 every consumer anyway, so none is left with a replaced value; the next apply \
                 re-reads the platform and may replace the value once more"
                    .to_string(),
            );
        }
    }
    let (flush, flushes) = run_ctx.store.flush_stats();
    report.flush_time = flush;
    report.flushes = flushes;
    report.flush_wait = run_ctx.store.wait_time();
    if !plan.selection.target.is_empty() {
        let ids: Vec<&str> = plan.selection.target.iter().map(String::as_str).collect();
        report.partial = Some(ids.join(", "));
    }
    report.wall_time = started.elapsed();
    summary::write(&report, options.summary_format, stdout).map_err(ApplyError::Output)?;
    flushed?;
    let outcome = if report.all_done() {
        Outcome::Success
    } else {
        Outcome::Problems
    };
    Ok((outcome, report))
}

/// Finishes the unfinished rotation of token `id`.
async fn resume_one(ctx: &Ctx, desired: &Desired, id: &String) -> TokenResult {
    let spec = desired.tokens.iter().find(|t| &t.spec.id == id);
    let record = ctx
        .store
        .read(|l| l.token(id).and_then(|t| t.pending.clone()));
    match (spec, record) {
        (Some(spec), Some(p)) => protocol::run(ctx, &spec.spec, Start::Resume(Box::new(p))).await,
        (None, Some(p)) => TokenResult {
            id: id.clone(),
            outcome: TokenOutcome::Pending,
            detail: format!(
                "an unfinished rotation ({}) belongs to a token no manifest declares \
                 any more; declare it again so apply can finish it",
                p.step.label()
            ),
            notes: Vec::new(),
        },
        _ => TokenResult::done(id, "nothing left to finish"),
    }
}

fn short(fp: &str) -> String {
    fp.chars().take(12).collect()
}

/// What the plan asks for one token.
async fn execute(ctx: &Ctx, token: &TokenPlan, spec: Option<&TokenSpec>) -> Option<TokenResult> {
    if !token.replaces_value() {
        if token.needs_human {
            return Some(TokenResult::new(
                &token.id,
                TokenOutcome::Blocked,
                format!("needs a person: {}", token.reason),
            ));
        }
        return None;
    }
    let Some(spec) = spec else {
        return Some(TokenResult::new(
            &token.id,
            TokenOutcome::Failed,
            "the plan names a token no manifest declares any more; make the plan again".to_string(),
        ));
    };
    if token.manual_mode {
        let steps: Vec<String> = token.actions.iter().map(describe_action).collect();
        return Some(TokenResult::new(
            &token.id,
            TokenOutcome::Manual,
            format!("manual mode; a person does: {}", steps.join("; ")),
        ));
    }
    let (obtain, expires_at) = match token.actions.first() {
        Some(Action::Rotate { new_expires_at }) => (Obtain::Rotate, *new_expires_at),
        Some(Action::Create { new_expires_at }) => (Obtain::Create, *new_expires_at),
        Some(Action::Recreate { new_expires_at }) => (Obtain::Recreate, *new_expires_at),
        _ => return None,
    };
    let mut retire = None;
    let mut consumers = Vec::new();
    for action in &token.actions {
        match action {
            Action::Write { consumer } => consumers.push(consumer.clone()),
            Action::Revoke { old_platform_id } => retire = Some(old_platform_id.clone()),
            Action::Rotate { .. }
            | Action::Create { .. }
            | Action::Recreate { .. }
            | Action::Manual { .. }
            | Action::Resume { .. } => {}
        }
    }
    Some(
        protocol::run(
            ctx,
            spec,
            Start::Fresh {
                obtain,
                expires_at,
                old_id: token.platform_id.clone(),
                retire,
                consumers,
            },
        )
        .await,
    )
}

/// The notes a finished token gets after its kind's words: what became of the old value when
/// it was replaced on request, and, for tokenops's own credential, that the run switched to
/// the new value.
fn done_notes(
    result: &mut TokenResult,
    token: &TokenPlan,
    spec: Option<&TokenSpec>,
    replace: bool,
) {
    if result.outcome != TokenOutcome::Done {
        return;
    }
    if replace {
        let retired = spec.map_or("revoked", |s| s.kind.driver().retired_word());
        result.notes.push(old_value_fate(token, retired));
    }
    result.notes.extend(spec.and_then(own::switched_note));
}

/// What became of the old value of a token replaced on request, from the actions apply just
/// completed (`retired`: what retiring did to the old record): the summary's proof for an
/// incident.
fn old_value_fate(token: &TokenPlan, retired: &str) -> String {
    let revoked = token.actions.iter().find_map(|a| match a {
        Action::Revoke { old_platform_id } => Some(old_platform_id.clone()),
        _ => None,
    });
    match (revoked, token.actions.first(), &token.platform_id) {
        (Some(old), _, _) => format!(
            "replace requested: the old record #{old} was {retired} after every consumer was \
             verified with the new value; the old value no longer authenticates"
        ),
        (None, Some(Action::Rotate { .. }), Some(id)) => format!(
            "replace requested: the platform's rotate call invalidated the old value of record \
             #{id} before any consumer was written; every consumer verified with the new value"
        ),
        _ => "replace requested: every declared consumer verified with the new value; the old \
              value is no longer held by any of them"
            .to_string(),
    }
}

fn describe_action(action: &Action) -> String {
    match action {
        Action::Rotate { new_expires_at } => format!("rotate (new expiry {})", opt(new_expires_at)),
        Action::Create { new_expires_at } => format!("create (new expiry {})", opt(new_expires_at)),
        Action::Recreate { new_expires_at } => {
            format!("recreate (new expiry {})", opt(new_expires_at))
        }
        Action::Write { consumer } => format!("write {consumer}"),
        Action::Revoke { old_platform_id } => format!("revoke {old_platform_id}"),
        Action::Manual { instructions } => instructions.clone(),
        Action::Resume { after } => format!("resume after {after}"),
    }
}

fn opt(date: &Option<Date>) -> String {
    date.map(|d| d.to_string())
        .unwrap_or_else(|| "none".to_string())
}

/// Where the person doing a manual step finds the new value of token `id`: the first of its
/// consumers that a person can read back, or why there is none.
fn new_value_source(desired: &Desired, id: &str) -> String {
    let readable = desired
        .token(id)
        .into_iter()
        .flat_map(|t| t.spec.consumers.iter())
        .find_map(|c| c.driver().readable_at());
    match readable {
        Some(place) => format!("New value: {place}"),
        None => "New value: every place tokenops wrote is write-only, so read it in a CI job \
                 that receives it, or declare a readable consumer"
            .to_string(),
    }
}
