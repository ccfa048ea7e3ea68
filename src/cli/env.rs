//! The edge where the environment is read: each platform instance's URL and credential
//! (from the variable `tokenops.yaml` names, or the `TOKENOPS_<PLATFORM>_<NAME>_URL|TOKEN`
//! overrides that point tokenops at a sandbox), and the current time (`--now` or
//! `TOKENOPS_NOW`, RFC 3339, else the system clock). Everything takes a lookup function so
//! tests can pass a fake environment.

use secrecy::SecretString;

use crate::http::{ApiError, InstanceAccess, Platform, check_base_url};

/// Reads one environment variable; `None` when unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment as a [`Lookup`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The variable that overrides an instance's `what` (`URL`, `TOKEN`, `EMAIL`):
/// `TOKENOPS_GITLAB_GITLAB_COM_TOKEN` for GitLab instance `gitlab.com`.
pub fn override_var(platform: Platform, instance: &str, what: &str) -> String {
    let platform = match platform {
        Platform::GitLab => "GITLAB",
        Platform::Zendesk => "ZENDESK",
    };
    let name: String = instance
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("TOKENOPS_{platform}_{name}_{what}")
}

/// Reads a variable, treating an empty value as unset.
fn read(lookup: Lookup<'_>, name: &str) -> Option<String> {
    lookup(name).filter(|v| !v.trim().is_empty())
}

/// Resolves one instance: URL from the override or `configured_url`; credential from the
/// override or `token_env`. Fails naming the variable to set, or refusing an insecure URL.
pub fn resolve_instance(
    platform: Platform,
    name: &str,
    configured_url: &str,
    token_env: &str,
    lookup: Lookup<'_>,
) -> Result<InstanceAccess, ApiError> {
    let url = read(lookup, &override_var(platform, name, "URL"))
        .unwrap_or_else(|| configured_url.to_string());
    check_base_url(&url)?;
    let token_override = override_var(platform, name, "TOKEN");
    let credential = read(lookup, &token_override)
        .or_else(|| read(lookup, token_env))
        .ok_or_else(|| ApiError::MissingCredential {
            platform,
            instance: name.to_string(),
            env_var: token_env.to_string(),
            override_var: Some(token_override.clone()),
        })?;
    Ok(InstanceAccess {
        name: name.to_string(),
        url,
        credential: SecretString::from(credential),
        email: None,
    })
}

/// Resolves a Zendesk instance that uses a legacy API token: like [`resolve_instance`],
/// plus the email the token is paired with (`email_env`, or `TOKENOPS_ZENDESK_<NAME>_EMAIL`).
pub fn resolve_zendesk_api_token(
    name: &str,
    configured_url: &str,
    email_env: &str,
    token_env: &str,
    lookup: Lookup<'_>,
) -> Result<InstanceAccess, ApiError> {
    let mut access = resolve_instance(Platform::Zendesk, name, configured_url, token_env, lookup)?;
    let email_override = override_var(Platform::Zendesk, name, "EMAIL");
    let email = read(lookup, &email_override)
        .or_else(|| read(lookup, email_env))
        .ok_or_else(|| ApiError::MissingCredential {
            platform: Platform::Zendesk,
            instance: name.to_string(),
            env_var: email_env.to_string(),
            override_var: Some(email_override),
        })?;
    access.email = Some(email);
    Ok(access)
}

/// The variable that sets the current time.
pub const NOW_VAR: &str = "TOKENOPS_NOW";

/// A `--now` / `TOKENOPS_NOW` value that is not an RFC 3339 timestamp.
#[derive(Debug, thiserror::Error)]
#[error(
    "{source_name} = `{value}` is not an RFC 3339 timestamp ({reason}); write it like \
     2026-11-28T14:00:00Z"
)]
pub struct BadNow {
    /// `--now` or `TOKENOPS_NOW`.
    pub source_name: String,
    /// The value given.
    pub value: String,
    /// The parser's complaint.
    pub reason: String,
}

/// The current time: `flag` (`--now`) first, then `TOKENOPS_NOW`, else the system clock.
pub fn resolve_now(flag: Option<&str>, lookup: Lookup<'_>) -> Result<jiff::Timestamp, BadNow> {
    let (source_name, value) = match flag {
        Some(v) => ("--now".to_string(), v.to_string()),
        None => match read(lookup, NOW_VAR) {
            Some(v) => (NOW_VAR.to_string(), v),
            None => return Ok(jiff::Timestamp::now()),
        },
    };
    value
        .trim()
        .parse::<jiff::Timestamp>()
        .map_err(|err| BadNow {
            source_name,
            value: value.clone(),
            reason: err.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn override_names() {
        assert_eq!(
            override_var(Platform::GitLab, "gitlab.com", "TOKEN"),
            "TOKENOPS_GITLAB_GITLAB_COM_TOKEN"
        );
        assert_eq!(
            override_var(Platform::Zendesk, "us-government", "URL"),
            "TOKENOPS_ZENDESK_US_GOVERNMENT_URL"
        );
    }

    #[test]
    fn configured_variable_is_used() {
        let lookup = env(&[("GITLAB_TOKEN", "glpat-configured")]);
        let access = resolve_instance(
            Platform::GitLab,
            "gitlab.com",
            "https://gitlab.com",
            "GITLAB_TOKEN",
            &lookup,
        )
        .unwrap();
        assert_eq!(access.url, "https://gitlab.com");
        assert_eq!(access.credential.expose_secret(), "glpat-configured");
    }

    #[test]
    fn overrides_win() {
        let lookup = env(&[
            ("GITLAB_TOKEN", "glpat-configured"),
            ("TOKENOPS_GITLAB_GITLAB_COM_TOKEN", "glpat-sandbox"),
            (
                "TOKENOPS_GITLAB_GITLAB_COM_URL",
                "http://127.0.0.1:8080/gitlab/gitlab.com",
            ),
        ]);
        let access = resolve_instance(
            Platform::GitLab,
            "gitlab.com",
            "https://gitlab.com",
            "GITLAB_TOKEN",
            &lookup,
        )
        .unwrap();
        assert_eq!(access.url, "http://127.0.0.1:8080/gitlab/gitlab.com");
        assert_eq!(access.credential.expose_secret(), "glpat-sandbox");
    }

    #[test]
    fn missing_variable_is_named() {
        let lookup = env(&[("GITLAB_TOKEN", "  ")]);
        let err = resolve_instance(
            Platform::Zendesk,
            "global",
            "https://example.zendesk.com",
            "ZENDESK_GLOBAL_OAUTH_TOKEN",
            &lookup,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ZENDESK_GLOBAL_OAUTH_TOKEN"), "{text}");
        assert!(text.contains("TOKENOPS_ZENDESK_GLOBAL_TOKEN"), "{text}");
        assert!(text.contains("`global`"), "{text}");
    }

    #[test]
    fn insecure_override_is_refused() {
        let lookup = env(&[
            ("T", "x"),
            ("TOKENOPS_GITLAB_GL_URL", "http://gitlab.example.com"),
        ]);
        let err = resolve_instance(Platform::GitLab, "gl", "https://g", "T", &lookup).unwrap_err();
        assert!(matches!(err, ApiError::InsecureUrl { .. }), "{err}");
    }

    #[test]
    fn legacy_zendesk_needs_the_email() {
        let lookup = env(&[("ZD_TOKEN", "abc")]);
        let err = resolve_zendesk_api_token(
            "global",
            "https://x.zendesk.com",
            "ZD_EMAIL",
            "ZD_TOKEN",
            &lookup,
        )
        .unwrap_err();
        assert!(err.to_string().contains("ZD_EMAIL"));
        let lookup = env(&[("ZD_TOKEN", "abc"), ("ZD_EMAIL", "ops@example.com")]);
        let access = resolve_zendesk_api_token(
            "global",
            "https://x.zendesk.com",
            "ZD_EMAIL",
            "ZD_TOKEN",
            &lookup,
        )
        .unwrap();
        assert_eq!(access.email.as_deref(), Some("ops@example.com"));
    }

    #[test]
    fn now_sources() {
        let lookup = env(&[(NOW_VAR, "2026-01-02T03:04:05Z")]);
        assert_eq!(
            resolve_now(None, &lookup).unwrap().to_string(),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            resolve_now(Some("2027-01-01T00:00:00Z"), &lookup)
                .unwrap()
                .to_string(),
            "2027-01-01T00:00:00Z"
        );
        let bad = resolve_now(Some("yesterday"), &lookup).unwrap_err();
        assert!(bad.to_string().contains("--now"));
        let empty = env(&[]);
        assert!(resolve_now(None, &empty).is_ok());
    }
}
