//! `tokenops show PLANFILE`: prints a plan saved by `plan --out` in any format, without
//! reading live state (for a reviewer, or an audit log of what an apply executed).

use std::path::PathBuf;

use super::plan::{FormatArg, use_color};
use crate::ops::Outcome;
use crate::plan::render;

/// Print a plan saved by `plan --out` (no network).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  tokenops plan --out plan.json && tokenops show plan.json \
--format markdown"
)]
pub struct Args {
    /// The saved plan (JSON written by `tokenops plan --out`).
    pub plan_file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
}

/// Runs `show`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let plan = crate::ops::plan::read_saved(&args.plan_file)?;
    print!("{}", render::render(&plan, args.format.into(), use_color()));
    Ok(Outcome::Success)
}
