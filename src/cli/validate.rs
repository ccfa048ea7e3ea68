//! Arguments of `tokenops validate`.

use std::path::PathBuf;

use crate::manifest::LoadOptions;
use crate::ops::{self, Outcome};

/// Check tokenops.yaml and every manifest without network access; report every problem.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The configuration file.
    #[arg(
        long,
        env = "TOKENOPS_CONFIG",
        default_value = "tokenops.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// The directory searched recursively for *.yaml manifests.
    #[arg(
        long,
        env = "TOKENOPS_MANIFESTS",
        default_value = "manifests",
        value_name = "DIR"
    )]
    pub manifests: PathBuf,
}

/// Runs `validate` with its report on stdout (`quiet`: problems only, no summary).
pub fn run(args: Args, quiet: bool) -> anyhow::Result<Outcome> {
    let options = ops::validate::Options {
        load: LoadOptions {
            config: args.config,
            manifests: args.manifests,
        },
        quiet,
    };
    let stdout = std::io::stdout();
    Ok(ops::validate::run(&options, &mut stdout.lock())?)
}
