//! Which variable the credential of a run came from, for the expiry watch
//! ([`crate::watch`]): the first of an instance's variables, in the order
//! [`super::credentials`] reads them, that holds the resolved value; whether it is the
//! instance's own (write) credential; the CI/CD variable the pipeline template sets it from;
//! and whether the platform keeps a record to ask about (not for a job token or a legacy
//! Zendesk API token).

use secrecy::ExposeSecret;

use super::credentials::{Access, TEMPLATE_VARIABLES};
use super::env::{Lookup, override_var};
use crate::http::{InstanceAccess, Platform};
use crate::manifest::{GitlabInstance, ZendeskInstance};

/// Which variable the credential of `found` (resolved by [`super::credentials::gitlab_access`]) came from, for
/// the expiry watch: the first of the instance's variables, in the order they are read, that
/// holds it.
pub fn gitlab_source(
    instance: &GitlabInstance,
    access: Access,
    found: &InstanceAccess,
    lookup: Lookup<'_>,
) -> crate::watch::RunCredential {
    let name = &instance.name;
    let mut names = Vec::new();
    if access == Access::Read {
        names.push((override_var(Platform::GitLab, name, "READ_TOKEN"), false));
    }
    names.push((override_var(Platform::GitLab, name, "TOKEN"), true));
    if access == Access::Read
        && let Some(read) = &instance.read_token_env
    {
        names.push((read.clone(), false));
    }
    names.push((instance.token_env.clone(), true));
    let value = found.credential.expose_secret();
    let (env_var, own) = holder(&names, value, lookup);
    let job_token = env_var == "CI_JOB_TOKEN"
        || lookup("CI_JOB_TOKEN").is_some_and(|job| !job.is_empty() && job == value);
    crate::watch::RunCredential {
        platform: Platform::GitLab,
        instance: name.clone(),
        ci_variable: template_source(&env_var),
        env_var,
        own,
        no_record: job_token,
    }
}

/// Which variable the credential of `found` (resolved by [`super::credentials::zendesk_access`]) came from; a
/// legacy API token (paired with an email) has no OAuth record to ask about.
pub fn zendesk_source(
    instance: &ZendeskInstance,
    access: Access,
    found: &InstanceAccess,
    lookup: Lookup<'_>,
) -> crate::watch::RunCredential {
    let name = &instance.name;
    let mut names = Vec::new();
    if access == Access::Read {
        names.push((override_var(Platform::Zendesk, name, "READ_TOKEN"), false));
    }
    names.push((override_var(Platform::Zendesk, name, "TOKEN"), true));
    if access == Access::Read
        && let Some(read) = &instance.read_oauth_token_env
    {
        names.push((read.clone(), false));
    }
    for own in [&instance.oauth_token_env, &instance.api_token_env]
        .into_iter()
        .flatten()
    {
        names.push((own.clone(), true));
    }
    let (env_var, own) = holder(&names, found.credential.expose_secret(), lookup);
    crate::watch::RunCredential {
        platform: Platform::Zendesk,
        instance: name.clone(),
        ci_variable: template_source(&env_var),
        env_var,
        own,
        no_record: found.email.is_some(),
    }
}

/// The CI/CD variable the template's jobs set `env_var` from, when they do.
fn template_source(env_var: &str) -> Option<String> {
    TEMPLATE_VARIABLES
        .iter()
        .find(|t| t.env == env_var)
        .map(|t| t.from.to_string())
}

/// The first of `names` whose variable holds `value`, and whether it is the instance's own
/// credential; the last name when none does (the value came from elsewhere).
fn holder(names: &[(String, bool)], value: &str, lookup: Lookup<'_>) -> (String, bool) {
    names
        .iter()
        .find(|(n, _)| lookup(n).is_some_and(|v| v == value))
        .or(names.last())
        .cloned()
        .unwrap_or_default()
}
