//! What the platform says about each credential the run signs in with: one request per
//! credential (`GET /personal_access_tokens/self`, `GET /api/v2/oauth/tokens/current.json`),
//! counted against the instance's request budget like every other. A credential with no
//! record to ask about (a job token, a legacy Zendesk API token) is skipped without a
//! request; one the platform will not describe is skipped quietly: the watch is advice, and
//! the run's own requests report a credential that does not work.

use crate::Platform;
use crate::clients::Clients;
use crate::gitlab::GitLabClient;
use crate::watch::{CredentialFact, CredentialRecord, RunCredential};

/// The records of the run's credentials (`clients.credentials`) and of `extra` (a client
/// outside `clients`, such as the merge-request note's), each asked about once.
pub async fn inspect(
    clients: &Clients,
    extra: Option<(&RunCredential, &GitLabClient)>,
) -> Vec<CredentialFact> {
    let mut facts = Vec::new();
    let mut asked: Vec<(Platform, &str, &str)> = Vec::new();
    let own = clients.credentials.iter().map(|c| (c, None));
    let extra = extra.map(|(c, client)| (c, Some(client)));
    for (cred, client) in own.chain(extra) {
        let seen = (cred.platform, cred.instance.as_str(), cred.env_var.as_str());
        if cred.no_record || asked.contains(&seen) {
            continue;
        }
        asked.push(seen);
        if let Some(record) = ask(clients, cred, client).await {
            facts.push(CredentialFact {
                credential: cred.clone(),
                record,
            });
        }
    }
    facts
}

async fn ask(
    clients: &Clients,
    cred: &RunCredential,
    client: Option<&GitLabClient>,
) -> Option<CredentialRecord> {
    match cred.platform {
        Platform::GitLab => {
            let client = match client {
                Some(c) => c,
                None => clients.gitlab.get(&cred.instance)?,
            };
            match client.personal_token_self().await {
                Ok(t) => Some(CredentialRecord {
                    platform_id: t.id.to_string(),
                    name: t.name,
                    expires_at: t.expires_at,
                    expires_at_time: None,
                }),
                Err(err) => {
                    tracing::debug!(instance = %cred.instance, var = %cred.env_var,
                        "no record of the credential: {err}");
                    None
                }
            }
        }
        Platform::Zendesk => {
            let client = clients.zendesk.get(&cred.instance)?;
            match client.current_oauth_token().await {
                Ok(t) => Some(CredentialRecord {
                    platform_id: t.id.to_string(),
                    name: t
                        .client_id
                        .map(|c| format!("OAuth token of client {c}"))
                        .unwrap_or_else(|| "OAuth token".to_string()),
                    expires_at: t.expires_at.map(crate::time::utc_date),
                    expires_at_time: t.expires_at,
                }),
                Err(err) => {
                    tracing::debug!(instance = %cred.instance, var = %cred.env_var,
                        "no record of the credential: {err}");
                    None
                }
            }
        }
    }
}
