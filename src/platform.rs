//! The two platforms tokenops manages, named once for the manifests, the clients and the
//! messages.

use std::fmt;

/// A platform kind: GitLab or Zendesk. In JSON it is its YAML key, `gitlab` or `zendesk`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// GitLab (REST v4); `gitlab:` in tokenops.yaml.
    GitLab,
    /// Zendesk (REST v2 and OAuth); `zendesk:` in tokenops.yaml.
    Zendesk,
}

impl Platform {
    /// `gitlab` or `zendesk`, the key used in the YAML.
    pub fn key(self) -> &'static str {
        match self {
            Platform::GitLab => "gitlab",
            Platform::Zendesk => "zendesk",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::GitLab => "GitLab",
            Platform::Zendesk => "Zendesk",
        })
    }
}
