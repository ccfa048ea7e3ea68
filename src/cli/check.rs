//! `tokenops check` arguments.

use anyhow::Context as _;

use super::credentials::Access;
use super::plan::FormatArg;
use super::session::{Session, Sources, TuningArgs, run_to_end};
use crate::manifest::Duration;
use crate::ops::Outcome;
use crate::ops::check::CheckOptions;

/// Report tokens that expire soon, declared or not; optionally write the report issue.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  tokenops check --within 21d --report-issue\n\n\
Exit codes: 0 nothing expires within the window, 2 something does, 1 error.\n\
The issue goes to `check.report` in tokenops.yaml; later runs update the same open issue \
(found by a hidden marker and the labels) and keep the boxes people ticked."
)]
pub struct Args {
    /// Where tokenops.yaml and the manifests are.
    #[command(flatten)]
    pub sources: Sources,
    /// The window, e.g. `21d` (default: `check.within` in tokenops.yaml, else 21d).
    #[arg(long)]
    pub within: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Open or update the report issue named by `check.report` in tokenops.yaml.
    #[arg(long)]
    pub report_issue: bool,
    /// How requests are sent.
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// Runs `check`.
pub fn run(args: Args, now: Option<&str>) -> anyhow::Result<Outcome> {
    let session = Session::load(&args.sources)?;
    let desired = &session.desired;
    let within = match &args.within {
        Some(text) => text.parse::<Duration>().with_context(|| {
            format!("--within `{text}` is not a duration; write it like `21d` or `72h`")
        })?,
        None => desired.config.check.within,
    };
    let within_days = i64::try_from(within.as_secs() / 86_400).unwrap_or(i64::MAX);
    // Only the report issue is a write; the scan itself reads.
    let access = if args.report_issue {
        Access::Write
    } else {
        Access::Read
    };
    let ctx = session.run_context(now, args.tuning.into(), access)?;
    let options = CheckOptions {
        within_days,
        format: args.format.into(),
        report_issue: args.report_issue,
    };
    let mut stdout = std::io::stdout().lock();
    let run = run_to_end(
        &ctx.clients,
        crate::ops::check::run(&options, desired, &ctx.clients, ctx.now, &mut stdout),
    )??;
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
