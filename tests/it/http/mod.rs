//! The API clients against scripted servers: pagination to the end, waits on 429, retries by
//! request class, outcome-unknown rotates, readable errors, the request budget, and secrets
//! kept out of URLs and Debug output.

mod budget;
mod errors;
mod logs;
mod pages;
mod resources;
mod retry;
pub(crate) mod server;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokenops::gitlab::GitLabClient;
use tokenops::http::{ClientSettings, InstanceAccess, ManualClock};
use tokenops::zendesk::ZendeskClient;

/// A value that must never show up in a URL, a log line or Debug output.
pub const TOKEN: &str = "glpat-SeCrEt0123456789abcdef";

/// Settings with tiny backoffs so retry tests take no time.
pub fn fast() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        ..ClientSettings::gitlab()
    }
}

pub fn access(url: &str) -> InstanceAccess {
    InstanceAccess {
        name: "gitlab.com".to_string(),
        url: url.to_string(),
        credential: SecretString::from(TOKEN),
        email: None,
    }
}

/// A GitLab client on a manual clock (waits cost no wall time; the clock records them).
pub fn gitlab(url: &str, settings: ClientSettings) -> (GitLabClient, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let client = GitLabClient::with_clock(&access(url), settings, clock.clone()).unwrap();
    (client, clock)
}

pub fn zendesk(url: &str, email: Option<&str>) -> ZendeskClient {
    let mut access = access(url);
    access.name = "global".to_string();
    access.email = email.map(str::to_string);
    ZendeskClient::with_clock(&access, fast(), Arc::new(ManualClock::new(0))).unwrap()
}

pub fn token_json(id: u64) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": format!("t{id}"), "revoked": false, "active": true,
        "created_at": "2025-03-02T09:14:07.511Z", "scopes": ["api"], "user_id": 87,
        "last_used_at": null, "expires_at": "2026-09-01"
    })
}
