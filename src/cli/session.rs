//! What every command that works on the manifests starts with, in one place: the two paths
//! (`--config`, `--manifests`, also `validate`'s), the manifests loaded and checked, the request tuning flags,
//! the run context (one signed-in client per instance, and `now`), the ledger's source, and
//! the async runtime. `plan`, `check`, `import`, `apply` and `unlock` differ only in what
//! they ask of it.

use std::path::PathBuf;

use super::context::{Tuning, run_context};
use super::credentials::Access;
use super::env::process_env;
use super::ledger::{ResolvedLedger, ledger_source};
use crate::clients::RunContext;
use crate::manifest::{Desired, LoadOptions};

/// Where the configuration and the manifests are.
#[derive(Debug, Clone, clap::Args)]
pub struct Sources {
    /// Path of tokenops.yaml.
    #[arg(
        long,
        env = "TOKENOPS_CONFIG",
        default_value = "tokenops.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Directory of manifests (searched recursively for *.yaml).
    #[arg(
        long,
        env = "TOKENOPS_MANIFESTS",
        default_value = "manifests",
        value_name = "DIR"
    )]
    pub manifests: PathBuf,
}

/// The flags that change how requests are sent.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct TuningArgs {
    /// Concurrent requests per platform instance (default: 16 GitLab, 8 Zendesk).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Requests per minute per platform instance (default: 2000 GitLab, 390 Zendesk:
    /// GitLab.com's limit, and just under Zendesk's common one).
    #[arg(long)]
    pub requests_per_minute: Option<u32>,
    /// The most the run may wait on each platform instance in all (429 pauses, an exhausted
    /// rate limit, backoff after failures), e.g. `10m`; a wait past it fails the request
    /// instead (default: 5m).
    #[arg(long, value_name = "DURATION", value_parser = super::parse_max_wait)]
    pub max_wait: Option<std::time::Duration>,
}

impl From<TuningArgs> for Tuning {
    fn from(args: TuningArgs) -> Tuning {
        Tuning {
            concurrency: args.concurrency,
            requests_per_minute: args.requests_per_minute,
            max_wait: args.max_wait,
        }
    }
}

/// The loaded manifests of one command's run, and where they came from.
pub struct Session {
    /// The configuration and every declared token.
    pub desired: Desired,
    /// Path of tokenops.yaml (named in messages; `command` consumers run next to it).
    pub config: PathBuf,
}

impl Session {
    /// Loads and checks tokenops.yaml and the manifests.
    pub fn load(sources: &Sources) -> anyhow::Result<Session> {
        let options = LoadOptions {
            config: sources.config.clone(),
            manifests: sources.manifests.clone(),
        };
        let desired = crate::ops::plan::load(&options)?;
        Ok(Session {
            desired,
            config: options.config,
        })
    }

    /// One client per declared instance, signed in for `access`, and the run's `now`.
    pub fn run_context(
        &self,
        now: Option<&str>,
        tuning: Tuning,
        access: Access,
    ) -> anyhow::Result<RunContext> {
        run_context(&self.desired.config, now, tuning, access, &process_env)
    }

    /// Where the ledger is, and how to sign in to it, for `access`.
    pub fn ledger(&self, access: Access) -> anyhow::Result<ResolvedLedger> {
        ledger_source(&self.desired.config, &self.config, access, &process_env)
    }
}

/// The async runtime a command's work runs on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Runs a command's work to its end on a new runtime, then signs the run's clients out
/// whatever the work returned, also when a signal stops it
/// ([`super::context::finish_run`]).
pub fn run_to_end<T>(
    clients: &crate::clients::Clients,
    op: impl std::future::Future<Output = T>,
) -> anyhow::Result<T> {
    Ok(super::context::finish_run(&runtime()?, clients, op)?)
}
