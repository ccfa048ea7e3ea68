//! `tokenops unlock` arguments: which lock of the shared ledger to release.

use std::path::PathBuf;

use super::context::ledger_source;
use super::env::process_env;
use crate::manifest::LoadOptions;
use crate::ops::Outcome;
use crate::ops::plan::load;

/// Release the shared ledger's lock a crashed apply left held.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (the id is in the error of the apply that found the lock held):\n  \
tokenops unlock 3f2a9c…\n\n\
Only the named lock is released; a lock another run took since stays. Exit codes: 0 released,\n\
1 error."
)]
pub struct Args {
    /// The lock id the error names.
    pub lock_id: String,
    /// Path of tokenops.yaml.
    #[arg(long, default_value = "tokenops.yaml")]
    pub config: PathBuf,
    /// Directory of manifests (searched recursively).
    #[arg(long, default_value = "manifests")]
    pub manifests: PathBuf,
}

/// Runs `unlock`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let load_options = LoadOptions {
        config: args.config.clone(),
        manifests: args.manifests.clone(),
    };
    let desired = load(&load_options)?;
    let source = ledger_source(&desired.config, &load_options.config, &process_env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(crate::ops::unlock::run(&source, &args.lock_id))?;
    println!("released lock {} of the shared ledger", args.lock_id);
    Ok(Outcome::Success)
}
