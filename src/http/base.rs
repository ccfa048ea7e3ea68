//! Base URL rules: `https://` anywhere, `http://` only to loopback (127.0.0.0/8, ::1,
//! `localhost`), no credentials in the URL, and links handed out by the platform must stay on
//! the instance's origin so the credential never travels elsewhere.

use std::net::IpAddr;

use super::ApiError;

/// Checks an instance's base URL and returns it parsed, without a trailing slash.
pub fn check_base_url(raw: &str) -> Result<url::Url, ApiError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|err| ApiError::InsecureUrl {
        url: raw.to_string(),
        reason: format!("not a valid URL ({err}); write it like https://gitlab.example.com"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::InsecureUrl {
            url: "(a URL with user information, not shown)".to_string(),
            reason: "credentials must not be part of an instance URL; put them in the \
                     environment variable tokenops.yaml names"
                .to_string(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::InsecureUrl {
            url: url.to_string(),
            reason: "an instance URL takes no query or fragment".to_string(),
        });
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ApiError::InsecureUrl {
            url: url.to_string(),
            reason: "http:// would send the credential unencrypted; use https:// (http:// is \
                     accepted only for 127.0.0.1, ::1 and localhost)"
                .to_string(),
        }),
        other => Err(ApiError::InsecureUrl {
            url: url.to_string(),
            reason: format!("unsupported scheme `{other}`; use https://"),
        }),
    }
}

fn is_loopback(url: &url::Url) -> bool {
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
        url: link.to_string(),
        reason: format!("the platform returned a link that is not a URL: {err}"),
    })?;
    if url.origin() != base.origin() {
        return Err(ApiError::InsecureUrl {
            url: url.to_string(),
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
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
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
