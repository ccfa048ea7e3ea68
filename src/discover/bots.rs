//! The administrator's ways of reading the check scan's project and group tokens, and the
//! choice between them by what each costs.
//!
//! Project and group tokens are personal access tokens of their bot users (`project_<id>_bot…`,
//! `group_<id>_bot…`), so an administrator can read every active token expiring in the window
//! from one instance-wide list (a page per 100 tokens) instead of one list per project and
//! subgroup. What the list does not say is which project or group a token's bot belongs to;
//! that costs either one user lookup per distinct owner, or the pages of the instance's bot
//! users (one search, a page per 100 bots), whichever is fewer.
//!
//! The choice is made from what is known before each request is spent: the per-owner way costs
//! one request per owner; the instance-wide way at least the list's pages, which its first page
//! counts. Only when that first page shows the list is cheaper is the rest read; only then is
//! the cost of placing the owners compared (the bot users' first page counts them too).

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;
use jiff::civil::Date;

use crate::gitlab::{AccessToken, GitLabClient, TokenFilter, TokenState, User};
use crate::http::ApiError;
use crate::manifest::GitlabOwner;

/// What the bot users' search asks for: every project and group bot's user name contains it.
pub const BOT_SEARCH: &str = "_bot";

/// Scope projects and groups by numeric id.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Project id to full path.
    pub projects: BTreeMap<u64, String>,
    /// Group id to full path.
    pub groups: BTreeMap<u64, String>,
}

impl Candidates {
    /// How many per-owner lists the instance-wide list would replace.
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

/// What the instance-wide list found.
#[derive(Debug, Default)]
pub struct InstanceWide {
    /// Active tokens of the candidates expiring in the window, by owner.
    pub owned: Vec<(GitlabOwner, AccessToken)>,
    /// Active tokens of the listed users expiring in the window, by user id.
    pub personal: BTreeMap<u64, Vec<AccessToken>>,
    /// How the owners were placed, for the debug log.
    pub placed_by: &'static str,
}

/// Active tokens expiring on or before `before` of the candidates and of `users` (id to
/// user name, whose personal lists the per-owner way would read), read instance-wide; `None`
/// when the per-owner lists cost fewer requests. The caller has made sure the credential is
/// an administrator's.
pub async fn instance_wide(
    client: &GitLabClient,
    before: Date,
    candidates: &Candidates,
    users: &BTreeMap<u64, String>,
) -> Result<Option<InstanceWide>, ApiError> {
    // The per-owner way: one list per owner and per listed user.
    let per_owner = (candidates.len() + users.len()) as u64;
    if candidates.is_empty() || per_owner <= 1 {
        return Ok(None);
    }
    let filter = TokenFilter {
        state: Some(TokenState::Active),
        expires_before: Some(before),
        ..TokenFilter::default()
    };
    let first = client.personal_tokens_first_page(&filter).await?;
    // From here the per-owner way still costs `per_owner`; this one at least the rest of the
    // list, and one more request if any token's owner is yet to be placed.
    let unplaced = first
        .items
        .iter()
        .any(|t| t.user_id.is_some_and(|id| !users.contains_key(&id)));
    if first.pages_left() + u64::from(unplaced) >= per_owner {
        tracing::debug!(
            pages = first.pages_left() + 1,
            per_owner,
            "instance-wide token list not used: the per-owner lists cost less"
        );
        return Ok(None);
    }
    let tokens = client.api().gitlab_rest(first).await?;
    let owners: BTreeSet<u64> = tokens
        .iter()
        .filter_map(|t| t.user_id)
        .filter(|id| !users.contains_key(id))
        .collect();
    let Some((names, placed_by)) = place(client, &owners, per_owner).await? else {
        return Ok(None);
    };
    let mut found = InstanceWide {
        placed_by,
        ..InstanceWide::default()
    };
    for token in tokens {
        let Some(user) = token.user_id else { continue };
        if users.contains_key(&user) {
            found.personal.entry(user).or_default().push(token);
        } else if let Some(owner) = names.get(&user).and_then(|n| candidates.owner_of(n)) {
            found.owned.push((owner, token));
        }
    }
    Ok(Some(found))
}

/// The user names of `owners`, by the cheaper of one lookup each and the bot users' pages;
/// `None` when both cost more than the `per_owner` lists would.
async fn place(
    client: &GitLabClient,
    owners: &BTreeSet<u64>,
    per_owner: u64,
) -> Result<Option<(BTreeMap<u64, String>, &'static str)>, ApiError> {
    let lookups = owners.len() as u64;
    if lookups == 0 {
        return Ok(Some((BTreeMap::new(), "nobody")));
    }
    // The bot users' first page costs one request, so it can only pay off for 3 owners or more.
    if lookups >= 3 {
        let first = client.search_users_first_page(BOT_SEARCH).await?;
        // Without totals (more than 10,000 matches) the pages are at least 100.
        let pages = match first.total_pages {
            Some(pages) => pages.max(1),
            None => 100 + first.pages_left(),
        };
        let listing = pages - 1;
        if listing < lookups && listing < per_owner {
            let bots = client.api().gitlab_rest(first).await?;
            let mut names = by_id(bots, owners);
            // Anyone the search did not return is looked up: no owner is left unplaced.
            let missing: BTreeSet<u64> = owners
                .iter()
                .copied()
                .filter(|id| !names.contains_key(id))
                .collect();
            names.extend(look_up(client, &missing).await?);
            return Ok(Some((names, "the bot users' pages")));
        }
    }
    if lookups >= per_owner {
        tracing::debug!(
            lookups,
            per_owner,
            "instance-wide token list not used: placing its owners costs more"
        );
        return Ok(None);
    }
    Ok(Some((
        look_up(client, owners).await?,
        "one lookup per owner",
    )))
}

fn by_id(users: Vec<User>, wanted: &BTreeSet<u64>) -> BTreeMap<u64, String> {
    users
        .into_iter()
        .filter(|u| wanted.contains(&u.id))
        .map(|u| (u.id, u.username))
        .collect()
}

async fn look_up(
    client: &GitLabClient,
    ids: &BTreeSet<u64>,
) -> Result<BTreeMap<u64, String>, ApiError> {
    let mut names = BTreeMap::new();
    for user in join_all(ids.iter().map(|id| client.user(*id))).await {
        let user = user?;
        names.insert(user.id, user.username);
    }
    Ok(names)
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
            c.owner_of("project_12_bot2"),
            Some(GitlabOwner::Project("ops/sync".into()))
        );
        assert_eq!(
            c.owner_of("group_7_bot_77"),
            Some(GitlabOwner::Group("ops/tools".into()))
        );
        assert_eq!(c.owner_of("project_13_bot_1"), None);
        assert_eq!(c.owner_of("project_12_robot"), None);
        assert_eq!(c.owner_of("ops-bot"), None);
        assert!(
            BOT_SEARCH.len() >= 3,
            "GitLab matches parts only from 3 characters"
        );
    }
}
