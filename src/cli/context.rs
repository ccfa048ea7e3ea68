//! Builds the run context at the edge: one API client per platform instance declared in
//! `tokenops.yaml` (URL and the read or write credential from the environment), the
//! merge-request note's target, and the current time.

use anyhow::Context as _;

use super::credential_source::{gitlab_source, zendesk_source};
use super::credentials::{Access, CredentialError, TEMPLATE_FILE, gitlab_access, zendesk_sign_in};
use super::env::{Lookup, resolve_now};
use crate::clients::{Clients, RunContext};
use crate::gitlab::GitLabClient;
use crate::http::{ClientSettings, Platform};
use crate::manifest::Config;
use crate::zendesk::ZendeskClient;

/// Client settings a command line can change.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuning {
    /// Concurrent requests per instance (`None`: the client default).
    pub concurrency: Option<usize>,
    /// Request budget per instance and minute (`None`: the client default).
    pub requests_per_minute: Option<u32>,
    /// The most a client may wait on its platform in all (`None`: the client default).
    pub max_wait: Option<std::time::Duration>,
}

impl Tuning {
    fn apply(self, settings: &mut ClientSettings) {
        if let Some(n) = self.concurrency {
            settings.concurrency = n.max(1);
        }
        if let Some(n) = self.requests_per_minute {
            settings.requests_per_minute = n.max(1);
        }
        if let Some(wait) = self.max_wait {
            settings.max_wait = wait;
        }
    }
}

/// One client per declared instance, signed in for `access`, and `now`.
pub fn run_context(
    config: &Config,
    now_flag: Option<&str>,
    tuning: Tuning,
    access: Access,
    lookup: Lookup<'_>,
) -> anyhow::Result<RunContext> {
    let now = resolve_now(now_flag, lookup)?;
    let mut clients = Clients {
        progress: super::progress::progress(),
        ..Clients::default()
    };
    for instance in &config.gitlab {
        let resolved = gitlab_access(instance, access, lookup)?;
        clients
            .credentials
            .push(gitlab_source(instance, access, &resolved, lookup));
        let mut settings = ClientSettings::gitlab();
        tuning.apply(&mut settings);
        let client = GitLabClient::new(&resolved, settings)
            .with_context(|| format!("GitLab instance `{}`", instance.name))?;
        clients.gitlab.insert(instance.name.clone(), client);
    }
    for instance in &config.zendesk {
        let (resolved, grant) = zendesk_sign_in(instance, access, lookup)?;
        let mut source = zendesk_source(instance, access, &resolved, lookup);
        // A client-credentials run mints its own short-lived token and revokes it at the
        // end; the client secret it lasts on has no expiry to watch.
        source.no_record |= grant.is_some();
        clients.credentials.push(source);
        let mut settings = ClientSettings::zendesk();
        tuning.apply(&mut settings);
        let client = match grant {
            Some(credentials) => {
                ZendeskClient::with_client_credentials(&resolved, credentials, settings)
            }
            None => ZendeskClient::new(&resolved, settings),
        }
        .with_context(|| format!("Zendesk instance `{}`", instance.name))?;
        clients.zendesk.insert(instance.name.clone(), client);
    }
    Ok(RunContext { now, clients })
}

/// A run stopped by a signal before its end.
#[derive(Debug, thiserror::Error)]
#[error(
    "stopped by {0} before the run ended (GitLab sends SIGTERM to a cancelled or timed-out \
     job): the work under way was dropped as in a crash, a shared ledger's lock it held \
     released and the run's own Zendesk access tokens revoked; the next `tokenops apply` \
     resumes every unfinished rotation from the ledger and the escrow"
)]
pub struct Stopped(pub &'static str);

/// Runs `op` (a plan, check, apply or import of `clients`) to its end on `runtime`, then
/// revokes every access token the run minted for itself, on every path out of it: success,
/// error, changes pending, or SIGTERM or SIGINT, which drop `op` where it stands (what a
/// crash there would leave, which every step survives) and return [`Stopped`]. Dropping
/// `op` releases the shared ledger's lock, kills running `command` consumers and ends open
/// requests. A run killed outright (SIGKILL) leaves a token that expires by itself within
/// [`crate::zendesk::RUN_TOKEN_SECONDS`].
pub fn finish_run<T>(
    runtime: &tokio::runtime::Runtime,
    clients: &Clients,
    op: impl std::future::Future<Output = T>,
) -> Result<T, Stopped> {
    runtime.block_on(async {
        let out = tokio::select! {
            out = op => Ok(out),
            signal = stop_signal() => Err(Stopped(signal)),
        };
        clients.sign_out().await;
        out
    })
}

/// The first SIGTERM or SIGINT the process gets (never, when neither can be listened for).
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// The merge request of the running GitLab CI pipeline and a client to comment on it, from
/// `CI_API_V4_URL`, `CI_PROJECT_ID`, `CI_MERGE_REQUEST_IID` and `CI_COMMIT_SHA`. The note is
/// written with `TOKENOPS_NOTE_TOKEN`, else with the credential of the declared GitLab
/// instance at the same address.
pub fn comment_target(
    config: &Config,
    lookup: Lookup<'_>,
) -> anyhow::Result<crate::ops::plan::CommentTarget> {
    let need = |name: &str| {
        lookup(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            anyhow::anyhow!(
                "--comment needs {name}, which GitLab sets in merge-request pipelines; run \
                 plan --comment only in a job with `rules: - if: $CI_MERGE_REQUEST_IID`"
            )
        })
    };
    let api = need("CI_API_V4_URL")?;
    let project = need("CI_PROJECT_ID")?;
    let iid: u64 = need("CI_MERGE_REQUEST_IID")?
        .parse()
        .context("CI_MERGE_REQUEST_IID is not a number")?;
    let base = api
        .trim_end_matches('/')
        .trim_end_matches("/api/v4")
        .to_string();
    let (token, credential) = match lookup("TOKENOPS_NOTE_TOKEN").filter(|v| !v.is_empty()) {
        Some(token) => (
            secrecy::SecretString::from(token),
            crate::watch::RunCredential {
                platform: Platform::GitLab,
                instance: instance_at(config, &base, lookup)
                    .map(|g| g.name.clone())
                    .unwrap_or_else(|| base.clone()),
                env_var: "TOKENOPS_NOTE_TOKEN".to_string(),
                ci_variable: None,
                own: false,
                no_record: false,
            },
        ),
        None => match instance_at(config, &base, lookup)
            .map(|g| (g, gitlab_access(g, Access::Write, lookup)))
        {
            Some((g, Ok(found))) => {
                let credential = gitlab_source(g, Access::Write, &found, lookup);
                (found.credential, credential)
            }
            None => anyhow::bail!(
                "--comment: TOKENOPS_NOTE_TOKEN is not set and no GitLab instance in \
                 tokenops.yaml is at {base}; set TOKENOPS_NOTE_TOKEN to a token that may \
                 comment on the merge request (a project access token, Reporter, `api`; not \
                 protected, so that merge-request pipelines can read it)"
            ),
            Some((_, Err(err))) => anyhow::bail!(
                "--comment: TOKENOPS_NOTE_TOKEN is not set, and the instance's own credential \
                 is not available either ({err}). The plan job of {TEMPLATE_FILE} reads \
                 TOKENOPS_NOTE_TOKEN: add it under Settings > CI/CD > Variables, not \
                 protected (a project access token with the Reporter role and `api`)"
            ),
        },
    };
    let access = crate::http::InstanceAccess {
        name: "merge request".to_string(),
        url: base,
        credential: token,
        email: None,
    };
    let client = GitLabClient::new(&access, ClientSettings::gitlab())?;
    Ok(crate::ops::plan::CommentTarget {
        client,
        credential: Some(credential),
        merge_request: crate::ops::comment::MergeRequestRef {
            project,
            iid,
            commit: lookup("CI_COMMIT_SHA").filter(|v| !v.is_empty()),
        },
    })
}

/// The credential for `access` of the declared GitLab instance whose (possibly overridden)
/// URL is `base`; `None` when no declared instance is there.
pub fn credential_at(
    config: &Config,
    base: &str,
    access: Access,
    lookup: Lookup<'_>,
) -> Result<Option<secrecy::SecretString>, CredentialError> {
    let Some(instance) = instance_at(config, base, lookup) else {
        return Ok(None);
    };
    Ok(Some(gitlab_access(instance, access, lookup)?.credential))
}

/// The declared GitLab instance whose (possibly overridden) URL is `base`.
fn instance_at<'c>(
    config: &'c Config,
    base: &str,
    lookup: Lookup<'_>,
) -> Option<&'c crate::manifest::GitlabInstance> {
    config.gitlab.iter().find(|g| {
        let url = lookup(&super::env::override_var(Platform::GitLab, &g.name, "URL"))
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| g.url.clone());
        url.trim_end_matches('/') == base.trim_end_matches('/')
    })
}
