//! `tokenops completions SHELL` and `tokenops man`: shell completions and a man page, both
//! generated from the clap definitions so they never drift from the real flags.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;
use crate::ops::Outcome;

/// Print shell completions.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  tokenops completions bash > /etc/bash_completion.d/tokenops")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Print the man page (roff).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  tokenops man > tokenops.1 && man ./tokenops.1")]
pub struct ManArgs {}

/// Writes completions for `args.shell` to stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "tokenops", &mut std::io::stdout());
    Ok(Outcome::Success)
}

/// Writes the man page to stdout.
pub fn man(_: ManArgs) -> anyhow::Result<Outcome> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    std::io::stdout().write_all(&page)?;
    Ok(Outcome::Success)
}
