//! Matching Zendesk live objects to declared tokens and consumers.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;

use super::fetch::{Fetched, ListKey, Listing, Probe};
use super::gitlab::readable_value;
use crate::inventory::{Holds, LiveConsumer, LiveRecord, LiveToken};
use crate::ledger::Ledger;
use crate::manifest::{ConsumerSpec, Desired, TokenKind, TokenSpec};
use crate::time::utc_date;
use crate::zendesk::{OAuthClient, OAuthToken};

fn clients<'a>(fetched: &'a Fetched, zendesk: &str) -> Result<&'a [OAuthClient], Option<String>> {
    match fetched.get(&ListKey::ZendeskOauthClients {
        zendesk: zendesk.to_string(),
    }) {
        Some(Ok(Listing::OauthClients(list))) => Ok(list),
        _ => Err(None),
    }
}

fn client<'a>(
    fetched: &'a Fetched,
    zendesk: &str,
    identifier: &str,
) -> Result<&'a OAuthClient, Option<String>> {
    clients(fetched, zendesk)?
        .iter()
        .find(|c| c.identifier == identifier)
        .ok_or_else(|| {
            Some(format!(
                "Zendesk {zendesk} has no OAuth client with identifier `{identifier}`; create the \
                 confidential client in Admin Center (Apps and integrations > APIs > OAuth \
                 clients) or fix `client` in the manifest"
            ))
        })
}

/// The live state of a Zendesk token, or `None` when `spec` is not a Zendesk token.
pub fn token(
    spec: &TokenSpec,
    fetched: &Fetched,
    ledger: &Ledger,
    desired: &Desired,
    now: Timestamp,
) -> Option<Result<LiveToken, Option<String>>> {
    let remembered = ledger.token(&spec.id);
    Some(match &spec.kind {
        TokenKind::ZendeskOauthToken(t) => (|| {
            let client = client(fetched, &t.zendesk, &t.client)?;
            let key = ListKey::ZendeskOauthTokens {
                zendesk: t.zendesk.clone(),
            };
            let Some(Ok(Listing::OauthTokens(tokens))) = fetched.get(&key) else {
                return Err(None);
            };
            let mut mine: Vec<&OAuthToken> = tokens
                .iter()
                .filter(|tok| tok.client_id == Some(client.id))
                .collect();
            mine.sort_by_key(|tok| (tok.created_at, tok.id));
            let chosen = remembered
                .and_then(|r| r.platform_id.as_deref())
                .and_then(|id| mine.iter().find(|tok| tok.id.to_string() == id))
                .or_else(|| mine.last())
                .copied();
            Ok(match chosen {
                None => LiveToken::Missing,
                Some(tok) => {
                    let mut scopes = tok.scopes.clone();
                    scopes.sort();
                    LiveToken::Found(LiveRecord {
                        platform_id: tok.id.to_string(),
                        name: t.client.clone(),
                        scopes,
                        expires_at: tok.expires_at.map(utc_date),
                        expires_at_time: tok.expires_at,
                        active: tok.expires_at.is_none_or(|at| at > now),
                        revoked: false,
                        last_used_at: tok.used_at,
                        user_id: tok.user_id,
                        access_level: None,
                        value_fingerprint: None,
                    })
                }
            })
        })(),
        TokenKind::ZendeskOauthClientSecret(t) => client(fetched, &t.zendesk, &t.client).map(|c| {
            // Zendesk gives secrets no expiry: tokenops ages them from its last replacement,
            // or from the client's last update when it never replaced one.
            let lifetime = desired.rotation(spec).lifetime.as_secs();
            let since = remembered
                .and_then(|r| r.replaced_at)
                .or(c.updated_at)
                .or(c.created_at);
            let expires = since.and_then(|at| {
                at.checked_add(SignedDuration::from_secs(
                    i64::try_from(lifetime).unwrap_or(i64::MAX),
                ))
                .ok()
            });
            LiveToken::Found(LiveRecord {
                platform_id: c.id.to_string(),
                name: c.identifier.clone(),
                expires_at: expires.map(utc_date),
                expires_at_time: expires,
                active: true,
                user_id: c.user_id,
                ..LiveRecord::default()
            })
        }),
        TokenKind::ZendeskApiToken(t) => {
            let key = ListKey::ZendeskApiTokens {
                zendesk: t.zendesk.clone(),
            };
            match fetched.get(&key) {
                Some(Ok(Listing::ApiTokens(tokens))) => {
                    Ok(match tokens.iter().find(|a| a.id == t.token_id) {
                        None => LiveToken::Missing,
                        Some(a) => LiveToken::Found(LiveRecord {
                            platform_id: a.id.to_string(),
                            name: a.description.clone().unwrap_or_default(),
                            active: a.active,
                            revoked: false,
                            last_used_at: a.last_used(),
                            user_id: a.user_id,
                            ..LiveRecord::default()
                        }),
                    })
                }
                _ => Err(None),
            }
        }
        _ => return None,
    })
}

/// The live state of a Zendesk consumer, or `None` when it is not a Zendesk consumer.
pub fn consumer(
    spec: &TokenSpec,
    consumer: &ConsumerSpec,
    fetched: &Fetched,
    ledger: &Ledger,
    probes: &mut Vec<Probe>,
) -> Option<Result<LiveConsumer, Option<String>>> {
    let key = consumer.key()?.0;
    Some(match consumer {
        ConsumerSpec::ZendeskWebhook(w) => (|| {
            let list = ListKey::ZendeskWebhooks {
                zendesk: w.zendesk.clone(),
            };
            let Some(Ok(Listing::Webhooks(hooks))) = fetched.get(&list) else {
                return Err(None);
            };
            let found: Vec<_> = hooks
                .iter()
                .filter(|h| match (&w.webhook_id, &w.webhook) {
                    (Some(id), _) => &h.id == id,
                    (None, Some(name)) => &h.name == name,
                    (None, None) => false,
                })
                .collect();
            match found.as_slice() {
                [] => Ok(LiveConsumer::Missing),
                [hook] => {
                    let auth = hook.authentication.as_ref().map(|a| a.kind.clone());
                    let settings = BTreeMap::from([(
                        "auth".to_string(),
                        auth.clone().unwrap_or_else(|| "(none)".to_string()),
                    )]);
                    let holds = if auth.is_some() {
                        Holds::WriteOnly
                    } else {
                        Holds::Nothing
                    };
                    Ok(LiveConsumer::Present { settings, holds })
                }
                many => Err(Some(format!(
                    "Zendesk {} has {} webhooks named \"{}\" ({}); name this one by \
                     `webhook_id` in the manifest",
                    w.zendesk,
                    many.len(),
                    w.target(),
                    many.iter()
                        .map(|h| h.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        })(),
        ConsumerSpec::ZendeskAppSetting(a) => (|| {
            let list = ListKey::ZendeskInstallations {
                zendesk: a.zendesk.clone(),
            };
            let Some(Ok(Listing::Installations(installs))) = fetched.get(&list) else {
                return Err(None);
            };
            let apps = match fetched.get(&ListKey::ZendeskOwnedApps {
                zendesk: a.zendesk.clone(),
            }) {
                Some(Ok(Listing::OwnedApps(apps))) => apps.as_slice(),
                _ => &[],
            };
            let found = installs.iter().find(|i| match (a.installation_id, &a.app) {
                (Some(id), _) => i.id == id,
                (None, Some(name)) => {
                    i.name() == Some(name.as_str())
                        || apps
                            .iter()
                            .any(|app| &app.name == name && i.app_id == Some(app.id))
                }
                (None, None) => false,
            });
            let Some(install) = found else {
                return Ok(LiveConsumer::Missing);
            };
            let secure = apps
                .iter()
                .find(|app| install.app_id == Some(app.id))
                .and_then(|app| app.parameters.iter().find(|p| p.name == a.setting))
                .is_some_and(|p| p.secure);
            let holds = if secure {
                Holds::WriteOnly
            } else {
                match install.settings.get(&a.setting).and_then(|v| v.as_str()) {
                    Some(v) if !v.is_empty() => {
                        let value = SecretString::from(v.to_string());
                        readable_value(spec, &key, &value, ledger, probes)
                    }
                    _ => Holds::Nothing,
                }
            };
            Ok(LiveConsumer::Present {
                settings: BTreeMap::new(),
                holds,
            })
        })(),
        _ => return None,
    })
}
