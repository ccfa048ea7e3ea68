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
}

impl Clients {
    /// The client of GitLab instance `name`, or an error naming the missing declaration.
    pub fn gitlab_for(&self, name: &str) -> Result<&GitLabClient, String> {
        self.gitlab
            .get(name)
            .ok_or_else(|| undeclared("GitLab", name))
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
