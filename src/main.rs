//! The `tokenops` binary: parses arguments, sets up logging, runs one operation and maps its
//! outcome to the documented exit codes. This is the only place that decides an exit code.

use std::process::ExitCode;

use clap::Parser;
use tokenops::cli::Cli;
use tokenops::ops::Outcome;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage(&err),
    };
    cli.init_logging();
    match tokenops::cli::run(cli) {
        Ok(outcome) => exit_code(outcome),
        Err(err) => {
            // Messages quote files and servers; no control character reaches the terminal.
            let text = tokenops::text::error_chain(err.as_ref());
            eprintln!("error: {}", tokenops::text::keep_lines(&text));
            ExitCode::from(1)
        }
    }
}

/// `--help` and `--version` print and succeed; every other parse failure (unknown flag, bad
/// value, missing argument) is an error like any other and exits 1, as Terraform's do. clap's
/// own default, 2, would read as "changes pending" or "tokens expiring" to a script.
fn usage(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    if err.use_stderr() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
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
