//! What consumer kinds share: the stable [`ConsumerKey`] that identifies each place across
//! manifests, and where a GitLab variable or hook lives (the kinds themselves live in
//! [`crate::kinds`]).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tree::HINT;

/// A stable identity for a consumer, e.g.
/// `gitlab:gitlab.com/project/support/ops/x/variable/KEY@*`. Two tokens writing the same key
/// would overwrite each other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConsumerKey(pub String);

impl fmt::Display for ConsumerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a GitLab variable or hook lives: a project or a group, by full path.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GitlabOwner {
    /// A project path such as `support/ops/bridge`.
    Project(String),
    /// A group path such as `support/ops`.
    Group(String),
}

impl GitlabOwner {
    /// `project/PATH` or `group/PATH`.
    pub fn path(&self) -> String {
        match self {
            GitlabOwner::Project(p) => format!("project/{p}"),
            GitlabOwner::Group(g) => format!("group/{g}"),
        }
    }
}

/// The owner from exactly one of `project` and `group`.
pub(crate) fn owner_of(
    project: Option<String>,
    group: Option<String>,
) -> Result<GitlabOwner, String> {
    match (project, group) {
        (Some(p), None) => Ok(GitlabOwner::Project(p)),
        (None, Some(g)) => Ok(GitlabOwner::Group(g)),
        (Some(_), Some(_)) => Err(format!(
            "both `project` and `group` are given{HINT}keep only the one that holds it"
        )),
        (None, None) => Err(format!(
            "missing field `project` (or `group`){HINT}add `project: PATH` or `group: PATH`"
        )),
    }
}

/// `project` and `group` from an owner.
pub(crate) fn split_owner(owner: GitlabOwner) -> (Option<String>, Option<String>) {
    match owner {
        GitlabOwner::Project(p) => (Some(p), None),
        GitlabOwner::Group(g) => (None, Some(g)),
    }
}
