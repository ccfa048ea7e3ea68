//! GitLab.com's credentials inventory in `check`: where the run's credential is an Owner of a
//! listed top-level group, one filtered list (`GET /groups/:id/manage/personal_access_tokens`,
//! GitLab 18.7) gives the expiring personal tokens of every enterprise user the group manages,
//! as the runbook's Token Checker reported them, without an administrator's credential. It
//! is tried only where it can exist (the instance is gitlab.com, the credential is no
//! administrator's, the group is top-level); a 403 or 404 falls back to the per-user lists.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use jiff::civil::Date;

use crate::gitlab::{AccessToken, GitLabClient, TokenFilter, TokenState};
use crate::http::ApiError;

/// What the inventory gave: tokens by owner id, and the owners' usernames.
#[derive(Debug, Default)]
pub struct Managed {
    /// Active personal tokens expiring by the window's end, by owner id.
    pub by_user: BTreeMap<u64, Vec<AccessToken>>,
    /// Usernames of the owners (the inventory gives ids only); unknown when a lookup failed.
    pub names: BTreeMap<u64, String>,
}

/// Whether the inventory can exist for this instance and credential: GitLab.com only, and
/// an administrator reads every token instance-wide anyway.
pub fn applies(url: &str, admin: bool) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    !admin && host.eq_ignore_ascii_case("gitlab.com")
}

/// Reads the inventory of every listed top-level group; `None` when none answers (not an
/// Owner, not on this instance), so the caller does what it did before. `known` names the
/// users already looked up; the others are looked up once each.
pub async fn read(
    client: &GitLabClient,
    groups: &[String],
    before: Date,
    known: &BTreeMap<u64, String>,
) -> Option<Managed> {
    let filter = TokenFilter {
        state: Some(TokenState::Active),
        expires_before: Some(before),
        ..TokenFilter::default()
    };
    let top: Vec<&String> = groups.iter().filter(|g| !g.contains('/')).collect();
    let answers = join_all(
        top.iter()
            .map(|g| client.list_managed_personal_tokens(g, &filter)),
    )
    .await;
    let mut managed = Managed::default();
    let mut answered = false;
    for (group, answer) in top.iter().zip(answers) {
        match answer {
            Ok(tokens) => {
                answered = true;
                for t in tokens {
                    if let Some(uid) = t.user_id {
                        let list = managed.by_user.entry(uid).or_default();
                        if !list.iter().any(|x| x.id == t.id) {
                            list.push(t);
                        }
                    }
                }
            }
            Err(e @ (ApiError::Forbidden { .. } | ApiError::NotFound { .. })) => {
                tracing::debug!("credentials inventory of {group} not used: {e}");
            }
            Err(e) => {
                tracing::debug!("credentials inventory of {group} not read: {e}");
            }
        }
    }
    if !answered {
        return None;
    }
    let unknown: Vec<u64> = managed
        .by_user
        .keys()
        .filter(|id| !known.contains_key(id))
        .copied()
        .collect();
    let looked_up = join_all(unknown.iter().map(|id| client.user(*id))).await;
    for (id, user) in unknown.into_iter().zip(looked_up) {
        let name = match user {
            Ok(u) => u.username,
            Err(_) => format!("user #{id}"),
        };
        managed.names.insert(id, name);
    }
    for (id, name) in known {
        managed.names.insert(*id, name.clone());
    }
    Some(managed)
}
