//! The reads discovery makes: which lists the declared tokens and consumers need (each
//! fetched once, as their drivers say), running them concurrently, and the follow-up probes
//! that ask a platform who a value found in a consumer authenticates as.

use std::collections::BTreeSet;

use futures_util::future::join_all;

use super::lists::{Fetched, ListKey, Listing, Probe, ProbeKind};
use crate::clients::Clients;
use crate::gitlab::{Owner, TokenFilter, TokenState};
use crate::http::ApiError;
use crate::inventory::Holds;
use crate::manifest::{Desired, GitlabOwner};

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
        spec.kind.driver().lists(&mut needs);
        for consumer in &spec.consumers {
            consumer.driver().lists(&mut needs);
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
        ListKey::GitlabServiceAccountTokens {
            gitlab: g,
            group,
            user,
        } => {
            let client = gitlab(g)?;
            let Some(id) = client.service_account_id(group, user).await? else {
                return Err(FetchError::Config(format!(
                    "{g}: group {group} has no service account named `{user}`; check the \
                     `service_account` of the token in the manifest"
                )));
            };
            Listing::Tokens(client.list_service_account_tokens(group, id, None).await?)
        }
        ListKey::GitlabDeployTokens { gitlab: g, owner } => {
            Listing::DeployTokens(gitlab(g)?.list_deploy_tokens(&owner_of(owner)).await?)
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
        ListKey::ZendeskCurrentUser { zendesk: z } => {
            Listing::ZendeskUser(zendesk(z)?.current_user().await?)
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
