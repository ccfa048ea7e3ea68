//! The administrator's shortcut of the check scan: instead of one token list per project and
//! subgroup, one instance-wide list of active tokens expiring within the window (project and
//! group tokens are personal access tokens of their bot users), then one user lookup per
//! distinct owner to learn which project or group each bot belongs to (its user name is
//! `project_<id>_bot_…` or `group_<id>_bot_…`). Used only when tokenops's credential is an
//! administrator's and the lookups cost fewer requests than the per-owner lists would.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;
use jiff::civil::Date;

use crate::gitlab::{AccessToken, GitLabClient, TokenFilter, TokenState};
use crate::http::ApiError;
use crate::manifest::GitlabOwner;

/// Scope projects and groups by numeric id.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Project id to full path.
    pub projects: BTreeMap<u64, String>,
    /// Group id to full path.
    pub groups: BTreeMap<u64, String>,
}

impl Candidates {
    /// How many per-owner lists the shortcut would replace.
    pub fn len(&self) -> usize {
        self.projects.len() + self.groups.len()
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scope owner a bot user name points at, if any.
    fn owner_of(&self, username: &str) -> Option<GitlabOwner> {
        let (project, rest) = match username.strip_prefix("project_") {
            Some(rest) => (true, rest),
            None => (false, username.strip_prefix("group_")?),
        };
        let (id, tail) = rest.split_once('_')?;
        if !tail.starts_with("bot") {
            return None;
        }
        let id: u64 = id.parse().ok()?;
        if project {
            self.projects.get(&id).cloned().map(GitlabOwner::Project)
        } else {
            self.groups.get(&id).cloned().map(GitlabOwner::Group)
        }
    }
}

/// Active tokens of the candidates expiring on or before `before`, by owner; `None` when
/// the shortcut does not apply (not an administrator, or more owners to look up than it saves).
pub async fn expiring_by_owner(
    client: &GitLabClient,
    before: Date,
    candidates: &Candidates,
) -> Result<Option<Vec<(GitlabOwner, AccessToken)>>, ApiError> {
    if candidates.is_empty() || client.current_user().await?.is_admin != Some(true) {
        return Ok(None);
    }
    let filter = TokenFilter {
        state: Some(TokenState::Active),
        expires_before: Some(before),
        ..TokenFilter::default()
    };
    let tokens = client.list_personal_tokens(&filter).await?;
    let users: BTreeSet<u64> = tokens.iter().filter_map(|t| t.user_id).collect();
    if users.len() * 2 > candidates.len() {
        return Ok(None);
    }
    let mut owners = BTreeMap::new();
    for user in join_all(users.iter().map(|id| client.user(*id))).await {
        let user = user?;
        if let Some(owner) = candidates.owner_of(&user.username) {
            owners.insert(user.id, owner);
        }
    }
    Ok(Some(
        tokens
            .into_iter()
            .filter_map(|t| {
                let owner = owners.get(&t.user_id?)?.clone();
                Some((owner, t))
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_names_point_at_scope_owners_only() {
        let mut c = Candidates::default();
        c.projects.insert(12, "ops/sync".into());
        c.groups.insert(7, "ops/tools".into());
        assert_eq!(
            c.owner_of("project_12_bot_3f9a"),
            Some(GitlabOwner::Project("ops/sync".into()))
        );
        assert_eq!(
            c.owner_of("group_7_bot_77"),
            Some(GitlabOwner::Group("ops/tools".into()))
        );
        assert_eq!(c.owner_of("project_13_bot_1"), None);
        assert_eq!(c.owner_of("project_12_robot"), None);
        assert_eq!(c.owner_of("ops-bot"), None);
    }
}
