//! Builds the run context at the edge: one API client per platform instance declared in
//! `tokenops.yaml` (URL and credential from the environment), and the current time.

use anyhow::Context as _;

use super::env::{Lookup, resolve_instance, resolve_now, resolve_zendesk_api_token};
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
}

impl Tuning {
    fn apply(self, settings: &mut ClientSettings) {
        if let Some(n) = self.concurrency {
            settings.concurrency = n.max(1);
        }
        if let Some(n) = self.requests_per_minute {
            settings.requests_per_minute = n.max(1);
        }
    }
}

/// One client per declared instance, and `now`.
pub fn run_context(
    config: &Config,
    now_flag: Option<&str>,
    tuning: Tuning,
    lookup: Lookup<'_>,
) -> anyhow::Result<RunContext> {
    let now = resolve_now(now_flag, lookup)?;
    let mut clients = Clients {
        progress: super::progress::progress(),
        ..Clients::default()
    };
    for instance in &config.gitlab {
        let access = resolve_instance(
            Platform::GitLab,
            &instance.name,
            &instance.url,
            &instance.token_env,
            lookup,
        )?;
        let mut settings = ClientSettings::gitlab();
        tuning.apply(&mut settings);
        let client = GitLabClient::new(&access, settings)
            .with_context(|| format!("GitLab instance `{}`", instance.name))?;
        clients.gitlab.insert(instance.name.clone(), client);
    }
    for instance in &config.zendesk {
        let access = match (
            &instance.oauth_token_env,
            &instance.email_env,
            &instance.api_token_env,
        ) {
            (Some(token_env), _, _) => resolve_instance(
                Platform::Zendesk,
                &instance.name,
                &instance.url,
                token_env,
                lookup,
            )?,
            (None, Some(email_env), Some(token_env)) => resolve_zendesk_api_token(
                &instance.name,
                &instance.url,
                email_env,
                token_env,
                lookup,
            )?,
            _ => anyhow::bail!(
                "Zendesk instance `{}` in tokenops.yaml names no credential: set \
                 `oauth_token_env` (or `email_env` and `api_token_env`)",
                instance.name
            ),
        };
        let mut settings = ClientSettings::zendesk();
        tuning.apply(&mut settings);
        let client = ZendeskClient::new(&access, settings)
            .with_context(|| format!("Zendesk instance `{}`", instance.name))?;
        clients.zendesk.insert(instance.name.clone(), client);
    }
    Ok(RunContext { now, clients })
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
    let token = match lookup("TOKENOPS_NOTE_TOKEN").filter(|v| !v.is_empty()) {
        Some(token) => secrecy::SecretString::from(token),
        None => credential_at(config, &base, lookup)?.ok_or_else(|| {
            anyhow::anyhow!(
                "--comment: no GitLab instance in tokenops.yaml is at {base}; set \
                 TOKENOPS_NOTE_TOKEN to a token that may comment on the merge request"
            )
        })?,
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
        merge_request: crate::ops::comment::MergeRequestRef {
            project,
            iid,
            commit: lookup("CI_COMMIT_SHA").filter(|v| !v.is_empty()),
        },
    })
}

/// Where the ledger is, from `state:` in tokenops.yaml. A local path is relative to the
/// directory of tokenops.yaml; the `http` backend authenticates with `password_env` (and
/// `username_env`, ignored by GitLab), else with the declared GitLab instance at its address.
pub fn ledger_source(
    config: &Config,
    config_path: &std::path::Path,
    lookup: Lookup<'_>,
) -> anyhow::Result<crate::ledger::LedgerSource> {
    use crate::ledger::LedgerSource;
    use crate::ledger::http::StateAddress;
    use crate::manifest::LedgerSettings;
    Ok(match &config.state {
        LedgerSettings::Local { path } => {
            let base = config_path.parent().unwrap_or(std::path::Path::new("."));
            LedgerSource::Local(base.join(path))
        }
        LedgerSettings::Http {
            address,
            password_env,
            ..
        } => {
            let parsed = StateAddress::parse(address)?;
            let token = match password_env {
                Some(var) => lookup(var)
                    .filter(|v| !v.is_empty())
                    .map(secrecy::SecretString::from)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "state.password_env names {var}, which is not set: set it to a \
                             token with the Maintainer role on the state's project"
                        )
                    })?,
                None => credential_at(config, &parsed.base, lookup)?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "state.address {address} is on no GitLab instance declared in \
                         tokenops.yaml; set state.password_env"
                    )
                })?,
            };
            let access = crate::http::InstanceAccess {
                name: "state".to_string(),
                url: parsed.base.clone(),
                credential: token,
                email: None,
            };
            LedgerSource::Http {
                client: GitLabClient::new(&access, ClientSettings::gitlab())?,
                address: parsed,
            }
        }
    })
}

/// The credential of the declared GitLab instance whose (possibly overridden) URL is `base`.
fn credential_at(
    config: &Config,
    base: &str,
    lookup: Lookup<'_>,
) -> anyhow::Result<Option<secrecy::SecretString>> {
    let found = config.gitlab.iter().find(|g| {
        let url = lookup(&super::env::override_var(Platform::GitLab, &g.name, "URL"))
            .unwrap_or_else(|| g.url.clone());
        url.trim_end_matches('/') == base.trim_end_matches('/')
    });
    let Some(instance) = found else {
        return Ok(None);
    };
    let access = resolve_instance(
        Platform::GitLab,
        &instance.name,
        &instance.url,
        &instance.token_env,
        lookup,
    )?;
    Ok(Some(access.credential))
}
