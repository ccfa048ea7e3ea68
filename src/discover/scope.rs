//! The discovery scopes of `check.discover`: every active token of the listed users, of the
//! projects and subgroups under the listed groups (their deploy tokens, and their pipeline
//! triggers too where the instance lets those expire), and of the listed Zendesk instances, marked with the manifest
//! token that declares it (if any). Lists already fetched for declared tokens are reused,
//! never fetched twice; for `check`, an administrator's project, group and personal tokens are
//! read whichever way costs fewer requests ([`super::bots`]).

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;
use jiff::civil::Date;

use super::bots::{self, Candidates};
use super::enterprise;
use super::fetch;
use super::lists::{Fetched, ListKey, Listing};
use super::{Clients, Failure};
use crate::gitlab::{GitLabClient, TokenFilter, TokenState};
use crate::inventory::{DiscoveredToken, LiveRecord};
use crate::kinds::TokenKindId;
use crate::kinds::gitlab::record_of;
use crate::kinds::tokens::gitlab_deploy_token::record_of as deploy_record;
use crate::manifest::{Desired, GitlabOwner};

/// Which token kinds a scan covers, and how narrowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanKinds {
    /// Pipeline trigger tokens of every project in scope (one more list per project).
    pub triggers: bool,
    /// Only active GitLab tokens expiring on or before this day (`state=active` and
    /// `expires_before`, filtered by the server). Lists a declared token needs anyway are
    /// read whole and filtered here instead.
    pub expires_before: Option<Date>,
    /// Zendesk OAuth tokens of the listed Zendesk instances.
    pub zendesk_oauth: bool,
    /// Deploy tokens of every project and group in scope (one more list per owner).
    pub deploy_tokens: bool,
}

impl ScanKinds {
    fn wants(&self, record: &LiveRecord) -> bool {
        record.active
            && self
                .expires_before
                .is_none_or(|before| record.expires_at.is_some_and(|e| e <= before))
    }

    /// The key that lists the personal tokens of `user`: the whole list when a declared
    /// token needs it anyway, else the server-filtered one.
    fn user_key(&self, fetched: &Fetched, gitlab: &str, user: &str) -> ListKey {
        let whole = ListKey::GitlabUserTokens {
            gitlab: gitlab.to_string(),
            user: user.to_string(),
        };
        match self.expires_before {
            Some(before) if fetched.get(&whole).is_none() => ListKey::GitlabUserTokensExpiring {
                gitlab: gitlab.to_string(),
                user: user.to_string(),
                before,
            },
            _ => whole,
        }
    }

    /// Like [`ScanKinds::user_key`], for the access tokens of a project or group.
    fn owner_key(&self, fetched: &Fetched, gitlab: &str, owner: GitlabOwner) -> ListKey {
        let whole = ListKey::GitlabOwnerTokens {
            gitlab: gitlab.to_string(),
            owner: owner.clone(),
        };
        match self.expires_before {
            Some(before) if fetched.get(&whole).is_none() => ListKey::GitlabOwnerTokensExpiring {
                gitlab: gitlab.to_string(),
                owner,
                before,
            },
            _ => whole,
        }
    }
}

/// The GitLab instance the scopes refer to: the report's instance, else the first declared.
fn scope_gitlab(desired: &Desired) -> Option<String> {
    let check = &desired.config.check;
    check
        .report
        .as_ref()
        .map(|r| r.gitlab.clone())
        .or_else(|| desired.config.gitlab.first().map(|g| g.name.clone()))
}

/// Scans the discovery scopes; `fetched` holds lists already read, and gains the new ones.
pub async fn scan(
    desired: &Desired,
    clients: &Clients,
    fetched: &mut Fetched,
    kinds: ScanKinds,
) -> (Vec<DiscoveredToken>, Vec<Failure>) {
    let scope = &desired.config.check.discover;
    let mut failures = Vec::new();
    let mut keys = BTreeSet::new();
    let mut early = Vec::new();
    if let Some(gitlab) = scope_gitlab(desired)
        && let Some(client) = clients.gitlab.get(&gitlab)
    {
        let (found, gitlab_failures, gitlab_keys) =
            scan_gitlab(desired, client, &gitlab, fetched, kinds).await;
        early = found;
        failures = gitlab_failures;
        keys = gitlab_keys;
    }
    for zendesk in &scope.zendesk {
        keys.insert(ListKey::ZendeskApiTokens {
            zendesk: zendesk.clone(),
        });
        if kinds.zendesk_oauth {
            keys.insert(ListKey::ZendeskOauthTokens {
                zendesk: zendesk.clone(),
            });
            keys.insert(ListKey::ZendeskOauthClients {
                zendesk: zendesk.clone(),
            });
        }
    }
    keys.retain(|k| fetched.get(k).is_none());
    fetched.extend(fetch::run(&keys, clients).await);

    let mut found = early;
    let gitlab = scope_gitlab(desired).unwrap_or_default();
    for user in &scope.gitlab_users {
        let key = kinds.user_key(fetched, &gitlab, user);
        if let Some(Ok(Listing::Tokens(tokens))) = fetched.get(&key) {
            for record in tokens.iter().map(record_of).filter(|r| kinds.wants(r)) {
                found.push(discovered(
                    desired,
                    &gitlab,
                    TokenKindId::GitlabPersonalAccessToken.key(),
                    user,
                    record,
                ));
            }
        }
    }
    let mut owners_seen = BTreeSet::new();
    for key in fetched.keys() {
        match key {
            ListKey::GitlabOwnerTokens { gitlab: g, owner }
            | ListKey::GitlabOwnerTokensExpiring {
                gitlab: g, owner, ..
            } if *g == gitlab
                && in_scope(desired, owner)
                && kinds.owner_key(fetched, g, owner.clone()) == *key
                && owners_seen.insert(owner.clone()) =>
            {
                if let Some(Ok(Listing::Tokens(tokens))) = fetched.get(key) {
                    let (kind, path) = match owner {
                        GitlabOwner::Project(p) => (TokenKindId::GitlabProjectAccessToken.key(), p),
                        GitlabOwner::Group(g) => (TokenKindId::GitlabGroupAccessToken.key(), g),
                    };
                    for record in tokens.iter().map(record_of).filter(|r| kinds.wants(r)) {
                        found.push(discovered(desired, &gitlab, kind, path, record));
                    }
                }
            }
            ListKey::GitlabDeployTokens { gitlab: g, owner }
                if kinds.deploy_tokens && *g == gitlab && in_scope(desired, owner) =>
            {
                if let Some(Ok(Listing::DeployTokens(tokens))) = fetched.get(key) {
                    for record in tokens.iter().map(deploy_record).filter(|r| kinds.wants(r)) {
                        found.push(discovered(
                            desired,
                            &gitlab,
                            TokenKindId::GitlabDeployToken.key(),
                            &owner.path(),
                            record,
                        ));
                    }
                }
            }
            ListKey::GitlabTriggers { gitlab: g, project }
                if kinds.triggers
                    && *g == gitlab
                    && in_scope(desired, &GitlabOwner::Project(project.clone())) =>
            {
                if let Some(Ok(Listing::Triggers(triggers))) = fetched.get(key) {
                    for t in triggers {
                        if let (Some(before), Some(expires)) = (kinds.expires_before, t.expires_at)
                            && crate::time::utc_date(expires) > before
                        {
                            continue;
                        }
                        let record = LiveRecord {
                            platform_id: t.id.to_string(),
                            name: t.description.clone().unwrap_or_default(),
                            expires_at: t.expires_at.map(crate::time::utc_date),
                            expires_at_time: t.expires_at,
                            active: true,
                            last_used_at: t.last_used,
                            user_id: t.owner.as_ref().map(|o| o.id),
                            ..LiveRecord::default()
                        };
                        found.push(discovered(
                            desired,
                            &gitlab,
                            TokenKindId::GitlabPipelineTriggerToken.key(),
                            project,
                            record,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    for zendesk in &scope.zendesk {
        if let Some(Ok(Listing::ApiTokens(tokens))) = fetched.get(&ListKey::ZendeskApiTokens {
            zendesk: zendesk.clone(),
        }) {
            for t in tokens {
                let record = LiveRecord {
                    platform_id: t.id.to_string(),
                    name: t.description.clone().unwrap_or_default(),
                    active: t.active,
                    last_used_at: t.last_used(),
                    user_id: t.user_id,
                    ..LiveRecord::default()
                };
                found.push(discovered(
                    desired,
                    zendesk,
                    TokenKindId::ZendeskApiToken.key(),
                    zendesk,
                    record,
                ));
            }
        }
    }
    if kinds.zendesk_oauth {
        for zendesk in &scope.zendesk {
            found.extend(oauth_tokens(desired, fetched, zendesk, kinds));
        }
    }
    (found, failures)
}

/// The GitLab part of the scan: the listed users' personal tokens and the project and group
/// tokens under the listed groups. Returns what it found itself, what failed, and the lists
/// still to fetch. For `check` (a window is set) the listed users are looked up and the
/// groups listed together with learning whether the credential is an administrator's; then
/// the project, group and personal tokens are read the cheapest way ([`bots::instance_wide`]),
/// else one filtered list per owner and per user.
async fn scan_gitlab(
    desired: &Desired,
    client: &GitLabClient,
    gitlab: &str,
    fetched: &Fetched,
    kinds: ScanKinds,
) -> (Vec<DiscoveredToken>, Vec<Failure>, BTreeSet<ListKey>) {
    let scope = &desired.config.check.discover;
    let mut failures = Vec::new();
    let mut keys = BTreeSet::new();
    let mut found = Vec::new();
    // Users whose whole list a declared token needs anyway, and everyone outside `check`,
    // go through the shared lists; the others are read here.
    let direct: Vec<&String> = scope
        .gitlab_users
        .iter()
        .filter(|user| {
            let key = kinds.user_key(fetched, gitlab, user);
            let direct = matches!(key, ListKey::GitlabUserTokensExpiring { .. });
            if !direct {
                keys.insert(key);
            }
            direct
        })
        .collect();
    let whoami = async {
        match kinds.expires_before {
            Some(_) => client.current_user().await.ok(),
            None => None,
        }
    };
    let lookups = join_all(direct.iter().map(|user| client.user_by_username(user)));
    let listings = join_all(scope.gitlab_groups.iter().map(|group| async move {
        let (projects, subgroups) = futures_util::future::join(
            client.group_projects(group, true),
            client.descendant_groups(group),
        )
        .await;
        (group, projects, subgroups)
    }));
    let (me, looked_up, groups) = futures_util::future::join3(whoami, lookups, listings).await;
    let admin = me.is_some_and(|me| me.is_admin == Some(true));
    let mut users = BTreeMap::new();
    for (name, result) in direct.iter().zip(looked_up) {
        match result {
            Ok(Some(user)) => {
                users.insert(user.id, (*name).clone());
            }
            Ok(None) => failures.push(Failure {
                needed_by: format!("check.discover.gitlab_users {name}"),
                reason: format!(
                    "{gitlab}: no user named `{name}`; check `check.discover.gitlab_users` in \
                     tokenops.yaml"
                ),
            }),
            Err(err) => failures.push(Failure {
                needed_by: format!("check.discover.gitlab_users {name}"),
                reason: err.to_string(),
            }),
        }
    }
    // Projects, subgroups and the listed groups whose lists no declared token needs: read
    // instance-wide when that is cheaper, else one filtered list each.
    let mut candidates = Candidates::default();
    for (group, projects, subgroups) in groups {
        let (projects, subgroups) = match (projects, subgroups) {
            (Ok(projects), Ok(subgroups)) => (projects, subgroups),
            (Err(err), _) | (_, Err(err)) => {
                failures.push(Failure {
                    needed_by: format!("check.discover group {group}"),
                    reason: err.to_string(),
                });
                continue;
            }
        };
        // The listed group's own id, when a project or subgroup in it says it.
        let group_id = projects
            .iter()
            .filter_map(|p| p.namespace.as_ref())
            .find(|n| n.full_path == *group)
            .map(|n| n.id)
            .or_else(|| {
                subgroups
                    .iter()
                    .find(|g| {
                        g.full_path
                            .rsplit_once('/')
                            .is_some_and(|(up, _)| up == group)
                    })
                    .and_then(|g| g.parent_id)
            });
        let owners = group_id
            .map(|id| (id, GitlabOwner::Group(group.clone())))
            .into_iter()
            .chain(
                projects
                    .into_iter()
                    .map(|p| (p.id, GitlabOwner::Project(p.path_with_namespace))),
            )
            .chain(
                subgroups
                    .into_iter()
                    .map(|g| (g.id, GitlabOwner::Group(g.full_path))),
            );
        if group_id.is_none() {
            keys.insert(kinds.owner_key(fetched, gitlab, GitlabOwner::Group(group.clone())));
        }
        for (id, owner) in owners {
            if kinds.deploy_tokens {
                keys.insert(ListKey::GitlabDeployTokens {
                    gitlab: gitlab.to_string(),
                    owner: owner.clone(),
                });
            }
            if let GitlabOwner::Project(path) = &owner
                && kinds.triggers
            {
                keys.insert(ListKey::GitlabTriggers {
                    gitlab: gitlab.to_string(),
                    project: path.clone(),
                });
            }
            let key = kinds.owner_key(fetched, gitlab, owner.clone());
            match (&key, owner) {
                (ListKey::GitlabOwnerTokensExpiring { .. }, GitlabOwner::Project(p)) => {
                    candidates.projects.insert(id, p);
                }
                (ListKey::GitlabOwnerTokensExpiring { .. }, GitlabOwner::Group(g)) => {
                    candidates.groups.insert(id, g);
                }
                _ => {
                    keys.insert(key);
                }
            }
        }
    }
    let instance_wide = match kinds.expires_before {
        Some(before) if admin => bots::instance_wide(client, before, &candidates, &users)
            .await
            .unwrap_or_else(|err| {
                tracing::debug!("instance-wide token list not used: {err}");
                None
            }),
        _ => None,
    };
    let personal = match instance_wide {
        Some(read) => {
            tracing::debug!(
                tokens = read.owned.len(),
                placed_by = read.placed_by,
                "project and group tokens read instance-wide"
            );
            for (owner, token) in read.owned {
                let (kind, path) = match &owner {
                    GitlabOwner::Project(p) => (TokenKindId::GitlabProjectAccessToken.key(), p),
                    GitlabOwner::Group(g) => (TokenKindId::GitlabGroupAccessToken.key(), g),
                };
                let record = record_of(&token);
                if kinds.wants(&record) {
                    found.push(discovered(desired, gitlab, kind, path, record));
                }
            }
            let mut personal = read.personal;
            users
                .keys()
                .map(|id| (*id, Ok(personal.remove(id).unwrap_or_default())))
                .collect::<Vec<_>>()
        }
        None => {
            for path in candidates.projects.into_values() {
                keys.insert(kinds.owner_key(fetched, gitlab, GitlabOwner::Project(path)));
            }
            for path in candidates.groups.into_values() {
                keys.insert(kinds.owner_key(fetched, gitlab, GitlabOwner::Group(path)));
            }
            let before = kinds.expires_before;
            // GitLab.com's credentials inventory, where the credential is an Owner of a listed
            // top-level group: every enterprise user's expiring personal tokens in one list.
            let url = desired
                .config
                .gitlab
                .iter()
                .find(|g| g.name == gitlab)
                .map_or("", |g| g.url.as_str());
            let managed = match before {
                Some(day) if enterprise::applies(url, admin) => {
                    enterprise::read(client, &scope.gitlab_groups, day, &users).await
                }
                _ => None,
            };
            let mut listed = Vec::new();
            if let Some(mut managed) = managed {
                for (uid, tokens) in std::mem::take(&mut managed.by_user) {
                    if users.contains_key(&uid) {
                        listed.push((uid, Ok(tokens)));
                        continue;
                    }
                    let name = managed.names.get(&uid).cloned().unwrap_or_default();
                    for record in tokens.iter().map(record_of).filter(|r| kinds.wants(r)) {
                        found.push(discovered(
                            desired,
                            gitlab,
                            TokenKindId::GitlabPersonalAccessToken.key(),
                            &name,
                            record,
                        ));
                    }
                }
            }
            let from_inventory: BTreeSet<u64> = listed.iter().map(|(id, _)| *id).collect();
            let mut lists = join_all(users.keys().filter(|id| !from_inventory.contains(id)).map(
                |id| async move {
                    let filter = TokenFilter {
                        user_id: Some(*id),
                        state: Some(TokenState::Active),
                        expires_before: before,
                        ..TokenFilter::default()
                    };
                    (*id, client.list_personal_tokens(&filter).await)
                },
            ))
            .await;
            lists.extend(listed);
            lists
        }
    };
    for (id, tokens) in personal {
        let name = &users[&id];
        match tokens {
            Ok(tokens) => {
                for record in tokens.iter().map(record_of).filter(|r| kinds.wants(r)) {
                    found.push(discovered(
                        desired,
                        gitlab,
                        TokenKindId::GitlabPersonalAccessToken.key(),
                        name,
                        record,
                    ));
                }
            }
            Err(err) => failures.push(Failure {
                needed_by: format!("check.discover.gitlab_users {name}"),
                reason: err.to_string(),
            }),
        }
    }
    (found, failures, keys)
}

/// The OAuth tokens of a Zendesk instance, named by their client's identifier.
fn oauth_tokens(
    desired: &Desired,
    fetched: &Fetched,
    zendesk: &str,
    kinds: ScanKinds,
) -> Vec<DiscoveredToken> {
    let clients = match fetched.get(&ListKey::ZendeskOauthClients {
        zendesk: zendesk.to_string(),
    }) {
        Some(Ok(Listing::OauthClients(clients))) => clients.clone(),
        _ => Vec::new(),
    };
    let Some(Ok(Listing::OauthTokens(tokens))) = fetched.get(&ListKey::ZendeskOauthTokens {
        zendesk: zendesk.to_string(),
    }) else {
        return Vec::new();
    };
    tokens
        .iter()
        .map(|t| {
            let client = t
                .client_id
                .and_then(|id| clients.iter().find(|c| c.id == id));
            let name = client
                .map(|c| c.identifier.clone())
                .or_else(|| t.client_id.map(|id| format!("client {id}")))
                .unwrap_or_default();
            LiveRecord {
                platform_id: t.id.to_string(),
                name,
                scopes: t.scopes.clone(),
                expires_at: t.expires_at.map(crate::time::utc_date),
                expires_at_time: t.expires_at,
                active: true,
                last_used_at: t.used_at,
                user_id: t.user_id,
                ..LiveRecord::default()
            }
        })
        .filter(|r| {
            kinds
                .expires_before
                .is_none_or(|before| r.expires_at.is_some_and(|e| e <= before))
        })
        .map(|r| {
            discovered(
                desired,
                zendesk,
                TokenKindId::ZendeskOauthToken.key(),
                zendesk,
                r,
            )
        })
        .collect()
}

/// Whether an owner lies under one of the listed groups.
fn in_scope(desired: &Desired, owner: &GitlabOwner) -> bool {
    let path = match owner {
        GitlabOwner::Project(p) | GitlabOwner::Group(p) => p,
    };
    desired
        .config
        .check
        .discover
        .gitlab_groups
        .iter()
        .any(|g| path == g || path.starts_with(&format!("{g}/")))
}

fn discovered(
    desired: &Desired,
    platform: &str,
    kind: &str,
    owner: &str,
    record: LiveRecord,
) -> DiscoveredToken {
    let mut found = DiscoveredToken {
        platform: platform.to_string(),
        kind: kind.to_string(),
        owner: owner.to_string(),
        record,
        declared_by: None,
    };
    found.declared_by = desired
        .tokens
        .iter()
        .find(|d| d.spec.kind.driver().declares(&found))
        .map(|d| d.spec.id.clone());
    found
}
