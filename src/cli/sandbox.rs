//! `tokenops sandbox`: serves the built-in GitLab + Zendesk simulator on loopback until
//! interrupted. The first stdout line is one JSON object naming each simulated instance's
//! base URL and the admin credential to use with it, and the URL of the control API that
//! scripts the clock, faults, seed, request log and issued values from outside.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

use crate::ops::Outcome;
use crate::sandbox::{Sandbox, SandboxOptions, Seed};

/// Options of `tokenops sandbox`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Loopback address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// A YAML seed to load instead of the built-in one (the example manifests' estate).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Seed of the sandbox's random choices (issued values, injected faults), to reproduce
    /// a run; a fresh one by default.
    #[arg(long, value_name = "N")]
    pub rng_seed: Option<u64>,
}

/// Runs the sandbox until Ctrl-C (or SIGTERM).
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "--listen {}: the sandbox only serves loopback addresses; use 127.0.0.1:PORT or [::1]:PORT",
            args.listen
        );
    }
    let seed = match &args.seed {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "cannot read seed file {}; check the path given to --seed",
                    path.display()
                )
            })?;
            Seed::from_yaml_str(&text, &path.display().to_string())?
        }
        None => Seed::default_demo(),
    };
    let mut options = SandboxOptions::at(jiff::Timestamp::now());
    options.listen = args.listen;
    options.rng_seed = args.rng_seed.unwrap_or_else(rand::random);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let handle = Sandbox::start(seed, options).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", handle.describe()).context("cannot write to stdout")?;
        out.flush().context("cannot write to stdout")?;
        drop(out);
        tracing::info!(addr = %handle.addr(), "sandbox listening; press Ctrl-C to stop");
        wait_for_signal().await;
        handle.shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Success)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
