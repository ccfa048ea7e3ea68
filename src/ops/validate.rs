//! `tokenops validate`: reads the configuration and every manifest without touching the
//! network and reports every problem with its file:line:column and a hint, and, once
//! everything is valid, the warnings about sign-ins a platform deadline ends.

use std::collections::BTreeSet;
use std::io::Write;

use super::Outcome;
use crate::manifest::{self, LoadOptions};

/// What to validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The configuration file and the manifest directory.
    pub load: LoadOptions,
    /// Print only the problems, without the summary line.
    pub quiet: bool,
}

/// Validates and writes the report to `out`: every problem, then a summary line.
pub fn run(options: &Options, out: &mut dyn Write) -> std::io::Result<Outcome> {
    match manifest::load(&options.load) {
        Ok(_) if options.quiet => Ok(Outcome::Success),
        Ok(desired) => {
            let files: BTreeSet<_> = desired.tokens.iter().map(|t| &t.origin.file).collect();
            let consumers: usize = desired.tokens.iter().map(|t| t.spec.consumers.len()).sum();
            writeln!(
                out,
                "ok: {} tokens with {} consumers in {} manifest files, checked against {}",
                desired.tokens.len(),
                consumers,
                files.len(),
                options.load.config.display()
            )?;
            for warning in manifest::sign_in_warnings(&options.load.config, &desired.config) {
                writeln!(out, "{}", crate::diag::Warning(warning))?;
            }
            Ok(Outcome::Success)
        }
        Err(diags) => {
            write!(out, "{diags}")?;
            if options.quiet {
                return Ok(Outcome::Problems);
            }
            let files: BTreeSet<_> = diags.0.iter().map(|d| &d.file).collect();
            writeln!(
                out,
                "{} problem{} in {} file{}",
                diags.len(),
                if diags.len() == 1 { "" } else { "s" },
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            )?;
            Ok(Outcome::Problems)
        }
    }
}
