//! `tokenops plan` arguments.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::ValueEnum;

use super::context::{Tuning, comment_target, run_context};
use super::credentials::Access;
use super::env::process_env;
use super::ledger::{explain_refusal, ledger_source, local_in_ci_warning};
use crate::manifest::LoadOptions;
use crate::ops::Outcome;
use crate::ops::plan::{PlanOptions, load};
use crate::plan::Selection;
use crate::plan::render::Format;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human text (colour on a terminal only; NO_COLOR is honoured).
    Text,
    /// Markdown, as posted in the merge-request note.
    Markdown,
    /// The plan document as JSON (the shape `--out` writes).
    Json,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Json => Format::Json,
        }
    }
}

/// Show what apply would change: reads live state, changes nothing.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  tokenops plan --format markdown --out plan.json --detailed-exitcode\n  \
tokenops plan --replace gl-ops-bot-automation   # a leaked token: what rotating it now does\n\n\
Exit codes: 0 no changes (or changes without --detailed-exitcode; unverifiable consumers alone \
are not changes: --replace ID settles them), 1 error, 2 changes pending with \
--detailed-exitcode.\n\
Point tokenops at other instances (for example `tokenops sandbox`) with\n\
TOKENOPS_GITLAB_<NAME>_URL / _TOKEN and TOKENOPS_ZENDESK_<NAME>_URL / _TOKEN."
)]
pub struct Args {
    /// Path of tokenops.yaml.
    #[arg(long, env = "TOKENOPS_CONFIG", default_value = "tokenops.yaml")]
    pub config: PathBuf,
    /// Directory of manifests (searched recursively).
    #[arg(long, env = "TOKENOPS_MANIFESTS", default_value = "manifests")]
    pub manifests: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Also save the plan as JSON for `tokenops apply PLANFILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 2 when changes are pending, 0 when in sync.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Post the plan as one note on the merge request of this CI pipeline, updated in place
    /// on every push.
    #[arg(long)]
    pub comment: bool,
    /// Write GitLab's Terraform MR-widget report (counts of creations, writes, revocations).
    #[arg(long, value_name = "FILE")]
    pub widget_report: Option<PathBuf>,
    /// Concurrent requests per platform instance (default: 16 GitLab, 8 Zendesk).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Rotate this token now, due or not (repeatable), as Terraform's `-replace`: for a
    /// leaked value. Refused on scope drift and on legacy Zendesk API tokens.
    #[arg(long, value_name = "TOKEN_ID")]
    pub replace: Vec<String>,
    /// Plan only this token (repeatable); the plan says it is partial.
    #[arg(long, value_name = "TOKEN_ID")]
    pub target: Vec<String>,
    /// Requests per minute per platform instance (default: 2000 GitLab, 390 Zendesk:
    /// GitLab.com's limit, and just under Zendesk's common one).
    #[arg(long)]
    pub requests_per_minute: Option<u32>,
    /// The local ledger file outlives this CI job (a cache or an artifact), so do not warn
    /// that it starts empty.
    #[arg(long)]
    pub local_ledger_kept: bool,
    /// The most the run may wait on each platform instance in all (429 pauses, an exhausted
    /// rate limit, backoff after failures), e.g. `10m`; a wait past it fails the request
    /// instead (default: 5m).
    #[arg(long, value_name = "DURATION", value_parser = super::parse_max_wait)]
    pub max_wait: Option<std::time::Duration>,
}

/// Whether stdout should get colour.
pub fn use_color() -> bool {
    super::color_on(std::io::stdout().is_terminal())
}

/// Runs `plan`.
pub fn run(args: Args, now: Option<&str>) -> anyhow::Result<Outcome> {
    let load_options = LoadOptions {
        config: args.config.clone(),
        manifests: args.manifests.clone(),
    };
    let desired = load(&load_options)?;
    let ctx = run_context(
        &desired.config,
        now,
        Tuning {
            concurrency: args.concurrency,
            requests_per_minute: args.requests_per_minute,
            max_wait: args.max_wait,
        },
        Access::Read,
        &process_env,
    )?;
    let ledger = ledger_source(
        &desired.config,
        &load_options.config,
        Access::Read,
        &process_env,
    )?;
    if let Some(warning) = local_in_ci_warning(&ledger.source, args.local_ledger_kept, &process_env)
    {
        eprintln!("{warning}");
    }
    let options = PlanOptions {
        ledger: ledger.source,
        format: args.format.into(),
        out: args.out,
        detailed_exitcode: args.detailed_exitcode,
        color: use_color(),
        comment: if args.comment {
            Some(comment_target(&desired.config, &process_env)?)
        } else {
            None
        },
        widget_report: args.widget_report,
        selection: Selection {
            replace: args.replace.into_iter().collect(),
            target: args.target.into_iter().collect(),
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut stdout = std::io::stdout().lock();
    super::context::finish_run(
        &runtime,
        &ctx.clients,
        crate::ops::plan::run(&options, &desired, &ctx, &mut stdout),
    )
    .map_err(|err| explain_refusal(err.into(), ledger.sign_in.as_deref()))
}
