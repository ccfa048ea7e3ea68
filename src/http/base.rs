//! Base URL rules: `https://` anywhere, `http://` only to loopback (127.0.0.0/8, ::1,
//! `localhost`), no credentials in the URL (user information, a query), and links handed out
//! by the platform must stay on the instance's origin so the credential never travels
//! elsewhere. A URL is only ever shown through [`shown`], which drops what could be secret.

use std::net::IpAddr;

use super::ApiError;

/// Query parameters whose value is a credential.
const CREDENTIAL_PARAMS: [&str; 9] = [
    "private_token",
    "access_token",
    "job_token",
    "token",
    "password",
    "client_secret",
    "api_key",
    "apikey",
    "key",
];

/// Why an instance URL is refused, in words that never contain its secret parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlProblem {
    /// The URL as it may be shown (see [`shown`]).
    pub url: String,
    /// Why it is refused and how to fix it.
    pub reason: String,
}

impl From<UrlProblem> for ApiError {
    fn from(p: UrlProblem) -> ApiError {
        ApiError::InsecureUrl {
            url: p.url,
            reason: p.reason,
        }
    }
}

/// A URL as it may be printed: without user information, with every query value and the
/// fragment replaced by `…`, on one line and cut. Works on text that is not a valid URL too.
pub fn shown(raw: &str) -> String {
    let text = raw.trim();
    let (before_fragment, had_fragment) = match text.split_once('#') {
        Some((b, _)) => (b, true),
        None => (text, false),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    // Drop `user:password@` between the scheme and the host.
    let base = match base.find("://") {
        Some(scheme_end) => {
            let authority_start = scheme_end + 3;
            let authority_end = base[authority_start..]
                .find('/')
                .map_or(base.len(), |i| authority_start + i);
            match base[authority_start..authority_end].rfind('@') {
                Some(at) => format!(
                    "{}{}",
                    &base[..authority_start],
                    &base[authority_start + at + 1..]
                ),
                None => base.to_string(),
            }
        }
        None => match base.rfind('@') {
            Some(at) => base[at + 1..].to_string(),
            None => base.to_string(),
        },
    };
    let mut out = base;
    if let Some(query) = query {
        let names: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let name = p.split('=').next().unwrap_or_default();
                format!("{}=…", crate::text::cut(name, 40))
            })
            .collect();
        out.push('?');
        out.push_str(&names.join("&"));
    }
    if had_fragment {
        out.push_str("#…");
    }
    crate::text::echo(&out)
}

/// Whether the URL's text carries user information (`user:password@host`).
fn has_user_info(raw: &str) -> bool {
    let text = raw.trim();
    let Some(scheme_end) = text.find("://") else {
        return false;
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..authority_end].contains('@')
}

/// Checks an instance's base URL and returns it parsed, without a trailing slash.
pub fn check_base_url(raw: &str) -> Result<url::Url, ApiError> {
    base_url_problem(raw).map_err(ApiError::from)
}

/// Like [`check_base_url`], with the reason as plain data (for `validate`).
pub fn base_url_problem(raw: &str) -> Result<url::Url, UrlProblem> {
    let refuse = |reason: String| UrlProblem {
        url: shown(raw),
        reason,
    };
    if has_user_info(raw) {
        return Err(refuse(
            "credentials must not be part of an instance URL (the user information before \
             `@` is not shown); put them in the environment variable tokenops.yaml names"
                .to_string(),
        ));
    }
    let trimmed = raw.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|err| {
        refuse(format!(
            "not a valid URL ({err}); write it like https://gitlab.example.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "credentials must not be part of an instance URL; put them in the environment \
             variable tokenops.yaml names"
                .to_string(),
        ));
    }
    if let Some(query) = url.query() {
        let secret = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, _)| k.to_ascii_lowercase())
            .find(|k| {
                CREDENTIAL_PARAMS.contains(&k.as_str())
                    || k.contains("token")
                    || k.contains("secret")
                    || k.contains("password")
            });
        return Err(refuse(match secret {
            Some(name) => format!(
                "the query parameter `{}` looks like a credential (its value is not shown); an \
                 instance URL takes no query: put the credential in the environment variable \
                 tokenops.yaml names",
                crate::text::echo(&name)
            ),
            None => {
                "an instance URL takes no query or fragment; remove everything from `?`".to_string()
            }
        }));
    }
    if url.fragment().is_some() {
        return Err(refuse(
            "an instance URL takes no query or fragment; remove everything from `#`".to_string(),
        ));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(refuse(
            "http:// would send the credential unencrypted; use https:// (http:// is accepted \
             only for 127.0.0.1, ::1 and localhost)"
                .to_string(),
        )),
        "https" => Err(refuse("the URL names no host".to_string())),
        other => Err(refuse(format!(
            "unsupported scheme `{}`; use https://",
            crate::text::echo(other)
        ))),
    }
}

/// Whether the URL's host is this machine's loopback: `localhost`, 127.0.0.0/8 or ::1
/// (not 0.0.0.0, not an IPv4-mapped address, not a name that merely starts with 127.0.0.1).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Parses a link the platform returned (e.g. `Link: rel="next"`) and checks that it points at
/// the same scheme, host and port as the base URL.
pub(crate) fn check_same_origin(base: &url::Url, link: &str) -> Result<url::Url, ApiError> {
    let url = base.join(link).map_err(|err| ApiError::InsecureUrl {
        url: shown(link),
        reason: format!("the platform returned a link that is not a URL: {err}"),
    })?;
    if url.origin() != base.origin() || !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::InsecureUrl {
            url: shown(url.as_str()),
            reason: format!(
                "the platform returned a link to another origin than {}; it is not followed \
                 so the credential stays with the instance (check the instance URL)",
                base.origin().ascii_serialization()
            ),
        });
    }
    Ok(url)
}

/// Percent-encodes one path segment (`group/sub/project` becomes `group%2Fsub%2Fproject`).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert!(check_base_url("https://gitlab.com").is_ok());
        assert!(check_base_url("http://127.0.0.1:8080/gitlab/gitlab.com/").is_ok());
        assert!(check_base_url("http://127.5.0.1:8080").is_ok());
        assert!(check_base_url("http://localhost:1").is_ok());
        assert!(check_base_url("http://[::1]:1").is_ok());
        for bad in [
            "http://gitlab.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "ftp://x",
            "https://user:pw@x",
            "nonsense",
            "http://127.0.0.1.evil.com",
            "http://[::ffff:10.0.0.1]",
            "http://[::ffff:127.0.0.1]",
            "http://0.0.0.0",
            "https://gitlab.com/?private_token=glpat-x",
            "https://gitlab.com#frag",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_in_urls_are_never_shown() {
        for (raw, expected) in [
            ("ftp://user:s3cretPW99@host", "ftp://host"),
            (
                "https://gitlab.com/?private_token=glpat-abc&x=1",
                "https://gitlab.com/?private_token=…&x=…",
            ),
            ("https://u:p@ho st/x?t=1", "https://ho st/x?t=…"),
            ("user:pw@host", "host"),
            ("https://h/#tok", "https://h/#…"),
        ] {
            assert_eq!(shown(raw), expected, "{raw}");
        }
        for raw in [
            "ftp://user:s3cretPW99@host",
            "https://gitlab.com/?private_token=glpat-abc",
            "https://u:s3cretPW99@ho st",
        ] {
            let err = check_base_url(raw).unwrap_err().to_string();
            assert!(
                !err.contains("s3cretPW99") && !err.contains("glpat-abc"),
                "{err}"
            );
        }
    }

    #[test]
    fn origins() {
        let base = check_base_url("http://127.0.0.1:9/gitlab/one").unwrap();
        assert!(check_same_origin(&base, "http://127.0.0.1:9/gitlab/one/api/v4/x?page=2").is_ok());
        assert!(check_same_origin(&base, "http://127.0.0.1:10/x").is_err());
        assert!(check_same_origin(&base, "https://evil.example/x").is_err());
    }

    #[test]
    fn segments() {
        assert_eq!(encode_segment("group/sub/project"), "group%2Fsub%2Fproject");
        assert_eq!(encode_segment("a b+c"), "a%20b%2Bc");
        assert_eq!(encode_segment("gitlab.com"), "gitlab.com");
    }
}
