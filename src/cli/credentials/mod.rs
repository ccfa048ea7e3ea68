//! Which credential a command signs in with, resolved from the environment at the edge.
//! Writing commands (`apply`, `check --report-issue`, `unlock`) use an instance's credential
//! (`token_env`, `oauth_token_env`, or the legacy `email_env` + `api_token_env`); reading
//! commands (`plan`, `check`, `import`) use its read credential (`read_token_env`,
//! `read_oauth_token_env`), else the same one, so that a merge-request pipeline, which cannot
//! read protected variables, plans with unprotected read-only credentials. The
//! `TOKENOPS_<PLATFORM>_<NAME>_READ_TOKEN` and `_TOKEN` overrides come first. A credential that
//! is missing is an error naming the instance, the variables and where the pipeline template
//! sets them. A refused URL names where it came from; an age secret key found where a
//! credential belongs is never sent.

use secrecy::{ExposeSecret, SecretString};

use super::env::{Lookup, override_var};
use crate::http::{ApiError, InstanceAccess, Platform};
use crate::manifest::{GitlabInstance, ZendeskInstance};

/// What the command does with a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only: the instance's read credential, else its credential.
    Read,
    /// Changes things: the instance's credential.
    Write,
}

/// A variable the pipeline template sets for its jobs from a CI/CD variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateVariable {
    /// The variable `tokenops.yaml` names.
    pub env: &'static str,
    /// The CI/CD variable (Settings > CI/CD > Variables) it is set from.
    pub from: &'static str,
    /// The template's jobs that set it.
    pub jobs: &'static [&'static str],
    /// Whether the CI/CD variable is meant to be protected.
    pub protected: bool,
}

/// The template file whose jobs set these variables.
pub const TEMPLATE_FILE: &str = "templates/tokenops.gitlab-ci.yml";

/// The credentials `templates/tokenops.gitlab-ci.yml` sets in its jobs (a test keeps this
/// list and the file in step).
pub const TEMPLATE_VARIABLES: [TemplateVariable; 2] = [
    TemplateVariable {
        env: "GITLAB_READ_TOKEN",
        from: "TOKENOPS_READ_TOKEN",
        jobs: &["tokenops:plan"],
        protected: false,
    },
    TemplateVariable {
        env: "GITLAB_TOKEN",
        from: "TOKENOPS_ROTATE_TOKEN",
        jobs: &["tokenops:apply", "tokenops:rotate", "tokenops:check"],
        protected: true,
    },
];

/// A credential that is not in the environment.
#[derive(Debug, thiserror::Error)]
#[error(
    "{platform} instance `{instance}` has no {what}: {tried}. {purpose} {hint} (Or set {override_var}.)"
)]
pub struct MissingCredential {
    /// Which platform.
    pub platform: Platform,
    /// The instance name.
    pub instance: String,
    /// "read credential" or "credential".
    pub what: &'static str,
    /// The variables looked at, and what each held.
    pub tried: String,
    /// Which commands need it and what it must allow.
    pub purpose: &'static str,
    /// Where it is set in GitLab CI.
    pub hint: String,
    /// The override variable that would also do.
    pub override_var: String,
}

/// Why an instance's access could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The credential is missing.
    #[error(transparent)]
    Missing(#[from] Box<MissingCredential>),
    /// The URL is refused.
    #[error(transparent)]
    Url(#[from] ApiError),
}

/// What a variable holds.
enum Found {
    Set(String),
    Unset,
    /// `$NAME` left as it was: GitLab keeps a reference to an undefined variable verbatim.
    Unexpanded(String),
}

fn find(lookup: Lookup<'_>, name: &str) -> Found {
    match lookup(name) {
        None => Found::Unset,
        Some(v) if v.trim().is_empty() => Found::Unset,
        Some(v) if is_reference(v.trim()) => Found::Unexpanded(v.trim().to_string()),
        Some(v) => Found::Set(v),
    }
}

/// `$NAME` or `${NAME}`.
fn is_reference(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('$') else {
        return false;
    };
    let name = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(rest);
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The first variable of `names` that is set, or a description of what each held.
fn first(lookup: Lookup<'_>, names: &[(String, &str)]) -> Result<String, String> {
    let mut tried = Vec::new();
    for (name, role) in names {
        match find(lookup, name) {
            Found::Set(value) => return Ok(value),
            Found::Unset => tried.push(format!("{name} ({role}) is not set")),
            Found::Unexpanded(r) => tried.push(format!(
                "{name} ({role}) holds `{r}`, a reference GitLab left unexpanded because \
                 {} is not defined for this pipeline",
                r.trim_start_matches('$')
                    .trim_start_matches('{')
                    .trim_end_matches('}')
            )),
        }
    }
    Err(tried.join("; "))
}

/// Where GitLab CI sets `var`, for the missing-credential message.
fn ci_hint(var: &str, read: bool) -> String {
    if let Some(t) = TEMPLATE_VARIABLES.iter().find(|t| t.env == var) {
        return format!(
            "In GitLab CI, {TEMPLATE_FILE} sets {var} in the {} job{} from the CI/CD variable \
             {}: add it under Settings > CI/CD > Variables{}.",
            t.jobs.join(", "),
            if t.jobs.len() > 1 { "s" } else { "" },
            t.from,
            if t.protected {
                ", protected and masked (only pipelines of protected branches, such as the \
                 default branch and its schedules, can read it)"
            } else {
                ", not protected and masked, so that merge-request pipelines can read it"
            }
        );
    }
    if read {
        format!(
            "In GitLab CI, add {var} under Settings > CI/CD > Variables, not protected and \
             masked, so that merge-request pipelines can read it; every job of {TEMPLATE_FILE} \
             sees it."
        )
    } else {
        format!(
            "In GitLab CI, add {var} under Settings > CI/CD > Variables, protected and masked \
             (only pipelines of protected branches, such as the default branch and its \
             schedules, can read it); every job of {TEMPLATE_FILE} sees it."
        )
    }
}

fn missing(
    platform: Platform,
    instance: &str,
    access: Access,
    tried: String,
    hint_var: &str,
) -> CredentialError {
    let (what, purpose) = match (platform, access) {
        (Platform::GitLab, Access::Read) => (
            "read credential",
            "`plan`, `check` and `import` read with a `read_api` token.",
        ),
        (Platform::GitLab, Access::Write) => (
            "credential",
            "`apply`, `check --report-issue` and `unlock` write with an `api` token.",
        ),
        (Platform::Zendesk, Access::Read) => (
            "read credential",
            "`plan`, `check` and `import` read with a read-scoped OAuth token (`read`).",
        ),
        (Platform::Zendesk, Access::Write) => (
            "credential",
            "`apply` writes with an admin's OAuth token (`read write`).",
        ),
    };
    let override_what = if access == Access::Read {
        "READ_TOKEN"
    } else {
        "TOKEN"
    };
    CredentialError::Missing(Box::new(MissingCredential {
        platform,
        instance: instance.to_string(),
        what,
        tried,
        purpose,
        hint: ci_hint(hint_var, access == Access::Read),
        override_var: override_var(platform, instance, override_what),
    }))
}

fn url(
    platform: Platform,
    name: &str,
    configured: &str,
    lookup: Lookup<'_>,
) -> Result<String, ApiError> {
    let url_override = override_var(platform, name, "URL");
    let (url, source_name) = match find(lookup, &url_override) {
        Found::Set(url) => (url, url_override),
        _ => (configured.to_string(), "tokenops.yaml".to_string()),
    };
    crate::http::base_url_problem(&url).map_err(|p| ApiError::InstanceUrl {
        platform,
        instance: name.to_string(),
        source_name,
        url: p.url,
        reason: p.reason,
    })?;
    Ok(url)
}

/// Whether `value` is an age secret key: the escrow identity must never be sent to a
/// platform as a credential.
fn is_age_identity(value: &str) -> bool {
    value
        .trim()
        .get(..15)
        .is_some_and(|head| head.eq_ignore_ascii_case("AGE-SECRET-KEY-"))
}

/// Refuses `access` when its credential is an age secret key, naming the first of
/// `candidates` that holds one.
fn refuse_identity(
    platform: Platform,
    access: InstanceAccess,
    candidates: &[String],
    lookup: Lookup<'_>,
) -> Result<InstanceAccess, CredentialError> {
    if !is_age_identity(access.credential.expose_secret()) {
        return Ok(access);
    }
    let env_var = candidates
        .iter()
        .find(|v| lookup(v).is_some_and(|x| is_age_identity(&x)))
        .cloned()
        .unwrap_or_else(|| "the credential's variable".to_string());
    Err(CredentialError::Url(ApiError::WrongCredential {
        platform,
        instance: access.name,
        env_var,
    }))
}

/// A GitLab instance's URL and the credential for `access`.
pub fn gitlab_access(
    instance: &GitlabInstance,
    access: Access,
    lookup: Lookup<'_>,
) -> Result<InstanceAccess, CredentialError> {
    let name = &instance.name;
    let url = url(Platform::GitLab, name, &instance.url, lookup)?;
    let mut names = Vec::new();
    if access == Access::Read {
        names.push((
            override_var(Platform::GitLab, name, "READ_TOKEN"),
            "override",
        ));
    }
    names.push((override_var(Platform::GitLab, name, "TOKEN"), "override"));
    let overrides = names.len();
    if access == Access::Read
        && let Some(read) = &instance.read_token_env
    {
        names.push((read.clone(), "read_token_env"));
    }
    names.push((instance.token_env.clone(), "token_env"));
    let credential = first(lookup, &names).map_err(|_| {
        let configured = &names[overrides..];
        let tried = first(lookup, configured).err().unwrap_or_default();
        let err = missing(Platform::GitLab, name, access, tried, &configured[0].0);
        if access == Access::Read && instance.read_token_env.is_none() {
            return undeclared_read(err, "read_token_env: GITLAB_READ_TOKEN");
        }
        err
    })?;
    let found = InstanceAccess {
        name: name.clone(),
        url,
        credential: SecretString::from(credential),
        email: None,
    };
    let candidates: Vec<String> = names.into_iter().map(|(n, _)| n).collect();
    refuse_identity(Platform::GitLab, found, &candidates, lookup)
}

/// A Zendesk instance's URL and the credential for `access` (with the email a legacy API
/// token is paired with, when that is the credential).
pub fn zendesk_access(
    instance: &ZendeskInstance,
    access: Access,
    lookup: Lookup<'_>,
) -> Result<InstanceAccess, CredentialError> {
    let found = zendesk_found(instance, access, lookup)?;
    let name = &instance.name;
    let mut candidates = vec![
        override_var(Platform::Zendesk, name, "READ_TOKEN"),
        override_var(Platform::Zendesk, name, "TOKEN"),
    ];
    candidates.extend(
        [
            &instance.read_oauth_token_env,
            &instance.oauth_token_env,
            &instance.api_token_env,
        ]
        .into_iter()
        .flatten()
        .cloned(),
    );
    refuse_identity(Platform::Zendesk, found, &candidates, lookup)
}

/// How a Zendesk instance signs in for `access`: its URL and a static credential, or with
/// the OAuth client's identifier and secret when it declares `client_id_env` and
/// `client_secret_env` (then `access.credential` is the secret and is never sent as such).
/// The `_TOKEN` overrides and, for reads, a set `read_oauth_token_env` still come first.
pub fn zendesk_sign_in(
    instance: &ZendeskInstance,
    access: Access,
    lookup: Lookup<'_>,
) -> Result<(InstanceAccess, Option<crate::zendesk::ClientCredentials>), CredentialError> {
    let name = &instance.name;
    let set = |var: &str| matches!(find(lookup, var), Found::Set(_));
    let static_first = (access == Access::Read
        && (set(&override_var(Platform::Zendesk, name, "READ_TOKEN"))
            || instance.read_oauth_token_env.as_deref().is_some_and(set)))
        || set(&override_var(Platform::Zendesk, name, "TOKEN"));
    let (Some(id_env), Some(secret_env)) = (&instance.client_id_env, &instance.client_secret_env)
    else {
        return zendesk_access(instance, access, lookup).map(|a| (a, None));
    };
    if static_first {
        return zendesk_access(instance, access, lookup).map(|a| (a, None));
    }
    let url = url(Platform::Zendesk, name, &instance.url, lookup)?;
    let pair = [
        (id_env.clone(), "client_id_env"),
        (secret_env.clone(), "client_secret_env"),
    ];
    if access == Access::Read
        && let Some(read_env) = &instance.read_oauth_token_env
        && !pair.iter().all(|(var, _)| set(var))
    {
        // A merge-request job sees neither the read token (unset here) nor the protected
        // client secret: the read token is what it lacks.
        let names = [(read_env.clone(), "read_oauth_token_env"), pair[1].clone()];
        let tried = first(lookup, &names).err().unwrap_or_default();
        return Err(missing(Platform::Zendesk, name, access, tried, read_env));
    }
    let read = |(var, role): &(String, &str)| {
        first(lookup, &[(var.clone(), *role)]).map_err(|tried| {
            // The pair signs in for every command; the secret is the protected credential.
            let mut err = missing(Platform::Zendesk, name, Access::Write, tried, var);
            if let CredentialError::Missing(m) = &mut err {
                m.purpose = "This instance signs in with a confidential OAuth client's \
                             identifier and secret (client-credentials grant).";
                if var == id_env {
                    m.hint = format!(
                        "In GitLab CI, add {var} under Settings > CI/CD > Variables with the \
                         client's identifier (Admin Center > Apps and integrations > APIs > \
                         OAuth clients); it is not a secret."
                    );
                }
            }
            err
        })
    };
    let client_id = read(&pair[0])?;
    let secret = read(&pair[1])?;
    let found = InstanceAccess {
        name: name.clone(),
        url,
        credential: SecretString::from(secret),
        email: None,
    };
    let found = refuse_identity(
        Platform::Zendesk,
        found,
        std::slice::from_ref(secret_env),
        lookup,
    )?;
    let credentials =
        crate::zendesk::ClientCredentials::new(&client_id, found.credential.clone(), secret_env);
    Ok((found, Some(credentials)))
}

fn zendesk_found(
    instance: &ZendeskInstance,
    access: Access,
    lookup: Lookup<'_>,
) -> Result<InstanceAccess, CredentialError> {
    let name = &instance.name;
    let url = url(Platform::Zendesk, name, &instance.url, lookup)?;
    // An override on an instance that signs in with an OAuth client is a bearer token too.
    let legacy = instance.oauth_token_env.is_none() && !instance.client_credentials();
    let email = || -> Result<String, CredentialError> {
        let names = [
            (override_var(Platform::Zendesk, name, "EMAIL"), "override"),
            (instance.email_env.clone().unwrap_or_default(), "email_env"),
        ];
        first(lookup, &names)
            .map_err(|tried| missing(Platform::Zendesk, name, access, tried, &names[1].0))
    };
    let access_with = |credential: String, email: Option<String>| InstanceAccess {
        name: name.clone(),
        url: url.clone(),
        credential: SecretString::from(credential),
        email,
    };
    if access == Access::Read {
        let read_override = override_var(Platform::Zendesk, name, "READ_TOKEN");
        if let Found::Set(token) = find(lookup, &read_override) {
            return Ok(access_with(token, None));
        }
    }
    let token_override = override_var(Platform::Zendesk, name, "TOKEN");
    if let Found::Set(token) = find(lookup, &token_override) {
        let email = if legacy { Some(email()?) } else { None };
        return Ok(access_with(token, email));
    }
    let mut names = Vec::new();
    if access == Access::Read
        && let Some(read) = &instance.read_oauth_token_env
    {
        if let Found::Set(token) = find(lookup, read) {
            return Ok(access_with(token, None));
        }
        names.push((read.clone(), "read_oauth_token_env"));
    }
    let own = match (&instance.oauth_token_env, &instance.api_token_env) {
        (Some(var), _) => (var.clone(), "oauth_token_env"),
        (None, Some(var)) => (var.clone(), "api_token_env"),
        (None, None) => (String::new(), "oauth_token_env"),
    };
    names.push(own.clone());
    if let Found::Set(token) = find(lookup, &own.0) {
        let email = if legacy { Some(email()?) } else { None };
        return Ok(access_with(token, email));
    }
    let tried = first(lookup, &names).err().unwrap_or_default();
    let err = missing(Platform::Zendesk, name, access, tried, &names[0].0);
    if access == Access::Read && instance.read_oauth_token_env.is_none() {
        let var = format!(
            "read_oauth_token_env: {}",
            override_var(Platform::Zendesk, name, "READ_TOKEN").trim_start_matches("TOKENOPS_")
        );
        return Err(undeclared_read(err, &var));
    }
    Err(err)
}

/// The hint for an instance that declares no read credential, so reads wanted the
/// protected one.
fn undeclared_read(err: CredentialError, example: &str) -> CredentialError {
    match err {
        CredentialError::Missing(mut m) => {
            m.hint = format!(
                "This instance declares no read credential, so reading needs the one apply \
                 uses, which merge-request pipelines cannot see: declare one in \
                 tokenops.yaml (e.g. `{example}`) and give it a read-only, unprotected value. \
                 {}",
                m.hint
            );
            CredentialError::Missing(m)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
