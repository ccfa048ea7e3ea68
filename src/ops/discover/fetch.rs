//! The reads discovery makes: which lists the declared tokens and consumers need (each
//! fetched once), running them concurrently, and the follow-up probes that ask a platform
//! who a value found in a consumer authenticates as.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;
use jiff::civil::Date;
use secrecy::SecretString;

use super::{Clients, Failure};
use crate::gitlab::{AccessToken, Hook, Owner, TokenFilter, TokenState, Trigger, Variable};
use crate::http::ApiError;
use crate::inventory::Holds;
use crate::manifest::{ConsumerSpec, Desired, GitlabOwner, TokenKind};
use crate::zendesk::{ApiToken, App, Installation, OAuthClient, OAuthToken, Webhook};

/// One list (or lookup) on one platform instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ListKey {
    /// Personal access tokens of a user (looked up by user name first).
    GitlabUserTokens { gitlab: String, user: String },
    /// Access tokens of a project or group.
    GitlabOwnerTokens { gitlab: String, owner: GitlabOwner },
    /// Active personal access tokens of a user that expire on or before `before` (the
    /// server-side filters keep the answer to the few that matter).
    GitlabUserTokensExpiring {
        gitlab: String,
        user: String,
        before: Date,
    },
    /// Active access tokens of a project or group that expire on or before `before`.
    GitlabOwnerTokensExpiring {
        gitlab: String,
        owner: GitlabOwner,
        before: Date,
    },
    /// Pipeline triggers of a project.
    GitlabTriggers { gitlab: String, project: String },
    /// CI/CD variables of a project or group.
    GitlabVariables { gitlab: String, owner: GitlabOwner },
    /// Webhooks of a project or group.
    GitlabHooks { gitlab: String, owner: GitlabOwner },
    /// Zendesk webhooks.
    ZendeskWebhooks { zendesk: String },
    /// Zendesk app installations.
    ZendeskInstallations { zendesk: String },
    /// Zendesk apps the account owns (their parameters say which settings are secure).
    ZendeskOwnedApps { zendesk: String },
    /// Zendesk OAuth clients.
    ZendeskOauthClients { zendesk: String },
    /// Zendesk OAuth tokens (all users).
    ZendeskOauthTokens { zendesk: String },
    /// Legacy Zendesk API tokens.
    ZendeskApiTokens { zendesk: String },
}

impl ListKey {
    fn describe(&self) -> String {
        match self {
            ListKey::GitlabUserTokens { gitlab, user } => {
                format!("{gitlab}: personal access tokens of {user}")
            }
            ListKey::GitlabOwnerTokens { gitlab, owner } => {
                format!("{gitlab}: access tokens of {}", owner.path())
            }
            ListKey::GitlabUserTokensExpiring {
                gitlab,
                user,
                before,
            } => {
                format!("{gitlab}: active personal access tokens of {user} expiring by {before}")
            }
            ListKey::GitlabOwnerTokensExpiring {
                gitlab,
                owner,
                before,
            } => format!(
                "{gitlab}: active access tokens of {} expiring by {before}",
                owner.path()
            ),
            ListKey::GitlabTriggers { gitlab, project } => {
                format!("{gitlab}: pipeline triggers of project {project}")
            }
            ListKey::GitlabVariables { gitlab, owner } => {
                format!("{gitlab}: CI/CD variables of {}", owner.path())
            }
            ListKey::GitlabHooks { gitlab, owner } => {
                format!("{gitlab}: webhooks of {}", owner.path())
            }
            ListKey::ZendeskWebhooks { zendesk } => format!("{zendesk}: webhooks"),
            ListKey::ZendeskInstallations { zendesk } => format!("{zendesk}: app installations"),
            ListKey::ZendeskOwnedApps { zendesk } => format!("{zendesk}: owned apps"),
            ListKey::ZendeskOauthClients { zendesk } => format!("{zendesk}: OAuth clients"),
            ListKey::ZendeskOauthTokens { zendesk } => format!("{zendesk}: OAuth tokens"),
            ListKey::ZendeskApiTokens { zendesk } => format!("{zendesk}: API tokens"),
        }
    }
}

/// The answer to one list.
#[derive(Debug, Clone)]
pub enum Listing {
    /// Access tokens.
    Tokens(Vec<AccessToken>),
    /// Triggers.
    Triggers(Vec<Trigger>),
    /// Variables.
    Variables(Vec<Variable>),
    /// Hooks.
    Hooks(Vec<Hook>),
    /// Zendesk webhooks.
    Webhooks(Vec<Webhook>),
    /// Zendesk installations.
    Installations(Vec<Installation>),
    /// Zendesk owned apps.
    OwnedApps(Vec<App>),
    /// Zendesk OAuth clients.
    OauthClients(Vec<OAuthClient>),
    /// Zendesk OAuth tokens.
    OauthTokens(Vec<OAuthToken>),
    /// Zendesk API tokens.
    ApiTokens(Vec<ApiToken>),
}

/// Every list discovery fetched, or why it could not.
#[derive(Debug, Default)]
pub struct Fetched {
    results: BTreeMap<ListKey, Result<Listing, String>>,
}

impl Fetched {
    /// The listing for `key`: `None` when it was not needed, `Err` when it failed (the
    /// failure itself is reported once, by [`Fetched::failures`]).
    pub fn get(&self, key: &ListKey) -> Option<Result<&Listing, ()>> {
        self.results.get(key).map(|r| r.as_ref().map_err(|_| ()))
    }

    /// Every list that failed.
    pub fn failures(&self) -> Vec<Failure> {
        self.results
            .iter()
            .filter_map(|(key, result)| {
                result.as_ref().err().map(|reason| Failure {
                    needed_by: key.describe(),
                    reason: reason.clone(),
                })
            })
            .collect()
    }

    /// Adds the lists of `other`.
    pub fn extend(&mut self, other: Fetched) {
        self.results.extend(other.results);
    }

    /// The lists fetched.
    pub fn keys(&self) -> impl Iterator<Item = &ListKey> {
        self.results.keys()
    }

    /// Number of lists fetched.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// True when nothing was fetched.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }
}

fn owner_of(owner: &GitlabOwner) -> Owner {
    match owner {
        GitlabOwner::Project(p) => Owner::Project(p.clone()),
        GitlabOwner::Group(g) => Owner::Group(g.clone()),
    }
}

/// The lists the declared tokens and consumers need, each once.
pub fn needs(desired: &Desired) -> BTreeSet<ListKey> {
    let mut needs = BTreeSet::new();
    for declared in &desired.tokens {
        let spec = &declared.spec;
        match &spec.kind {
            TokenKind::GitlabPersonalAccessToken(t) => {
                needs.insert(ListKey::GitlabUserTokens {
                    gitlab: t.gitlab.clone(),
                    user: t.user.clone(),
                });
            }
            TokenKind::GitlabProjectAccessToken(t) => {
                needs.insert(ListKey::GitlabOwnerTokens {
                    gitlab: t.gitlab.clone(),
                    owner: GitlabOwner::Project(t.project.clone()),
                });
            }
            TokenKind::GitlabGroupAccessToken(t) => {
                needs.insert(ListKey::GitlabOwnerTokens {
                    gitlab: t.gitlab.clone(),
                    owner: GitlabOwner::Group(t.group.clone()),
                });
            }
            TokenKind::GitlabPipelineTriggerToken(t) => {
                needs.insert(ListKey::GitlabTriggers {
                    gitlab: t.gitlab.clone(),
                    project: t.project.clone(),
                });
            }
            TokenKind::ZendeskOauthToken(t) => {
                needs.insert(ListKey::ZendeskOauthClients {
                    zendesk: t.zendesk.clone(),
                });
                needs.insert(ListKey::ZendeskOauthTokens {
                    zendesk: t.zendesk.clone(),
                });
            }
            TokenKind::ZendeskOauthClientSecret(t) => {
                needs.insert(ListKey::ZendeskOauthClients {
                    zendesk: t.zendesk.clone(),
                });
            }
            TokenKind::ZendeskApiToken(t) => {
                needs.insert(ListKey::ZendeskApiTokens {
                    zendesk: t.zendesk.clone(),
                });
            }
            TokenKind::GeneratedSecret(_) => {}
        }
        for consumer in &spec.consumers {
            match consumer {
                ConsumerSpec::GitlabCiVariable(v) => {
                    needs.insert(ListKey::GitlabVariables {
                        gitlab: v.gitlab.clone(),
                        owner: v.owner.clone(),
                    });
                }
                ConsumerSpec::GitlabWebhook(h) => {
                    needs.insert(ListKey::GitlabHooks {
                        gitlab: h.gitlab.clone(),
                        owner: h.owner.clone(),
                    });
                }
                ConsumerSpec::ZendeskWebhook(w) => {
                    needs.insert(ListKey::ZendeskWebhooks {
                        zendesk: w.zendesk.clone(),
                    });
                }
                ConsumerSpec::ZendeskAppSetting(a) => {
                    needs.insert(ListKey::ZendeskInstallations {
                        zendesk: a.zendesk.clone(),
                    });
                    needs.insert(ListKey::ZendeskOwnedApps {
                        zendesk: a.zendesk.clone(),
                    });
                }
                ConsumerSpec::Manual(_) => {}
            }
        }
    }
    needs
}

/// Fetches every list concurrently; the clients bound concurrency and pace requests.
pub async fn run(needs: &BTreeSet<ListKey>, clients: &Clients) -> Fetched {
    let progress = &clients.progress;
    progress.begin("reading live state", needs.len() as u64);
    let results = join_all(needs.iter().map(|key| async move {
        let result = fetch_one(key, clients).await.map_err(|e| e.to_string());
        progress.advance(1);
        (key.clone(), result)
    }))
    .await;
    progress.end();
    Fetched {
        results: results.into_iter().collect(),
    }
}

async fn fetch_one(key: &ListKey, clients: &Clients) -> Result<Listing, FetchError> {
    let gitlab = |name: &str| clients.gitlab_for(name).map_err(FetchError::Config);
    let zendesk = |name: &str| clients.zendesk_for(name).map_err(FetchError::Config);
    Ok(match key {
        ListKey::GitlabUserTokens { gitlab: g, user } => {
            let client = gitlab(g)?;
            let found = client.user_by_username(user).await?;
            let Some(found) = found else {
                return Err(FetchError::Config(format!(
                    "{g}: no user named `{user}`; check the `user` of the token in the manifest"
                )));
            };
            let filter = TokenFilter {
                user_id: Some(found.id),
                ..TokenFilter::default()
            };
            Listing::Tokens(client.list_personal_tokens(&filter).await?)
        }
        ListKey::GitlabUserTokensExpiring {
            gitlab: g,
            user,
            before,
        } => {
            let client = gitlab(g)?;
            let Some(found) = client.user_by_username(user).await? else {
                return Err(FetchError::Config(format!(
                    "{g}: no user named `{user}`; check `check.discover.gitlab_users` in \
                     tokenops.yaml"
                )));
            };
            let filter = TokenFilter {
                user_id: Some(found.id),
                state: Some(TokenState::Active),
                expires_before: Some(*before),
                ..TokenFilter::default()
            };
            Listing::Tokens(client.list_personal_tokens(&filter).await?)
        }
        ListKey::GitlabOwnerTokensExpiring {
            gitlab: g,
            owner,
            before,
        } => {
            let filter = TokenFilter {
                state: Some(TokenState::Active),
                expires_before: Some(*before),
                ..TokenFilter::default()
            };
            Listing::Tokens(
                gitlab(g)?
                    .list_access_tokens_filtered(&owner_of(owner), &filter)
                    .await?,
            )
        }
        ListKey::GitlabOwnerTokens { gitlab: g, owner } => Listing::Tokens(
            gitlab(g)?
                .list_access_tokens(&owner_of(owner), None)
                .await?,
        ),
        ListKey::GitlabTriggers { gitlab: g, project } => {
            Listing::Triggers(gitlab(g)?.list_triggers(project).await?)
        }
        ListKey::GitlabVariables { gitlab: g, owner } => {
            Listing::Variables(gitlab(g)?.list_variables(&owner_of(owner)).await?)
        }
        ListKey::GitlabHooks { gitlab: g, owner } => {
            Listing::Hooks(gitlab(g)?.list_hooks(&owner_of(owner)).await?)
        }
        ListKey::ZendeskWebhooks { zendesk: z } => {
            Listing::Webhooks(zendesk(z)?.list_webhooks(None).await?)
        }
        ListKey::ZendeskInstallations { zendesk: z } => {
            Listing::Installations(zendesk(z)?.list_installations().await?)
        }
        ListKey::ZendeskOwnedApps { zendesk: z } => {
            Listing::OwnedApps(zendesk(z)?.owned_apps().await?)
        }
        ListKey::ZendeskOauthClients { zendesk: z } => {
            Listing::OauthClients(zendesk(z)?.list_oauth_clients().await?)
        }
        ListKey::ZendeskOauthTokens { zendesk: z } => {
            Listing::OauthTokens(zendesk(z)?.list_oauth_tokens(true, None).await?)
        }
        ListKey::ZendeskApiTokens { zendesk: z } => {
            Listing::ApiTokens(zendesk(z)?.list_api_tokens().await?)
        }
    })
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{0}")]
    Config(String),
}

/// A value found in a consumer, to be asked about on its platform.
#[derive(Debug)]
pub struct Probe {
    /// The consumer key the answer belongs to.
    pub consumer: String,
    /// What to ask.
    pub kind: ProbeKind,
}

/// Which introspection answers for a value.
#[derive(Debug)]
pub enum ProbeKind {
    /// `GET /personal_access_tokens/self` with the value, on this GitLab instance.
    GitlabToken { gitlab: String, value: SecretString },
    /// `GET /api/v2/oauth/tokens/current` with the value, on this Zendesk instance.
    ZendeskOauth {
        zendesk: String,
        value: SecretString,
    },
}

/// Runs the probes concurrently. A platform that refuses the value (401) answers the
/// question ("it does not authenticate"); any other failure is a discovery failure.
pub async fn probe_all(
    probes: Vec<Probe>,
    clients: &Clients,
) -> Vec<(String, Result<Holds, String>)> {
    join_all(probes.into_iter().map(|probe| async move {
        let result = match &probe.kind {
            ProbeKind::GitlabToken { gitlab, value } => match clients.gitlab_for(gitlab) {
                Err(err) => Err(err),
                Ok(client) => match client.introspect_token(value).await {
                    Ok(token) if token.active => Ok(Holds::AuthenticatesAs(token.id.to_string())),
                    Ok(token) => Ok(Holds::Rejected(format!("token {} is not active", token.id))),
                    Err(ApiError::Unauthorized { detail, .. }) => Ok(Holds::Rejected(detail)),
                    Err(err) => Err(err.to_string()),
                },
            },
            ProbeKind::ZendeskOauth { zendesk, value } => match clients.zendesk_for(zendesk) {
                Err(err) => Err(err),
                Ok(client) => match client.introspect_oauth_token(value).await {
                    Ok(token) => Ok(Holds::AuthenticatesAs(token.id.to_string())),
                    Err(ApiError::Unauthorized { detail, .. }) => Ok(Holds::Rejected(detail)),
                    Err(err) => Err(err.to_string()),
                },
            },
        };
        (probe.consumer, result)
    }))
    .await
}
