//! The command line: clap definitions that turn arguments and environment variables into
//! typed options for `ops`. Nothing here talks to a platform or reads a manifest.

pub mod env;

use clap::{Parser, Subcommand};

use crate::ops::Outcome;

/// Keep GitLab and Zendesk API tokens alive the GitOps way.
#[derive(Debug, Parser)]
#[command(name = "tokenops", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success, 1 error or invalid input, 2 changes pending \
(plan --detailed-exitcode) or tokens expiring (check)."
)]
pub struct Cli {
    /// Only print errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print debug logs to stderr (RUST_LOG takes precedence).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// The current time, RFC 3339 (default: `TOKENOPS_NOW`, else the system clock).
    #[arg(long, global = true, value_name = "RFC3339")]
    pub now: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {}

impl Cli {
    /// Sends `tracing` logs to stderr, filtered by `RUST_LOG` or the verbosity flags.
    pub fn init_logging(&self) {
        let default = if self.verbose {
            "tokenops=debug"
        } else if self.quiet {
            "error"
        } else {
            "warn"
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .init();
    }
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {}
}
