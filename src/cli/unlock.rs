//! `tokenops unlock` arguments: which lock of the shared ledger to release.

use std::path::PathBuf;

use super::credentials::Access;
use super::env::process_env;
use super::ledger::{explain_refusal, ledger_source};
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
    #[arg(long, env = "TOKENOPS_CONFIG", default_value = "tokenops.yaml")]
    pub config: PathBuf,
    /// Directory of manifests (searched recursively).
    #[arg(long, env = "TOKENOPS_MANIFESTS", default_value = "manifests")]
    pub manifests: PathBuf,
}

/// Runs `unlock`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let load_options = LoadOptions {
        config: args.config.clone(),
        manifests: args.manifests.clone(),
    };
    let desired = load(&load_options)?;
    let ledger = ledger_source(
        &desired.config,
        &load_options.config,
        Access::Write,
        &process_env,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(crate::ops::unlock::run(&ledger.source, &args.lock_id))
        .map_err(|err| explain_refusal(err.into(), ledger.sign_in.as_deref()))?;
    println!("released lock {} of the shared ledger", args.lock_id);
    Ok(Outcome::Success)
}
