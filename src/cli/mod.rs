//! The command line: clap definitions that turn arguments and environment variables into
//! typed options for `ops`. Nothing here talks to a platform or reads a manifest.

use clap::{Parser, Subcommand};

use crate::ops::Outcome;

pub mod schema;
pub mod validate;

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
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check tokenops.yaml and the manifests (no network); report every problem.
    Validate(validate::Args),
    /// Print or check the JSON Schemas of tokenops.yaml and manifest files.
    Schema(schema::Args),
}

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
    match cli.command {
        Command::Validate(args) => validate::run(args, cli.quiet),
        Command::Schema(args) => schema::run(args),
    }
}
