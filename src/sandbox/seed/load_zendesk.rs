//! Loads the Zendesk part of a seed: users, the admin credential, OAuth clients and tokens
//! and legacy API tokens first; apps, installations and webhooks (the consumers) after every
//! instance's credentials exist.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value as Json;

use super::load::{Refs, bind, resolve};
use super::{SeedError, bad, when};
use crate::sandbox::state::zendesk::{
    ApiToken, App, AppParameter, Installation, OAuthClient, Webhook, WebhookAuth, Zendesk,
};
use crate::sandbox::state::{ValueKind, World};

pub(super) fn credentials(
    world: &mut World,
    z: &super::ZendeskSeed,
    id_base: u64,
    now: Timestamp,
    refs: &mut Refs,
) -> Result<Zendesk, SeedError> {
    let at = |what: &str| format!("zendesk {:?} {what}", z.name);
    let mut zd = Zendesk::new(id_base);
    zd.api_token_access = z.api_token_access;
    for u in &z.users {
        zd.add_user(&u.name, &u.email, &u.role);
    }
    let user = |zd: &Zendesk, email: &str, what: &str| {
        zd.user_by_email(email).map(|u| u.id).ok_or_else(|| {
            bad(format!(
                "{what}: unknown user {email:?}; add it under users"
            ))
        })
    };
    let admin = z
        .admin
        .as_deref()
        .map(|a| user(&zd, a, &at("admin")))
        .transpose()?;
    if let Some(admin) = admin {
        // The handed-out admin credential belongs to no listed client (client_id 0).
        let id = zd.mint_oauth_token(
            &mut world.issuer,
            0,
            admin,
            vec!["read".into(), "write".into()],
            None,
            None,
            now,
        );
        zd.admin_token = Some(zd.oauth_tokens[&id].value.clone());
    }
    for c in &z.oauth_clients {
        let created = c
            .created_at
            .as_deref()
            .map(|t| when(t, now, &at(&format!("oauth client {:?}", c.identifier))))
            .transpose()?
            .unwrap_or(now);
        let id = zd.next_id();
        let secret = world.issuer.mint(ValueKind::ZendeskClientSecret);
        bind(refs, &c.r#ref, &secret)?;
        zd.clients.insert(
            id,
            OAuthClient {
                id,
                identifier: c.identifier.clone(),
                name: c.name.clone(),
                kind: c.kind.clone(),
                secret,
                user_id: admin.unwrap_or(0),
                redirect_uri: vec![],
                created_at: created,
                updated_at: created,
            },
        );
    }
    for t in &z.oauth_tokens {
        let what = at(&format!("oauth token for {:?}", t.client));
        let client = zd
            .clients
            .values()
            .find(|c| c.identifier == t.client)
            .map(|c| c.id)
            .ok_or_else(|| bad(format!("{what}: unknown client")))?;
        let uid = match &t.user {
            Some(email) => user(&zd, email, &what)?,
            None => admin.ok_or_else(|| bad(format!("{what}: name a user or an admin")))?,
        };
        let expires = t
            .expires_at
            .as_deref()
            .map(|e| when(e, now, &what))
            .transpose()?;
        let refresh = t
            .refresh_expires_at
            .as_deref()
            .map(|e| when(e, now, &what))
            .transpose()?;
        let id = zd.mint_oauth_token(
            &mut world.issuer,
            client,
            uid,
            t.scopes.clone(),
            expires,
            refresh,
            now,
        );
        bind(refs, &t.r#ref, &zd.oauth_tokens[&id].value)?;
    }
    for t in &z.api_tokens {
        let what = at(&format!("api token {}", t.id));
        let uid = user(&zd, &t.user, &what)?;
        let value = world.issuer.mint(ValueKind::ZendeskApiToken);
        bind(refs, &t.r#ref, &value)?;
        let created = t
            .created_at
            .as_deref()
            .map(|c| when(c, now, &what))
            .transpose()?
            .unwrap_or(now);
        let last_used = t
            .last_used
            .as_deref()
            .map(|c| when(c, now, &what))
            .transpose()?;
        zd.api_tokens.insert(
            t.id,
            ApiToken {
                id: t.id,
                user_id: uid,
                description: t.description.clone(),
                value,
                created_at: created,
                updated_at: created,
                last_used,
                deactivated: false,
            },
        );
    }
    Ok(zd)
}

pub(super) fn consumers(
    zd: &mut Zendesk,
    z: &super::ZendeskSeed,
    now: Timestamp,
    refs: &Refs,
    issuer: &mut crate::sandbox::state::Issuer,
) -> Result<(), SeedError> {
    for a in &z.apps {
        let what = format!("zendesk {:?} app {:?}", z.name, a.name);
        let app_id = zd.next_id();
        let parameters: Vec<AppParameter> = a
            .parameters
            .iter()
            .map(|p| AppParameter {
                name: p.name.clone(),
                kind: p.kind.clone().unwrap_or_else(|| "text".into()),
                required: p.required,
                secure: p.secure,
            })
            .collect();
        if let Some(settings) = &a.installation {
            let id = zd.next_id();
            let mut inst = Installation {
                id,
                app_id,
                enabled: true,
                settings: serde_json::Map::new(),
                secure_settings: BTreeMap::new(),
                created_at: now,
                updated_at: now,
            };
            for (k, v) in settings {
                let value = resolve(refs, v, &what)?;
                if parameters.iter().any(|p| p.secure && p.name == *k) {
                    inst.secure_settings.insert(k.clone(), value);
                } else {
                    inst.settings
                        .insert(k.clone(), Json::String(value.reveal().to_string()));
                }
            }
            // The installation's title lives in its `name` setting, as on Zendesk.
            inst.settings
                .entry("name")
                .or_insert_with(|| Json::String(a.name.clone()));
            zd.installations.insert(id, inst);
        }
        zd.apps.insert(
            app_id,
            App {
                id: app_id,
                name: a.name.clone(),
                owned: a.owned,
                parameters,
            },
        );
    }
    let creator = z
        .admin
        .as_deref()
        .and_then(|a| zd.user_by_email(a))
        .map(|u| u.id.to_string())
        .unwrap_or_else(|| "-1".into());
    for w in &z.webhooks {
        let what = format!("zendesk {:?} webhook {:?}", z.name, w.name);
        let authentication = match &w.authentication {
            Some(a) => {
                let mut data = BTreeMap::new();
                for (k, v) in &a.data {
                    data.insert(k.clone(), resolve(refs, v, &what)?);
                }
                Some(WebhookAuth {
                    kind: a.r#type.clone(),
                    add_position: "header".into(),
                    data,
                })
            }
            None => None,
        };
        let id = zd.next_webhook_id(issuer);
        let subscriptions = if w.subscriptions.is_empty() {
            vec!["conditional_ticket_events".to_string()]
        } else {
            w.subscriptions.clone()
        };
        zd.webhooks.insert(
            id.clone(),
            Webhook {
                id,
                name: w.name.clone(),
                description: None,
                endpoint: w.endpoint.clone(),
                http_method: "POST".into(),
                request_format: "json".into(),
                status: "active".into(),
                subscriptions,
                authentication,
                custom_headers: w.custom_headers.clone(),
                external_source: None,
                signing_secret: issuer.mint(ValueKind::Generated(44)),
                created_at: now,
                created_by: creator.clone(),
                updated_at: now,
                updated_by: creator.clone(),
            },
        );
    }
    Ok(())
}
