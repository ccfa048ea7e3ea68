//! `tokenops demo` arguments: none but the global flags.

use super::plan::use_color;
use crate::ops::Outcome;
use crate::ops::demo::{DemoOptions, run as run_demo};

/// Run plan, apply, plan and check against the built-in sandbox: no credentials needed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  tokenops demo\n\nEverything happens against a sandbox \
inside this process, seeded with the example manifests' estate; nothing else is contacted."
)]
pub struct Args {}

/// Runs the demo in a temporary directory.
pub fn run(_: Args, now: Option<&str>) -> anyhow::Result<Outcome> {
    let now = super::env::resolve_now(now, &super::env::process_env)?;
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut stdout = std::io::stdout().lock();
    let options = DemoOptions {
        now,
        color: use_color(),
        progress: super::progress::progress(),
    };
    Ok(runtime.block_on(run_demo(&options, dir.path(), &mut stdout))?)
}
