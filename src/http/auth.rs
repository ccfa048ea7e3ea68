//! Credentials: `InstanceAccess` (what the edge resolved for one instance) and `Auth` (how a
//! request authenticates), turned into a header marked sensitive so it is never printed.

use std::fmt;

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// One platform instance as resolved at the edge: its name, URL and credential.
#[derive(Clone)]
pub struct InstanceAccess {
    /// The instance name from `tokenops.yaml`.
    pub name: String,
    /// The base URL (may carry a path prefix).
    pub url: String,
    /// The credential tokenops itself authenticates with.
    pub credential: SecretString,
    /// For a legacy Zendesk API token: the email it is paired with (Basic auth). `None` means
    /// the credential is sent as a bearer token (Zendesk) or `PRIVATE-TOKEN` (GitLab).
    pub email: Option<String>,
}

impl fmt::Debug for InstanceAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceAccess")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("credential", &"[REDACTED]")
            .field("email", &self.email)
            .finish()
    }
}

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    /// GitLab's `PRIVATE-TOKEN` header.
    PrivateToken(SecretString),
    /// `Authorization: Bearer …` (Zendesk OAuth, GitLab OAuth).
    Bearer(SecretString),
    /// Zendesk legacy API token: Basic `{email}/token:{token}`.
    ZendeskApiToken {
        /// The user the token acts as.
        email: String,
        /// The API token.
        token: SecretString,
    },
    /// HTTP basic auth with a user name and a secret: GitLab's CI/CD job token as user
    /// `gitlab-ci-token` on the Terraform-state routes.
    Basic {
        /// The user name.
        username: String,
        /// The secret.
        password: SecretString,
    },
    /// No credential (the OAuth grant endpoint carries its own in the body).
    None,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::PrivateToken(_) => "PrivateToken([REDACTED])",
            Auth::Bearer(_) => "Bearer([REDACTED])",
            Auth::ZendeskApiToken { .. } => "ZendeskApiToken([REDACTED])",
            Auth::Basic { .. } => "Basic([REDACTED])",
            Auth::None => "None",
        })
    }
}

impl Auth {
    /// Every form of this credential a server could echo: the raw value and the header value
    /// made of it.
    pub(crate) fn secrets(&self) -> Vec<Zeroizing<String>> {
        let mut out = Vec::new();
        match self {
            Auth::PrivateToken(token) | Auth::Bearer(token) => {
                out.push(Zeroizing::new(token.expose_secret().to_string()));
            }
            Auth::ZendeskApiToken { token, .. } => {
                out.push(Zeroizing::new(token.expose_secret().to_string()));
            }
            Auth::Basic { password, .. } => {
                out.push(Zeroizing::new(password.expose_secret().to_string()));
            }
            Auth::None => {}
        }
        if let Some((_, value)) = self.header()
            && let Ok(text) = value.to_str()
        {
            out.push(Zeroizing::new(text.to_string()));
            if let Some((_, rest)) = text.split_once(' ') {
                out.push(Zeroizing::new(rest.to_string()));
            }
        }
        out
    }

    /// The header this credential becomes, marked sensitive so it is never printed.
    pub(crate) fn header(&self) -> Option<(HeaderName, HeaderValue)> {
        let (name, value) = match self {
            Auth::PrivateToken(token) => (
                HeaderName::from_static("private-token"),
                Zeroizing::new(token.expose_secret().to_string()),
            ),
            Auth::Bearer(token) => (
                reqwest::header::AUTHORIZATION,
                Zeroizing::new(format!("Bearer {}", token.expose_secret())),
            ),
            Auth::ZendeskApiToken { email, token } => {
                let raw = Zeroizing::new(format!("{email}/token:{}", token.expose_secret()));
                (
                    reqwest::header::AUTHORIZATION,
                    Zeroizing::new(format!("Basic {}", base64(raw.as_bytes()))),
                )
            }
            Auth::Basic { username, password } => {
                let raw = Zeroizing::new(format!("{username}:{}", password.expose_secret()));
                (
                    reqwest::header::AUTHORIZATION,
                    Zeroizing::new(format!("Basic {}", base64(raw.as_bytes()))),
                )
            }
            Auth::None => return None,
        };
        let mut value = HeaderValue::from_str(&value).ok()?;
        value.set_sensitive(true);
        Some((name, value))
    }
}

/// Standard base64 with padding (for the Basic header and for finding an echoed one; not worth
/// a dependency).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"a@b.c/token:xyz1"), "YUBiLmMvdG9rZW46eHl6MQ==");
    }

    #[test]
    fn debug_hides_the_credential() {
        let access = InstanceAccess {
            name: "x".into(),
            url: "https://x".into(),
            credential: SecretString::from("glpat-secretvalue"),
            email: None,
        };
        assert!(!format!("{access:?}").contains("secretvalue"));
        let auth = Auth::PrivateToken(SecretString::from("glpat-secretvalue"));
        assert!(!format!("{auth:?}").contains("secretvalue"));
        let auth = Auth::Basic {
            username: "gitlab-ci-token".into(),
            password: SecretString::from("glcbt-secretvalue"),
        };
        assert!(!format!("{auth:?}").contains("secretvalue"));
    }
}
