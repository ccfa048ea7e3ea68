//! Arguments of `tokenops validate`.

use crate::manifest::LoadOptions;
use crate::ops::{self, Outcome};

/// Check tokenops.yaml and every manifest without network access; report every problem.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Where tokenops.yaml and the manifests are.
    #[command(flatten)]
    pub sources: super::session::Sources,
}

/// Runs `validate` with its report on stdout (`quiet`: problems only, no summary).
pub fn run(args: Args, quiet: bool) -> anyhow::Result<Outcome> {
    let options = ops::validate::Options {
        load: LoadOptions {
            config: args.sources.config,
            manifests: args.sources.manifests,
        },
        quiet,
    };
    let stdout = std::io::stdout();
    Ok(ops::validate::run(&options, &mut stdout.lock())?)
}
