//! The `tokenops` binary: parses arguments, sets up logging, runs one operation and maps its
//! outcome to the documented exit codes. This is the only place that decides an exit code.

use std::process::ExitCode;

use clap::Parser;
use tokenops::cli::Cli;
use tokenops::ops::Outcome;

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.init_logging();
    match tokenops::cli::run(cli) {
        Ok(outcome) => exit_code(outcome),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// The one map from outcomes to exit codes (documented in `--help` and the README).
fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Success => ExitCode::SUCCESS,
        Outcome::Problems => ExitCode::from(1),
        Outcome::Changes => ExitCode::from(2),
    }
}
