//! The platform clients of one run, by instance name, and the run context the edge resolves
//! once (the clients and `now`) for every operation.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::gitlab::GitLabClient;
use crate::zendesk::ZendeskClient;

/// One client per declared platform instance, by instance name.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    /// GitLab instances.
    pub gitlab: BTreeMap<String, GitLabClient>,
    /// Zendesk instances.
    pub zendesk: BTreeMap<String, ZendeskClient>,
    /// Where discovery and apply report how far they are (nowhere by default).
    pub progress: crate::progress::Progress,
    /// What `command` consumers run with: the environment the edge passes on and the
    /// directory relative programs are found in.
    pub commands: CommandEnv,
    /// Which variable each instance's credential came from, for the expiry watch
    /// ([`crate::watch`]); empty when the edge resolved none.
    pub credentials: Vec<crate::watch::RunCredential>,
}

/// A lookup of one environment variable.
type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The environment `command` consumers run in, resolved at the edge: a lookup of the
/// process environment (only the variables a consumer names, plus `PATH`, `HOME` and the
/// locale, are passed on) and the directory of `tokenops.yaml`, against which a program
/// given as a relative path (`scripts/vault-put`) is found.
#[derive(Clone, Default)]
pub struct CommandEnv {
    lookup: Option<std::sync::Arc<EnvFn>>,
    /// The directory relative programs are found in (the current directory when unset).
    pub base_dir: Option<std::path::PathBuf>,
}

impl CommandEnv {
    /// An environment read through `lookup`, with programs found relative to `base_dir`.
    pub fn new(
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
        base_dir: Option<std::path::PathBuf>,
    ) -> Self {
        CommandEnv {
            lookup: Some(std::sync::Arc::new(lookup)),
            base_dir,
        }
    }

    /// The variable `name`, when the edge passes one on.
    pub fn var(&self, name: &str) -> Option<String> {
        self.lookup.as_ref().and_then(|l| l(name))
    }
}

impl std::fmt::Debug for CommandEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandEnv")
            .field("base_dir", &self.base_dir)
            .finish_non_exhaustive()
    }
}

impl Clients {
    /// The client of GitLab instance `name`, or an error naming the missing declaration.
    pub fn gitlab_for(&self, name: &str) -> Result<&GitLabClient, String> {
        self.gitlab
            .get(name)
            .ok_or_else(|| undeclared("GitLab", name))
    }

    /// Revokes every access token the run minted for itself (client-credentials sign-ins):
    /// the last thing every run does.
    pub async fn sign_out(&self) {
        for client in self.zendesk.values() {
            client.sign_out().await;
        }
    }

    /// The client of Zendesk instance `name`, or an error naming the missing declaration.
    pub fn zendesk_for(&self, name: &str) -> Result<&ZendeskClient, String> {
        self.zendesk
            .get(name)
            .ok_or_else(|| undeclared("Zendesk", name))
    }
}

fn undeclared(platform: &str, instance: &str) -> String {
    format!("no {platform} instance named `{instance}` is declared in tokenops.yaml")
}

/// Everything the edge resolved: the time and one client per instance.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The current time.
    pub now: Timestamp,
    /// Platform clients.
    pub clients: Clients,
}
