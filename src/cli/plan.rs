//! `tokenops plan` arguments.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::ValueEnum;

use super::context::comment_target;
use super::credentials::Access;
use super::env::process_env;
use super::ledger::{explain_refusal, local_in_ci_warning};
use super::session::{Session, Sources, TuningArgs, run_to_end};
use crate::ops::Outcome;
use crate::ops::plan::PlanOptions;
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
    /// Where tokenops.yaml and the manifests are.
    #[command(flatten)]
    pub sources: Sources,
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
    /// Rotate this token now, due or not (repeatable), as Terraform's `-replace`: for a
    /// leaked value. Refused on scope drift and on legacy Zendesk API tokens.
    #[arg(long, value_name = "TOKEN_ID")]
    pub replace: Vec<String>,
    /// Plan only this token (repeatable); the plan says it is partial.
    #[arg(long, value_name = "TOKEN_ID")]
    pub target: Vec<String>,
    /// The local ledger file outlives this CI job (a cache or an artifact), so do not warn
    /// that it starts empty.
    #[arg(long)]
    pub local_ledger_kept: bool,
    /// How requests are sent.
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// Whether stdout should get colour.
pub fn use_color() -> bool {
    super::color_on(std::io::stdout().is_terminal())
}

/// Runs `plan`.
pub fn run(args: Args, now: Option<&str>) -> anyhow::Result<Outcome> {
    let session = Session::load(&args.sources)?;
    let desired = &session.desired;
    let ctx = session.run_context(now, args.tuning.into(), Access::Read)?;
    let ledger = session.ledger(Access::Read)?;
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
    let mut stdout = std::io::stdout().lock();
    run_to_end(
        &ctx.clients,
        crate::ops::plan::run(&options, desired, &ctx, &mut stdout),
    )?
    .map_err(|err| explain_refusal(err.into(), ledger.sign_in.as_deref()))
}
