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

/// Print the man page (roff), or write it and one page per subcommand into a directory.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tokenops man > tokenops.1 && man ./tokenops.1\n  \
tokenops man --out /usr/local/share/man/man1   # tokenops.1, tokenops-plan.1, ..."
)]
pub struct ManArgs {
    /// Write tokenops.1 and a page per subcommand (tokenops-plan.1, ...) into this
    /// directory, which must exist, instead of printing tokenops.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

/// Writes completions for `args.shell` to stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "tokenops", &mut std::io::stdout());
    Ok(Outcome::Success)
}

/// Writes the man page to stdout, or every page (the main one refers to `tokenops-plan(1)`
/// and the others) into `--out`.
pub fn man(args: ManArgs) -> anyhow::Result<Outcome> {
    match args.out {
        Some(dir) => {
            clap_mangen::generate_to(Cli::command(), &dir).map_err(|e| {
                anyhow::anyhow!("cannot write the man pages into {}: {e}", dir.display())
            })?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            std::io::stdout().write_all(&page)?;
        }
    }
    Ok(Outcome::Success)
}
