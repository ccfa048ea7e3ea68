//! `tokenops check` arguments.

use std::path::PathBuf;

use anyhow::Context as _;

use super::context::{Tuning, run_context};
use super::credentials::Access;
use super::env::process_env;
use super::plan::FormatArg;
use crate::manifest::{Duration, LoadOptions};
use crate::ops::Outcome;
use crate::ops::check::CheckOptions;
use crate::ops::plan::load;

/// Report tokens that expire soon, declared or not; optionally write the report issue.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  tokenops check --within 21d --report-issue\n\n\
Exit codes: 0 nothing expires within the window, 2 something does, 1 error.\n\
The issue goes to `check.report` in tokenops.yaml; later runs update the same open issue \
(found by a hidden marker and the labels) and keep the boxes people ticked."
)]
pub struct Args {
    /// Path of tokenops.yaml.
    #[arg(long, env = "TOKENOPS_CONFIG", default_value = "tokenops.yaml")]
    pub config: PathBuf,
    /// Directory of manifests (searched recursively).
    #[arg(long, env = "TOKENOPS_MANIFESTS", default_value = "manifests")]
    pub manifests: PathBuf,
    /// The window, e.g. `21d` (default: `check.within` in tokenops.yaml, else 21d).
    #[arg(long)]
    pub within: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Open or update the report issue named by `check.report` in tokenops.yaml.
    #[arg(long)]
    pub report_issue: bool,
    /// Concurrent requests per platform instance (default: 16 GitLab, 8 Zendesk).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Requests per minute per platform instance (default: 2000 GitLab, 390 Zendesk).
    #[arg(long)]
    pub requests_per_minute: Option<u32>,
    /// The most the run may wait on each platform instance in all (429 pauses, an exhausted
    /// rate limit, backoff after failures), e.g. `10m`; a wait past it fails the request
    /// instead (default: 5m).
    #[arg(long, value_name = "DURATION", value_parser = super::parse_max_wait)]
    pub max_wait: Option<std::time::Duration>,
}

/// Runs `check`.
pub fn run(args: Args, now: Option<&str>) -> anyhow::Result<Outcome> {
    let load_options = LoadOptions {
        config: args.config.clone(),
        manifests: args.manifests.clone(),
    };
    let desired = load(&load_options)?;
    let within = match &args.within {
        Some(text) => text.parse::<Duration>().with_context(|| {
            format!("--within `{text}` is not a duration; write it like `21d` or `72h`")
        })?,
        None => desired.config.check.within,
    };
    let within_days = i64::try_from(within.as_secs() / 86_400).unwrap_or(i64::MAX);
    let ctx = run_context(
        &desired.config,
        now,
        Tuning {
            concurrency: args.concurrency,
            requests_per_minute: args.requests_per_minute,
            max_wait: args.max_wait,
        },
        // Only the report issue is a write; the scan itself reads.
        if args.report_issue {
            Access::Write
        } else {
            Access::Read
        },
        &process_env,
    )?;
    let options = CheckOptions {
        within_days,
        format: args.format.into(),
        report_issue: args.report_issue,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut stdout = std::io::stdout().lock();
    let run = super::context::finish_run(
        &runtime,
        &ctx.clients,
        crate::ops::check::run(&options, &desired, &ctx.clients, ctx.now, &mut stdout),
    )?;
    let project = desired
        .config
        .check
        .report
        .as_ref()
        .map(|r| r.project.as_str())
        .unwrap_or_default();
    if let Some(issue) = &run.issue {
        eprintln!("{}", issue.describe(project, &run.title));
    }
    Ok(run.outcome)
}
