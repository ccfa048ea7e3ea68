//! The Zendesk side of staging a new value: mint an OAuth access token for the declared
//! confidential client (admin API, or the client-credentials grant where the manifest says
//! so), or generate a new OAuth client secret; check a minted token's scopes against the
//! declared list before anything is written; revoke the old token at finish.
//!
//! Zendesk accepts an invalid scope without complaint and the token then fails every call,
//! so a token whose scopes differ from the declared list is revoked at once and never
//! distributed. A client secret dies the moment a new one is generated (like a GitLab
//! rotate), so its value is escrowed before any other call, as for every kind.

use std::collections::BTreeMap;

use secrecy::SecretString;

use super::gitlab::Issued;
use crate::http::ApiError;
use crate::ledger::PendingRotation;
use crate::manifest::{OauthGrant, TokenKind, TokenSpec};
use crate::zendesk::{Grant, NewOAuthToken, OAuthClient, ZendeskClient};

/// Zendesk's longest access-token life for the grant endpoint (exclusive), in seconds.
const GRANT_MAX_SECS: u64 = 172_800;
/// Zendesk's shortest access-token life for the grant endpoint (exclusive), in seconds.
const GRANT_MIN_SECS: u64 = 300;

/// A Zendesk credential kind apply can replace.
#[derive(Debug, Clone)]
pub enum ZendeskKind {
    /// An OAuth access token of a confidential client.
    OauthToken {
        /// The client's string identifier.
        client: String,
        /// Declared scopes.
        scopes: Vec<String>,
        /// How it is minted.
        grant: OauthGrant,
        /// Requested lifetime in seconds (client-credentials grant only).
        lifetime_secs: Option<u64>,
    },
    /// The secret of an OAuth client.
    ClientSecret {
        /// The client's string identifier.
        client: String,
    },
}

impl ZendeskKind {
    /// The Zendesk kind of a manifest token, with its instance name.
    pub fn of(spec: &TokenSpec) -> Option<(String, ZendeskKind)> {
        Some(match &spec.kind {
            TokenKind::ZendeskOauthToken(t) => (
                t.zendesk.clone(),
                ZendeskKind::OauthToken {
                    client: t.client.clone(),
                    scopes: t.scopes.clone(),
                    grant: t.grant,
                    lifetime_secs: spec.rotation.lifetime.map(|d| d.as_secs()),
                },
            ),
            TokenKind::ZendeskOauthClientSecret(t) => (
                t.zendesk.clone(),
                ZendeskKind::ClientSecret {
                    client: t.client.clone(),
                },
            ),
            _ => return None,
        })
    }

    /// True when the old value stays alive until tokenops revokes it at finish.
    pub fn overlaps(&self) -> bool {
        matches!(self, ZendeskKind::OauthToken { .. })
    }
}

/// Why staging stopped.
#[derive(Debug)]
pub enum ZendeskStop {
    /// Try again on the next apply (the outcome is unknown or the platform is down).
    Pending(String),
    /// Nothing usable was obtained; the next plan starts afresh.
    Failed(String),
}

async fn oauth_client(zd: &ZendeskClient, identifier: &str) -> Result<OAuthClient, String> {
    let clients = zd.list_oauth_clients().await.map_err(|e| e.to_string())?;
    clients
        .into_iter()
        .find(|c| c.identifier == identifier)
        .ok_or_else(|| {
            format!(
                "Zendesk {}: no OAuth client with identifier `{identifier}`; create the \
                 confidential client in Admin Center or fix `client` in the manifest",
                zd.instance()
            )
        })
}

/// Ids of the live OAuth tokens of the client (for learning what a lost answer did).
pub async fn known_ids(zd: &ZendeskClient, kind: &ZendeskKind) -> Result<Vec<String>, String> {
    match kind {
        ZendeskKind::OauthToken { client, .. } => {
            let c = oauth_client(zd, client).await?;
            let tokens = zd
                .list_oauth_tokens(true, Some(c.id))
                .await
                .map_err(|e| e.to_string())?;
            Ok(tokens.into_iter().map(|t| t.id.to_string()).collect())
        }
        ZendeskKind::ClientSecret { .. } => Ok(Vec::new()),
    }
}

/// The key of a client secret in [`super::ApplyOptions::zendesk_client_secrets`].
pub fn secret_key(zendesk: &str, client: &str) -> String {
    format!("{zendesk}/{client}")
}

/// The environment variable the CLI reads a client's secret from for the
/// client-credentials grant: `TOKENOPS_ZENDESK_CLIENT_SECRET_<INSTANCE>_<CLIENT>`, upper case,
/// every other character an underscore.
pub fn secret_env(zendesk: &str, client: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "TOKENOPS_ZENDESK_CLIENT_SECRET_{}_{}",
        clean(zendesk),
        clean(client)
    )
}

/// Obtains the new value. `fresh` is false when resuming a rotation whose platform call may
/// or may not have happened: OAuth tokens minted then (their values were never escrowed) are
/// revoked first so none leaks, then a new one is minted.
pub async fn stage(
    zd: &ZendeskClient,
    zendesk: &str,
    kind: &ZendeskKind,
    pending: &PendingRotation,
    fresh: bool,
    secrets: &BTreeMap<String, SecretString>,
) -> Result<Issued, ZendeskStop> {
    match kind {
        ZendeskKind::ClientSecret { client } => {
            let c = oauth_client(zd, client)
                .await
                .map_err(ZendeskStop::Failed)?;
            // Each call makes a new secret and kills the previous one; a lost answer leaves
            // a secret nobody knows, so calling again is the only way forward.
            match zd.generate_oauth_client_secret(c.id).await {
                Ok(updated) => match updated.secret {
                    Some(secret) => Ok((c.id.to_string(), secret)),
                    None => Err(ZendeskStop::Pending(format!(
                        "Zendesk {zendesk}: the new secret of OAuth client `{client}` was not in \
                         the answer; the next apply generates another"
                    ))),
                },
                Err(e @ ApiError::OutcomeUnknown { .. }) => Err(ZendeskStop::Pending(format!(
                    "{e}; the old secret may already be dead: the next apply generates another"
                ))),
                Err(e) => Err(ZendeskStop::Failed(e.to_string())),
            }
        }
        ZendeskKind::OauthToken {
            client,
            scopes,
            grant,
            lifetime_secs,
        } => {
            let c = oauth_client(zd, client)
                .await
                .map_err(ZendeskStop::Failed)?;
            if !fresh {
                revoke_unknown(zd, c.id, scopes, pending).await?;
            }
            let (value, id) = match grant {
                OauthGrant::AdminApi => {
                    let new = NewOAuthToken {
                        client_id: c.id,
                        scopes: scopes.clone(),
                    };
                    match zd.create_oauth_token(&new).await {
                        Ok(token) => match token.value() {
                            Some(v) => (v.clone(), Some(token.id)),
                            None => {
                                return Err(ZendeskStop::Pending(format!(
                                    "Zendesk {zendesk}: the new OAuth token {} came without its \
                                     value; the next apply revokes it and mints another",
                                    token.id
                                )));
                            }
                        },
                        Err(e @ ApiError::OutcomeUnknown { .. }) => {
                            return Err(ZendeskStop::Pending(format!(
                                "{e}; the next apply revokes whatever was minted and mints again"
                            )));
                        }
                        Err(e) => return Err(ZendeskStop::Failed(e.to_string())),
                    }
                }
                OauthGrant::ClientCredentials => {
                    let Some(secret) = secrets.get(&secret_key(zendesk, client)) else {
                        return Err(ZendeskStop::Failed(format!(
                            "Zendesk {zendesk}: the client-credentials grant of OAuth client \
                             `{client}` needs the client's secret; set {} in apply's environment",
                            secret_env(zendesk, client)
                        )));
                    };
                    let expires_in =
                        lifetime_secs.map(|s| s.clamp(GRANT_MIN_SECS + 1, GRANT_MAX_SECS - 1));
                    let grant = Grant::ClientCredentials {
                        client_id: client.clone(),
                        client_secret: secret.clone(),
                        scope: scopes.join(" "),
                        expires_in,
                    };
                    match zd.grant(&grant).await {
                        Ok(granted) => (granted.access_token, None),
                        Err(e @ ApiError::OutcomeUnknown { .. }) => {
                            return Err(ZendeskStop::Pending(format!(
                                "{e}; the next apply revokes whatever was minted and mints again"
                            )));
                        }
                        Err(e) => return Err(ZendeskStop::Failed(e.to_string())),
                    }
                }
            };
            // Prove the value with itself and compare its scopes before anything is written.
            let me = match zd.introspect_oauth_token(&value).await {
                Ok(me) => me,
                Err(e) => {
                    if let Some(id) = id {
                        let _ = zd.revoke_oauth_token(id).await;
                    }
                    return Err(ZendeskStop::Pending(format!(
                        "Zendesk {zendesk}: the new OAuth token of `{client}` does not \
                         authenticate ({e}); it was revoked and the next apply mints again"
                    )));
                }
            };
            let mut want = scopes.clone();
            want.sort();
            let mut got = me.scopes.clone();
            got.sort();
            if want != got {
                let _ = zd.revoke_oauth_token(me.id).await;
                return Err(ZendeskStop::Failed(format!(
                    "Zendesk {zendesk}: the token minted for OAuth client `{client}` carries the \
                     scopes [{}], not the declared [{}] (Zendesk accepts an invalid or \
                     disallowed scope silently and the token then fails every call); it was \
                     revoked and nothing was written. Fix `scopes` in the manifest or the \
                     client's allowed scopes in Admin Center",
                    got.join(", "),
                    want.join(", ")
                )));
            }
            Ok((me.id.to_string(), value))
        }
    }
}

/// Revokes tokens of the client that an interrupted run minted: created since the intent was
/// recorded, with the declared scopes, and unknown then. Their values were never escrowed, so
/// nobody can use them. A token someone else minted for the client with other scopes is left.
async fn revoke_unknown(
    zd: &ZendeskClient,
    client_id: u64,
    scopes: &[String],
    pending: &PendingRotation,
) -> Result<(), ZendeskStop> {
    let mut want = scopes.to_vec();
    want.sort();
    let tokens = zd
        .list_oauth_tokens(true, Some(client_id))
        .await
        .map_err(|e| {
            ZendeskStop::Pending(format!(
                "the outcome of the last mint is unknown and the client's tokens could not be \
                 listed ({e}); the next apply reads them again"
            ))
        })?;
    for t in tokens {
        let id = t.id.to_string();
        let mut got = t.scopes.clone();
        got.sort();
        let before = t.created_at.is_some_and(|at| at < pending.started_at);
        if pending.known_ids.contains(&id)
            || pending.old_platform_id.as_deref() == Some(&id)
            || before
            || got != want
        {
            continue;
        }
        match zd.revoke_oauth_token(t.id).await {
            Ok(()) | Err(ApiError::NotFound { .. }) => {}
            Err(e) => {
                return Err(ZendeskStop::Pending(format!(
                    "an OAuth token minted by an interrupted run ({id}) could not be revoked \
                     ({e}); the next apply tries again"
                )));
            }
        }
    }
    Ok(())
}

/// Revokes the old OAuth token; one already gone is fine.
pub async fn retire(zd: &ZendeskClient, kind: &ZendeskKind, old: &str) -> Result<(), ApiError> {
    let ZendeskKind::OauthToken { .. } = kind else {
        return Ok(());
    };
    let Ok(id) = old.parse::<u64>() else {
        return Ok(());
    };
    match zd.revoke_oauth_token(id).await {
        Ok(()) | Err(ApiError::NotFound { .. }) => Ok(()),
        Err(ApiError::Unauthorized { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
