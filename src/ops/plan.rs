//! `tokenops plan`: load the manifests, read the ledger, discover live state, compute the plan
//! and print it; optionally save it for `apply`. Changes nothing anywhere.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::Outcome;
use super::discover::{Clients, DiscoverError, ScanKinds, discover};
use crate::diag::Diagnostics;
use crate::ledger::{Ledger, LedgerError};
use crate::manifest::{Desired, LedgerSettings, LoadOptions};
use crate::plan::render::{self, Format};
use crate::plan::{Plan, compute, from_manifest};

/// What `plan` was asked to do.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Path of `tokenops.yaml` (the local ledger path is relative to its directory).
    pub config: PathBuf,
    /// Output format.
    pub format: Format,
    /// Also write the plan (JSON) to this file, for `apply`.
    pub out: Option<PathBuf>,
    /// Exit 2 when changes are pending.
    pub detailed_exitcode: bool,
    /// Colour in text output.
    pub color: bool,
}

/// Everything the edge resolved: the time and one client per instance.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The current time.
    pub now: Timestamp,
    /// Platform clients.
    pub clients: Clients,
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
    /// The `http` ledger backend is not readable by plan yet.
    #[error("the `http` state backend at {0} cannot be read by this version; use `backend: local`")]
    HttpLedger(String),
    /// Live state could not be read.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Loads and validates the manifests.
pub fn load(options: &LoadOptions) -> Result<Desired, PlanError> {
    crate::manifest::load(options).map_err(PlanError::Invalid)
}

/// The ledger path of a local backend, relative to the directory of `tokenops.yaml`.
pub fn ledger_path(desired: &Desired, config: &Path) -> Result<PathBuf, PlanError> {
    match &desired.config.state {
        LedgerSettings::Local { path } => {
            let base = config.parent().unwrap_or(Path::new("."));
            Ok(base.join(path))
        }
        LedgerSettings::Http { address, .. } => Err(PlanError::HttpLedger(address.clone())),
    }
}

/// Computes the plan for `desired` against live state.
pub async fn make_plan(
    desired: &Desired,
    ledger: &Ledger,
    ctx: &RunContext,
) -> Result<Plan, PlanError> {
    let inventory = discover(
        desired,
        ledger,
        &ctx.clients,
        ctx.now,
        Some(ScanKinds { triggers: false }),
    )
    .await?;
    Ok(compute(
        &from_manifest(desired),
        &inventory,
        ledger,
        ctx.now,
    ))
}

/// Runs `tokenops plan`.
pub async fn run(
    options: &PlanOptions,
    desired: &Desired,
    ctx: &RunContext,
    stdout: &mut dyn Write,
) -> Result<Outcome, PlanError> {
    let ledger = Ledger::read_local(&ledger_path(desired, &options.config)?)?;
    let plan = make_plan(desired, &ledger, ctx).await?;
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
    Ok(if options.detailed_exitcode && !plan.summary.is_empty() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}
