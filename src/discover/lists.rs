//! The vocabulary of discovery: one [`ListKey`] per list (or lookup) on one platform
//! instance, its answer ([`Listing`]), every answer of a run ([`Fetched`]), and the
//! introspections ([`Probe`]) asked about values found in consumers. Plain data: drivers say
//! which lists they need and read their answers; [`super::fetch`] runs the requests.

use std::collections::BTreeMap;

use jiff::civil::Date;
use secrecy::SecretString;

use super::Failure;
use crate::gitlab::{AccessToken, DeployToken, Hook, Trigger, Variable};
use crate::manifest::GitlabOwner;
use crate::zendesk::{ApiToken, App, Installation, OAuthClient, OAuthToken, Webhook, ZendeskUser};

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
    /// Personal access tokens of service account `user` of top-level group `group`.
    GitlabServiceAccountTokens {
        gitlab: String,
        group: String,
        user: String,
    },
    /// Deploy tokens of a project or group.
    GitlabDeployTokens { gitlab: String, owner: GitlabOwner },
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
    /// The Zendesk user tokenops's own credential signs in as (`users/me`): the user an
    /// OAuth token minted through the admin API belongs to.
    ZendeskCurrentUser { zendesk: String },
}

impl ListKey {
    /// The list in words, for failures.
    pub fn describe(&self) -> String {
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
            ListKey::GitlabServiceAccountTokens {
                gitlab,
                group,
                user,
            } => format!("{gitlab}: tokens of service account {user} of group {group}"),
            ListKey::GitlabDeployTokens { gitlab, owner } => {
                format!("{gitlab}: deploy tokens of {}", owner.path())
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
            ListKey::ZendeskCurrentUser { zendesk } => {
                format!("{zendesk}: the user tokenops signs in as")
            }
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
    /// Deploy tokens.
    DeployTokens(Vec<DeployToken>),
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
    /// A signed-in Zendesk user.
    ZendeskUser(ZendeskUser),
}

/// Every list discovery fetched, or why it could not.
#[derive(Debug, Default)]
pub struct Fetched {
    pub(crate) results: BTreeMap<ListKey, Result<Listing, String>>,
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
