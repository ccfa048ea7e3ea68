//! Arguments of `tokenops schema`.

use std::path::PathBuf;

use crate::ops::{self, Outcome};

/// Print the JSON Schemas of tokenops.yaml and manifest files, write them, or check that
/// the committed copies are current.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Exit 1 when the schemas in --dir differ from what this version generates.
    #[arg(long, conflicts_with = "out")]
    pub check: bool,
    /// The directory --check compares against.
    #[arg(long, default_value = "schemas", value_name = "DIR")]
    pub dir: PathBuf,
    /// Write tokenops.schema.json and manifest.schema.json into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `schema`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let action = match (args.check, args.out) {
        (true, _) => ops::schema::Action::Check(args.dir),
        (false, Some(dir)) => ops::schema::Action::Write(dir),
        (false, None) => ops::schema::Action::Print,
    };
    let stdout = std::io::stdout();
    Ok(ops::schema::run(&action, &mut stdout.lock())?)
}
