//! `tokenops import` arguments.

use std::path::PathBuf;

use super::context::Tuning;
use super::credentials::Access;
use super::session::{Session, Sources, run_to_end};
use crate::ops::Outcome;

/// Write manifest entries for live tokens no manifest declares (never overwrites a file).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tokenops import --discover --out manifests/imported\n  \
tokenops import --migrate-zendesk zd-export-legacy\n\n\
Exit codes: 0 written (or nothing to import), 1 error (including a file that already exists)."
)]
pub struct Args {
    /// Where tokenops.yaml and the manifests are.
    #[command(flatten)]
    pub sources: Sources,
    /// Scan `check.discover` and write an entry for every live token no manifest declares.
    #[arg(long, required_unless_present = "migrate_zendesk")]
    pub discover: bool,
    /// Directory that receives `imported.yaml` (default: the manifests directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the zendesk_oauth_token replacement of this legacy zendesk_api_token entry (by
    /// manifest id), next to its manifest.
    #[arg(long, value_name = "TOKEN_ID", conflicts_with = "discover")]
    pub migrate_zendesk: Option<String>,
}

/// Runs `import`.
pub fn run(args: Args, now: Option<&str>) -> anyhow::Result<Outcome> {
    let session = Session::load(&args.sources)?;
    let desired = &session.desired;
    if let Some(id) = &args.migrate_zendesk {
        let written = crate::ops::import::migrate_zendesk(desired, id)?;
        println!(
            "Wrote {}. `tokenops validate` refuses it until `client` names the confidential \
             OAuth client (it is written empty on purpose: tokenops cannot know it); then check \
             `scopes` and move the consumers from the legacy entry.",
            written
                .path
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        return Ok(Outcome::Success);
    }
    let ctx = session.run_context(now, Tuning::default(), Access::Read)?;
    let out = args.out.unwrap_or(args.sources.manifests);
    let written = run_to_end(
        &ctx.clients,
        crate::ops::import::discover_and_write(desired, &ctx.clients, ctx.now, &out),
    )??;
    match &written.path {
        Some(path) => println!(
            "Wrote {} entr{} to {}: list each token's consumers before merging.",
            written.entries,
            if written.entries == 1 { "y" } else { "ies" },
            path.display()
        ),
        None => {
            println!("Nothing to import: every live token in the discovery scopes is declared.")
        }
    }
    for s in written.skipped {
        println!("Skipped {s}");
    }
    Ok(Outcome::Success)
}
