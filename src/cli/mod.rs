//! The command line: clap definitions that turn arguments and environment variables into
//! typed options for `ops`. Nothing here talks to a platform or reads a manifest.

use std::io::IsTerminal;

use clap::{Parser, Subcommand};

use crate::ops::Outcome;

pub mod apply;
pub mod check;
pub mod completions;
pub mod context;
pub mod credential_source;
pub mod credentials;
pub mod demo;
pub mod env;
pub mod import;
pub mod init;
pub mod ledger;
pub mod plan;
pub mod progress;
pub mod sandbox;
pub mod schema;
pub mod session;
pub mod show;
pub mod unlock;
pub mod validate;

/// The `--max-wait` argument: a duration such as `5m` or `90s`.
pub fn parse_max_wait(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<crate::manifest::Duration>()
        .map(|d| std::time::Duration::from_secs(d.as_secs()))
        .map_err(|_| format!("`{text}` is not a duration; write it like `5m` or `90s`"))
}

/// The version and the git commit it was built from (`0.1.0 (commit 1a2b3c4d5e6f)`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TOKENOPS_GIT_COMMIT"),
    ")"
);

/// Keep GitLab and Zendesk API tokens alive the GitOps way.
#[derive(Debug, Parser)]
#[command(name = "tokenops", version = VERSION, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success; 1 error, invalid input or usage error (unknown flag, bad \
value); 2 only for changes pending (plan --detailed-exitcode) or tokens expiring (check)."
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
pub enum Command {
    /// Check tokenops.yaml and the manifests (no network); report every problem.
    Validate(validate::Args),
    /// Print or check the JSON Schemas of tokenops.yaml and manifest files.
    Schema(schema::Args),
    /// Show what apply would change (reads live state, changes nothing).
    Plan(plan::Args),
    /// Print a plan saved by `plan --out`, in any format (no network).
    Show(show::Args),
    /// Rotate what is due: finish unfinished rotations, then apply the plan (or PLANFILE).
    Apply(apply::Args),
    /// Report tokens that expire within the window, declared or not; --report-issue writes
    /// the report issue.
    Check(check::Args),
    /// Write manifest entries for live tokens no manifest declares yet (never overwrites).
    Import(import::Args),
    /// Write a starting tokenops.yaml, an age key pair (the identity printed once) and the
    /// manifest that keeps tokenops's own credentials alive (never overwrites).
    Init(init::Args),
    /// Run plan, apply, plan, apply --replace, plan and check against the built-in sandbox (no
    /// credentials).
    Demo(demo::Args),
    /// Serve the built-in GitLab + Zendesk API simulator on 127.0.0.1 until interrupted.
    Sandbox(sandbox::Args),
    /// Release the shared ledger's lock a crashed apply left held (gitlab and http backends).
    Unlock(unlock::Args),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page, or write every page with --out DIR.
    Man(completions::ManArgs),
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
        // Colour only on a terminal: CI job logs show escape codes as they are.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(color_on(std::io::stderr().is_terminal()))
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_target(false)
            .init();
    }
}

/// Whether a stream gets colour: only a terminal, and never with `NO_COLOR` set. The one rule
/// for every stream (plan text on stdout, logs on stderr).
pub fn color_on(is_terminal: bool) -> bool {
    is_terminal && env::process_env("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let now = cli.now.as_deref();
    progress::set_quiet(cli.quiet);
    match cli.command {
        Command::Validate(args) => validate::run(args, cli.quiet),
        Command::Schema(args) => schema::run(args),
        Command::Plan(args) => plan::run(args, now),
        Command::Show(args) => show::run(args),
        Command::Apply(args) => apply::run(args, now),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Demo(args) => demo::run(args, now),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Check(args) => check::run(args, now),
        Command::Import(args) => import::run(args, now),
        Command::Init(args) => init::run(args),
        Command::Unlock(args) => unlock::run(args),
    }
}
