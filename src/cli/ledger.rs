//! Where the ledger is, resolved at the edge from `state:` in tokenops.yaml and the
//! environment: a local path relative to tokenops.yaml; the `gitlab` backend's Terraform
//! state (in a GitLab pipeline the running project's, signed in with `CI_JOB_TOKEN`); or the
//! `http` backend's address. Also the rule for a local ledger in CI, where the file dies with
//! the job: `apply` refuses it unless told the file is kept, `plan` warns.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::credentials::{Access, gitlab_access};
use super::env::{Lookup, override_var};
use crate::gitlab::GitLabClient;
use crate::http::{ClientSettings, InstanceAccess, Platform};
use crate::ledger::LedgerSource;
use crate::ledger::gitlab::{Pipeline, StateLocation, locate};
use crate::ledger::http::StateAddress;
use crate::manifest::{Config, LedgerSettings};

/// The ledger a command uses, and what to say when its credential is refused.
#[derive(Debug)]
pub struct ResolvedLedger {
    /// Where it is.
    pub source: LedgerSource,
    /// Who signs in to a shared ledger and what that needs, for a 401 or 403.
    pub sign_in: Option<String>,
}

/// The running GitLab pipeline, when `CI_JOB_TOKEN`, `CI_API_V4_URL` and `CI_PROJECT_ID` are
/// all set.
pub fn pipeline(lookup: Lookup<'_>) -> Option<Pipeline> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    Some(Pipeline {
        api_url: get("CI_API_V4_URL")?,
        project_id: get("CI_PROJECT_ID")?,
        project_path: get("CI_PROJECT_PATH"),
        job_token: SecretString::from(get("CI_JOB_TOKEN")?),
    })
}

/// Whether this runs in a CI job (`CI=true`, which GitLab and most CI services set).
pub fn in_ci(lookup: Lookup<'_>) -> bool {
    lookup("CI").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Resolves `state:` for a command that reads (`plan`) or writes (`apply`, `unlock`).
pub fn ledger_source(
    config: &Config,
    config_path: &Path,
    access: Access,
    lookup: Lookup<'_>,
) -> anyhow::Result<ResolvedLedger> {
    match &config.state {
        LedgerSettings::Local { path } => {
            let base = config_path.parent().unwrap_or(Path::new("."));
            Ok(ResolvedLedger {
                source: LedgerSource::Local(base.join(path)),
                sign_in: None,
            })
        }
        LedgerSettings::Gitlab {
            gitlab,
            project,
            name,
            token_env,
        } => gitlab_state(
            config,
            gitlab.as_deref(),
            project.as_deref(),
            name,
            token_env.as_deref(),
            access,
            lookup,
        ),
        LedgerSettings::Http {
            address,
            password_env,
            ..
        } => {
            let parsed = StateAddress::parse(address)?;
            let token = match password_env {
                Some(var) => named_token(var, "state.password_env", lookup)?,
                None => super::context::credential_at(config, &parsed.base, access, lookup)?
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "state.address {address} is on no GitLab instance declared in \
                             tokenops.yaml; set state.password_env"
                        )
                    })?,
            };
            Ok(ResolvedLedger {
                source: LedgerSource::Http {
                    client: state_client(&parsed.base, token)?,
                    address: parsed,
                },
                sign_in: None,
            })
        }
    }
}

fn named_token(var: &str, field: &str, lookup: Lookup<'_>) -> anyhow::Result<SecretString> {
    lookup(var)
        .filter(|v| !v.trim().is_empty())
        .map(SecretString::from)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{field} names {var}, which is not set: set it to a token with the Maintainer \
                 role on the state's project"
            )
        })
}

fn state_client(base: &str, token: SecretString) -> anyhow::Result<GitLabClient> {
    let access = InstanceAccess {
        name: "state".to_string(),
        url: base.to_string(),
        credential: token,
        email: None,
    };
    Ok(GitLabClient::new(&access, ClientSettings::gitlab())?)
}

fn gitlab_state(
    config: &Config,
    gitlab: Option<&str>,
    project: Option<&str>,
    name: &str,
    token_env: Option<&str>,
    access: Access,
    lookup: Lookup<'_>,
) -> anyhow::Result<ResolvedLedger> {
    let instances: Vec<(String, String)> = config
        .gitlab
        .iter()
        .map(|g| {
            let url = lookup(&override_var(Platform::GitLab, &g.name, "URL"))
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| g.url.clone());
            (g.name.clone(), url)
        })
        .collect();
    let running = pipeline(lookup);
    let location = locate(gitlab, project, &instances, running.as_ref())?;
    let explicit = token_env
        .map(|var| named_token(var, "state.token_env", lookup))
        .transpose()?;
    let (client, base, project, sign_in) = match location {
        StateLocation::ThisPipeline { base, project } => {
            let job = running
                .ok_or_else(|| anyhow::anyhow!("the state of this pipeline needs CI_JOB_TOKEN"))?;
            let sign_in = format!(
                "the state is this pipeline's project ({project}), signed in {}",
                if explicit.is_some() {
                    "with state.token_env, which needs the Maintainer role there to lock and \
                     write it"
                        .to_string()
                } else {
                    "with the job's CI_JOB_TOKEN, which has the role of the user who started the \
                     pipeline: reading needs Developer, locking and writing (apply) needs \
                     Maintainer on the project. Run apply from pipelines a Maintainer starts \
                     (merges to the default branch, schedules they own), or set \
                     state.token_env to a project access token with the Maintainer role"
                        .to_string()
                }
            );
            let client = match explicit {
                Some(token) => state_client(&base, token)?,
                None => GitLabClient::for_ci_job(
                    "state",
                    &base,
                    job.job_token.clone(),
                    ClientSettings::gitlab(),
                )?,
            };
            (client, base, project, sign_in)
        }
        StateLocation::Instance { gitlab, project } => {
            let instance = config
                .gitlab(&gitlab)
                .ok_or_else(|| anyhow::anyhow!("GitLab instance `{gitlab}` is not declared"))?;
            let resolved = gitlab_access(instance, access, lookup)?;
            let sign_in = format!(
                "the state is in project {project} on `{gitlab}`, signed in with {}: reading \
                 needs the Developer role there, locking and writing (apply) Maintainer",
                if explicit.is_some() {
                    "state.token_env"
                } else {
                    "that instance's credential"
                }
            );
            let token = explicit.unwrap_or(resolved.credential);
            (
                state_client(&resolved.url, token)?,
                resolved.url,
                project,
                sign_in,
            )
        }
    };
    let address = StateAddress {
        base,
        project,
        name: name.to_string(),
    };
    Ok(ResolvedLedger {
        source: LedgerSource::Http { client, address },
        sign_in: Some(sign_in),
    })
}

/// A local ledger in a CI job, which `apply` refuses unless the file is kept.
#[derive(Debug, thiserror::Error)]
#[error(
    "the ledger is the local file {path} and this is a CI job (CI=true): the file goes with the \
     job, so the next run would start from an empty ledger (generated secrets made anew on every \
     run, write-only consumers unverifiable) and an unfinished rotation's escrowed value would be \
     lost. Keep the ledger in the project's GitLab-managed Terraform state instead: set \
     `state: {{ backend: gitlab }}` in tokenops.yaml (in a GitLab pipeline it needs no set-up). If \
     this job does keep the file (a cache or an artifact the next run restores), pass \
     --local-ledger-kept"
)]
pub struct LocalLedgerInCi {
    /// The file.
    pub path: PathBuf,
}

/// `apply`'s rule: a local ledger in CI is refused unless `kept` says the file outlives the job.
pub fn refuse_local_in_ci(
    source: &LedgerSource,
    kept: bool,
    lookup: Lookup<'_>,
) -> Result<(), LocalLedgerInCi> {
    match source {
        LedgerSource::Local(path) if in_ci(lookup) && !kept => {
            Err(LocalLedgerInCi { path: path.clone() })
        }
        _ => Ok(()),
    }
}

/// `plan`'s warning for a local ledger in CI, unless `kept`.
pub fn local_in_ci_warning(
    source: &LedgerSource,
    kept: bool,
    lookup: Lookup<'_>,
) -> Option<String> {
    match source {
        LedgerSource::Local(path) if in_ci(lookup) && !kept => Some(format!(
            "warning: the ledger is the local file {} and this is a CI job (CI=true): unless \
             the job keeps it (a cache or an artifact), every run starts from an empty ledger, \
             so generated secrets show as `missing` and write-only consumers as \
             `unverifiable`. Set `state: {{ backend: gitlab }}` in tokenops.yaml to keep it in \
             the project's Terraform state, or pass --local-ledger-kept if the job keeps the \
             file",
            path.display()
        )),
        _ => None,
    }
}

/// Adds `sign_in` to an error whose cause is the shared ledger's credential being refused.
pub fn explain_refusal(err: anyhow::Error, sign_in: Option<&str>) -> anyhow::Error {
    let Some(sign_in) = sign_in else {
        return err;
    };
    let refused = err.chain().any(|cause| {
        cause
            .downcast_ref::<crate::http::ApiError>()
            .is_some_and(|api| {
                matches!(api.status(), Some(401 | 403))
                    && api.target().is_some_and(|t| t.instance == "state")
            })
    });
    if refused {
        anyhow::anyhow!(
            "{}\n  hint: {sign_in}",
            crate::text::error_chain(err.as_ref())
        )
    } else {
        err
    }
}
