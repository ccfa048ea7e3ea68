//! `tokenops plan`: load the manifests, read the ledger, discover live state, compute the plan
//! and print it; optionally save it for `apply`. Changes nothing anywhere.

use std::io::Write;
use std::path::PathBuf;

use super::Outcome;
use super::comment::{MergeRequestRef, NoteOutcome, note_body, upsert_plan_note, widget_report};
use crate::clients::RunContext;
use crate::diag::Diagnostics;
use crate::discover::{DiscoverError, ScanKinds, discover};
use crate::ledger::{Ledger, LedgerError, LedgerSource};
use crate::manifest::{Desired, LoadOptions};
use crate::plan::render::{self, Format};
use crate::plan::{Plan, Selection, SelectionError, compute_selected, from_manifest};

/// What `plan` was asked to do.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Where the ledger is.
    pub ledger: LedgerSource,
    /// Output format.
    pub format: Format,
    /// Also write the plan (JSON) to this file, for `apply`.
    pub out: Option<PathBuf>,
    /// Exit 2 when changes are pending.
    pub detailed_exitcode: bool,
    /// Colour in text output.
    pub color: bool,
    /// Post or update the sticky note on this merge request.
    pub comment: Option<CommentTarget>,
    /// Write GitLab's Terraform MR-widget report here.
    pub widget_report: Option<PathBuf>,
    /// `--replace` and `--target`.
    pub selection: Selection,
}

/// Where the plan note goes, and the client that writes it.
#[derive(Debug, Clone)]
pub struct CommentTarget {
    /// A client for the GitLab that runs the pipeline.
    pub client: crate::gitlab::GitLabClient,
    /// Which variable its credential came from, for the expiry watch.
    pub credential: Option<crate::watch::RunCredential>,
    /// The merge request.
    pub merge_request: MergeRequestRef,
}

/// Why `plan` could not produce a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The manifests do not validate.
    #[error("the manifests are not valid; run `tokenops validate` for details:\n{0}")]
    Invalid(Diagnostics),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Live state could not be read.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// `--replace` or `--target` names a token that cannot be selected.
    #[error(transparent)]
    Selection(#[from] SelectionError),
    /// The merge-request note could not be written.
    #[error("cannot write the plan note on merge request !{iid}: {source}")]
    Comment {
        /// The merge request.
        iid: u64,
        /// Why.
        source: crate::http::ApiError,
    },
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Why a saved plan cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the saved plan {path}: {reason}\n  hint: {hint}")]
pub struct SavedPlanError {
    /// The file.
    pub path: String,
    /// Why.
    pub reason: String,
    /// What to do.
    pub hint: &'static str,
}

/// Reads a plan saved by `plan --out`, refusing another format version.
pub fn read_saved(path: &std::path::Path) -> Result<Plan, SavedPlanError> {
    let shown = path.display().to_string();
    let fail = |reason: String| SavedPlanError {
        path: shown.clone(),
        reason,
        hint: "give the JSON file `tokenops plan --out FILE` wrote, with this version of tokenops",
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    if plan.format != crate::plan::PLAN_FORMAT {
        return Err(fail(format!(
            "format {} is not the format {} this version reads",
            plan.format,
            crate::plan::PLAN_FORMAT
        )));
    }
    Ok(plan)
}

/// Loads and validates the manifests.
pub fn load(options: &LoadOptions) -> Result<Desired, PlanError> {
    crate::manifest::load(options).map_err(PlanError::Invalid)
}

/// Computes the plan for `desired` against live state, for `selection`.
pub async fn make_plan(
    desired: &Desired,
    ledger: &Ledger,
    ctx: &RunContext,
    selection: &Selection,
) -> Result<Plan, PlanError> {
    let inventory = discover(
        desired,
        ledger,
        &ctx.clients,
        ctx.now,
        Some(ScanKinds::default()),
    )
    .await?;
    Ok(compute_selected(
        &from_manifest(desired),
        &inventory,
        ledger,
        ctx.now,
        selection,
    )?)
}

/// The credentials the run signs in with (and the note's, with `--comment`) that expire
/// within `check.within` and that no manifest keeps alive: one request per credential.
pub async fn watch_credentials(
    plan: &Plan,
    desired: &Desired,
    ctx: &RunContext,
    comment: Option<&CommentTarget>,
) -> Vec<crate::watch::UnwatchedCredential> {
    let note = comment.and_then(|c| c.credential.as_ref().map(|cred| (cred, &c.client)));
    let facts = crate::discover::credentials::inspect(&ctx.clients, note).await;
    let live_ids = plan
        .tokens
        .iter()
        .filter_map(|t| Some((t.id.clone(), t.platform_id.clone()?)))
        .collect();
    let within = desired.config.check.within.as_secs() / 86_400;
    crate::watch::unwatched(
        &facts,
        desired,
        &live_ids,
        ctx.now,
        i64::try_from(within).unwrap_or(i64::MAX),
    )
}

/// Runs `tokenops plan`.
pub async fn run(
    options: &PlanOptions,
    desired: &Desired,
    ctx: &RunContext,
    stdout: &mut dyn Write,
) -> Result<Outcome, PlanError> {
    let ledger = options.ledger.read().await?;
    let mut plan = make_plan(desired, &ledger, ctx, &options.selection).await?;
    plan.credentials = watch_credentials(&plan, desired, ctx, options.comment.as_ref()).await;
    let rendered = render::render(&plan, options.format, options.color);
    stdout
        .write_all(rendered.as_bytes())
        .map_err(|source| PlanError::Write {
            path: "stdout".to_string(),
            source,
        })?;
    if let Some(path) = &options.out {
        std::fs::write(path, render::json(&plan)).map_err(|source| PlanError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    if let Some(path) = &options.widget_report {
        std::fs::write(path, widget_report(&plan)).map_err(|source| PlanError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    if let Some(target) = &options.comment {
        let mr = &target.merge_request;
        let body = note_body(&plan, mr.commit.as_deref());
        let outcome = upsert_plan_note(&target.client, mr, &body)
            .await
            .map_err(|source| PlanError::Comment {
                iid: mr.iid,
                source,
            })?;
        match outcome {
            NoteOutcome::Created(id) => {
                tracing::info!("created the plan note {id} on merge request !{}", mr.iid)
            }
            NoteOutcome::Updated(id) => {
                tracing::info!("updated the plan note {id} on merge request !{}", mr.iid)
            }
        }
    }
    Ok(if options.detailed_exitcode && !plan.summary.is_empty() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}
