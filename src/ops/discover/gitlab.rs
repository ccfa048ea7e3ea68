//! Matching GitLab live objects to declared tokens and consumers.

use std::collections::BTreeMap;

use super::fetch::{Fetched, ListKey, Listing, Probe, ProbeKind};
use super::fingerprint_of;
use crate::gitlab::{AccessToken, Trigger};
use crate::inventory::{Holds, LiveConsumer, LiveRecord, LiveToken};
use crate::ledger::Ledger;
use crate::manifest::{ConsumerSpec, GitlabOwner, TokenKind, TokenSpec};

/// The live state of a GitLab token, or `None` when `spec` is not a GitLab token.
pub fn token(
    spec: &TokenSpec,
    fetched: &Fetched,
    ledger: &Ledger,
) -> Option<Result<LiveToken, Option<String>>> {
    let remembered = ledger.token(&spec.id).and_then(|t| t.platform_id.clone());
    let (key, name) = match &spec.kind {
        TokenKind::GitlabPersonalAccessToken(t) => (
            ListKey::GitlabUserTokens {
                gitlab: t.gitlab.clone(),
                user: t.user.clone(),
            },
            &t.name,
        ),
        TokenKind::GitlabProjectAccessToken(t) => (
            ListKey::GitlabOwnerTokens {
                gitlab: t.gitlab.clone(),
                owner: GitlabOwner::Project(t.project.clone()),
            },
            &t.name,
        ),
        TokenKind::GitlabGroupAccessToken(t) => (
            ListKey::GitlabOwnerTokens {
                gitlab: t.gitlab.clone(),
                owner: GitlabOwner::Group(t.group.clone()),
            },
            &t.name,
        ),
        TokenKind::GitlabPipelineTriggerToken(t) => {
            let key = ListKey::GitlabTriggers {
                gitlab: t.gitlab.clone(),
                project: t.project.clone(),
            };
            return Some(match fetched.get(&key) {
                Some(Ok(Listing::Triggers(triggers))) => Ok(trigger(
                    triggers,
                    &t.description,
                    remembered.as_deref(),
                    ledger,
                )),
                _ => Err(None),
            });
        }
        _ => return None,
    };
    Some(match fetched.get(&key) {
        Some(Ok(Listing::Tokens(tokens))) => Ok(access_token(tokens, name, remembered.as_deref())),
        _ => Err(None),
    })
}

/// The record a declaration names: among records with the declared name, the one the ledger
/// remembers, else the newest active one, else the newest of any state.
fn access_token(tokens: &[AccessToken], name: &str, remembered: Option<&str>) -> LiveToken {
    let mut named: Vec<&AccessToken> = tokens.iter().filter(|t| t.name == name).collect();
    if named.is_empty() {
        return LiveToken::Missing;
    }
    named.sort_by_key(|t| (t.created_at, t.id));
    let chosen = remembered
        .and_then(|id| named.iter().find(|t| t.id.to_string() == id && t.active))
        .or_else(|| named.iter().rev().find(|t| t.active))
        .or_else(|| named.last())
        .copied();
    match chosen {
        Some(t) => LiveToken::Found(record_of(t)),
        None => LiveToken::Missing,
    }
}

/// A token record as plain data.
pub fn record_of(t: &AccessToken) -> LiveRecord {
    let mut scopes = t.scopes.clone();
    scopes.sort();
    LiveRecord {
        platform_id: t.id.to_string(),
        name: t.name.clone(),
        scopes,
        expires_at: t.expires_at,
        expires_at_time: None,
        active: t.active,
        revoked: t.revoked,
        last_used_at: t.last_used_at,
        user_id: t.user_id,
        access_level: t.access_level.map(u32::from),
        value_fingerprint: None,
    }
}

fn trigger(
    triggers: &[Trigger],
    description: &str,
    remembered: Option<&str>,
    ledger: &Ledger,
) -> LiveToken {
    let mut named: Vec<&Trigger> = triggers
        .iter()
        .filter(|t| t.description.as_deref() == Some(description))
        .collect();
    named.sort_by_key(|t| (t.created_at, t.id));
    let chosen = remembered
        .and_then(|id| named.iter().find(|t| t.id.to_string() == id))
        .or_else(|| named.last())
        .copied();
    let Some(t) = chosen else {
        return LiveToken::Missing;
    };
    // Only the trigger's owner sees the whole value; anyone else sees four characters.
    let value_fingerprint = t
        .token
        .as_ref()
        .filter(|v| secrecy::ExposeSecret::expose_secret(*v).len() > 8)
        .map(|v| fingerprint_of(ledger, v));
    LiveToken::Found(LiveRecord {
        platform_id: t.id.to_string(),
        name: description.to_string(),
        scopes: Vec::new(),
        expires_at: t.expires_at.map(crate::time::utc_date),
        expires_at_time: t.expires_at,
        active: true,
        revoked: false,
        last_used_at: t.last_used,
        user_id: t.owner.as_ref().map(|o| o.id),
        access_level: None,
        value_fingerprint,
    })
}

/// Whether a readable value of this token kind can be introspected on GitLab.
fn introspects_on_gitlab(kind: &TokenKind) -> Option<&str> {
    match kind {
        TokenKind::GitlabPersonalAccessToken(t) => Some(&t.gitlab),
        TokenKind::GitlabProjectAccessToken(t) => Some(&t.gitlab),
        TokenKind::GitlabGroupAccessToken(t) => Some(&t.gitlab),
        _ => None,
    }
}

/// What a readable value tells: the current value by fingerprint, or a probe to ask the
/// platform, or just its fingerprint for kinds that cannot introspect.
pub fn readable_value(
    spec: &TokenSpec,
    consumer_key: &str,
    value: &secrecy::SecretString,
    ledger: &Ledger,
    probes: &mut Vec<Probe>,
) -> Holds {
    let fp = fingerprint_of(ledger, value);
    let current = ledger
        .token(&spec.id)
        .and_then(|t| t.fingerprint.as_deref());
    if current == Some(fp.as_str()) {
        return Holds::Fingerprint(fp);
    }
    let kind = if let Some(gitlab) = introspects_on_gitlab(&spec.kind) {
        Some(ProbeKind::GitlabToken {
            gitlab: gitlab.to_string(),
            value: value.clone(),
        })
    } else if let TokenKind::ZendeskOauthToken(t) = &spec.kind {
        Some(ProbeKind::ZendeskOauth {
            zendesk: t.zendesk.clone(),
            value: value.clone(),
        })
    } else {
        None
    };
    if let Some(kind) = kind {
        probes.push(Probe {
            consumer: consumer_key.to_string(),
            kind,
        });
    }
    // Until the probe answers, the fingerprint stands in.
    Holds::Fingerprint(fp)
}

/// The live state of a GitLab consumer, or `None` when it is not a GitLab consumer.
pub fn consumer(
    spec: &TokenSpec,
    consumer: &ConsumerSpec,
    fetched: &Fetched,
    ledger: &Ledger,
    probes: &mut Vec<Probe>,
) -> Option<Result<LiveConsumer, Option<String>>> {
    let key = consumer.key()?.0;
    match consumer {
        ConsumerSpec::GitlabCiVariable(v) => {
            let list = ListKey::GitlabVariables {
                gitlab: v.gitlab.clone(),
                owner: v.owner.clone(),
            };
            let Some(Ok(Listing::Variables(vars))) = fetched.get(&list) else {
                return Some(Err(None));
            };
            let found = vars.iter().find(|var| {
                var.key == v.key
                    && var.environment_scope.as_deref().unwrap_or("*") == v.environment_scope
            });
            let Some(var) = found else {
                return Some(Ok(LiveConsumer::Missing));
            };
            let settings = BTreeMap::from([
                ("masked".to_string(), var.masked.to_string()),
                ("protected".to_string(), var.protected.to_string()),
                ("hidden".to_string(), var.hidden.to_string()),
                ("raw".to_string(), var.raw.to_string()),
                (
                    "environment_scope".to_string(),
                    var.environment_scope
                        .clone()
                        .unwrap_or_else(|| "*".to_string()),
                ),
            ]);
            let holds = match &var.value {
                _ if var.hidden => Holds::WriteOnly,
                None => Holds::WriteOnly,
                Some(value) if secrecy::ExposeSecret::expose_secret(value).is_empty() => {
                    Holds::Nothing
                }
                Some(value) => readable_value(spec, &key, value, ledger, probes),
            };
            Some(Ok(LiveConsumer::Present { settings, holds }))
        }
        ConsumerSpec::GitlabWebhook(h) => {
            let list = ListKey::GitlabHooks {
                gitlab: h.gitlab.clone(),
                owner: h.owner.clone(),
            };
            let Some(Ok(Listing::Hooks(hooks))) = fetched.get(&list) else {
                return Some(Err(None));
            };
            let found = hooks.iter().find(|hook| match (h.hook_id, &h.url) {
                (Some(id), _) => hook.id == id,
                (None, Some(url)) => &hook.url == url,
                (None, None) => false,
            });
            let Some(hook) = found else {
                return Some(Ok(LiveConsumer::Missing));
            };
            let mut settings = BTreeMap::new();
            if h.url.is_some() || h.hook_id.is_some() {
                settings.insert("url".to_string(), hook.url.clone());
            }
            let holds = match &h.header {
                Some(header) => {
                    settings.insert("header".to_string(), header.clone());
                    let has = hook
                        .custom_headers
                        .iter()
                        .any(|c| c.key.eq_ignore_ascii_case(header));
                    if has {
                        Holds::WriteOnly
                    } else {
                        Holds::Nothing
                    }
                }
                None => Holds::WriteOnly,
            };
            if !hook.custom_headers.iter().any(|c| {
                h.header
                    .as_ref()
                    .is_some_and(|x| c.key.eq_ignore_ascii_case(x))
            }) {
                settings.remove("header");
            }
            Some(Ok(LiveConsumer::Present { settings, holds }))
        }
        _ => None,
    }
}
