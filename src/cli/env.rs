//! The edge where the environment is read: the names of the `TOKENOPS_<PLATFORM>_<NAME>_*`
//! overrides that point tokenops at a sandbox (the credentials themselves are resolved in
//! [`super::credentials`]), and the current time (`--now` or `TOKENOPS_NOW`, RFC 3339, else
//! the system clock). Everything takes a lookup function so tests can pass a fake
//! environment.

use crate::http::Platform;

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
