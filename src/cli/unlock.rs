//! `tokenops unlock` arguments: which lock of the shared ledger to release.

use super::credentials::Access;
use super::ledger::explain_refusal;
use super::session::{Session, Sources};
use crate::ops::Outcome;

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
    /// Where tokenops.yaml and the manifests are.
    #[command(flatten)]
    pub sources: Sources,
}

/// Runs `unlock`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let ledger = Session::load(&args.sources)?.ledger(Access::Write)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(crate::ops::unlock::run(&ledger.source, &args.lock_id))
        .map_err(|err| explain_refusal(err.into(), ledger.sign_in.as_deref()))?;
    println!("released lock {} of the shared ledger", args.lock_id);
    Ok(Outcome::Success)
}
