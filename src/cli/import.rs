//! `tokenops import` arguments.

use std::path::PathBuf;

use super::context::{Tuning, run_context};
use super::credentials::Access;
use super::env::process_env;
use crate::manifest::LoadOptions;
use crate::ops::Outcome;
use crate::ops::plan::load;

/// Write manifest entries for live tokens no manifest declares (never overwrites a file).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tokenops import --discover --out manifests/imported\n  \
tokenops import --migrate-zendesk zd-export-legacy\n\n\
Exit codes: 0 written (or nothing to import), 1 error (including a file that already exists)."
)]
pub struct Args {
    /// Path of tokenops.yaml.
    #[arg(long, env = "TOKENOPS_CONFIG", default_value = "tokenops.yaml")]
    pub config: PathBuf,
    /// Directory of manifests (searched recursively).
    #[arg(long, env = "TOKENOPS_MANIFESTS", default_value = "manifests")]
    pub manifests: PathBuf,
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
    let load_options = LoadOptions {
        config: args.config.clone(),
        manifests: args.manifests.clone(),
    };
    let desired = load(&load_options)?;
    if let Some(id) = &args.migrate_zendesk {
        let written = crate::ops::import::migrate_zendesk(&desired, id)?;
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
    let ctx = run_context(
        &desired.config,
        now,
        Tuning::default(),
        Access::Read,
        &process_env,
    )?;
    let out = args.out.unwrap_or(args.manifests);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let written = super::context::finish_run(
        &runtime,
        &ctx.clients,
        crate::ops::import::discover_and_write(&desired, &ctx.clients, ctx.now, &out),
    )?;
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
