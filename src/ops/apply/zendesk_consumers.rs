//! Writing a new value to a Zendesk consumer and proving it holds it.
//!
//! * A webhook's authentication is set by PATCH with only `authentication` (every other field
//!   is kept), then the webhook is read again to confirm the type and the `header` position.
//!   The credential itself is write-only: the keyed fingerprint is what is recorded.
//! * An app installation setting is written by PUT with the installation's non-secure
//!   settings as they were read plus the named one, so nothing else changes whether Zendesk
//!   merges or replaces; the installation is then read again and every other non-secure
//!   setting must be unchanged. A secure setting is write-only (fingerprint); a plain one must
//!   read back as the new value.

use secrecy::{ExposeSecret, SecretString};

use super::consumers::Proof;
use crate::manifest::{ConsumerSpec, ZendeskAppSetting, ZendeskWebhook, ZendeskWebhookAuth};
use crate::ops::discover::Clients;
use crate::zendesk::{
    Installation, InstallationSettings, SettingValue, Webhook, WebhookAuth, ZendeskClient,
};

/// Whether this module writes the consumer.
pub fn handled(consumer: &ConsumerSpec) -> bool {
    matches!(
        consumer,
        ConsumerSpec::ZendeskWebhook(_) | ConsumerSpec::ZendeskAppSetting(_)
    )
}

fn client<'a>(clients: &'a Clients, name: &str) -> Result<&'a ZendeskClient, String> {
    clients.zendesk_for(name)
}

/// Writes `value` to a Zendesk consumer.
pub async fn write(
    clients: &Clients,
    consumer: &ConsumerSpec,
    value: &SecretString,
) -> Result<(), String> {
    match consumer {
        ConsumerSpec::ZendeskWebhook(w) => {
            let zd = client(clients, &w.zendesk)?;
            let hook = find_webhook(zd, w).await?;
            zd.set_webhook_auth(&hook.id, &auth_of(w, value))
                .await
                .map_err(|e| e.to_string())
        }
        ConsumerSpec::ZendeskAppSetting(a) => {
            let zd = client(clients, &a.zendesk)?;
            let install = find_installation(zd, a).await?;
            let mut settings = InstallationSettings::default();
            for (name, v) in &install.settings {
                if name != &a.setting {
                    settings
                        .0
                        .push((name.clone(), SettingValue::Plain(v.clone())));
                }
            }
            settings
                .0
                .push((a.setting.clone(), SettingValue::Secret(value.clone())));
            let after = zd
                .update_installation_settings(install.id, &settings)
                .await
                .map_err(|e| e.to_string())?;
            let changed: Vec<&String> = install
                .settings
                .iter()
                .filter(|(name, v)| *name != &a.setting && after.settings.get(*name) != Some(v))
                .map(|(name, _)| name)
                .collect();
            if changed.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "Zendesk {}: writing setting {} of app installation {} changed other \
                     settings too ({}); restore them in Admin Center and report this",
                    a.zendesk,
                    a.setting,
                    install.id,
                    changed
                        .iter()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        other => Err(format!(
            "{} consumers are not Zendesk consumers",
            other.kind_key()
        )),
    }
}

/// Proves a Zendesk consumer holds `value` as far as the platform lets anyone see.
pub async fn verify(
    clients: &Clients,
    consumer: &ConsumerSpec,
    value: &SecretString,
) -> Result<Proof, String> {
    match consumer {
        ConsumerSpec::ZendeskWebhook(w) => {
            let zd = client(clients, &w.zendesk)?;
            let found = find_webhook(zd, w).await?;
            let hook = zd.get_webhook(&found.id).await.map_err(|e| e.to_string())?;
            let want = auth_kind(w.auth);
            match &hook.authentication {
                Some(a)
                    if a.kind == want
                        && a.add_position.as_deref().unwrap_or("header") == "header" =>
                {
                    Ok(Proof::Written)
                }
                Some(a) => Err(format!(
                    "Zendesk {}: webhook \"{}\" ({}) holds {} authentication at {} after the \
                     write, not {want} in the header; check that nothing else rewrites it",
                    w.zendesk,
                    hook.name,
                    hook.id,
                    a.kind,
                    a.add_position.as_deref().unwrap_or("no position")
                )),
                None => Err(format!(
                    "Zendesk {}: webhook \"{}\" ({}) has no authentication after the write",
                    w.zendesk, hook.name, hook.id
                )),
            }
        }
        ConsumerSpec::ZendeskAppSetting(a) => {
            let zd = client(clients, &a.zendesk)?;
            let install = find_installation(zd, a).await?;
            let secure = secure_setting(zd, &install, &a.setting).await;
            match install.settings.get(&a.setting) {
                Some(held) if !secure => {
                    if held.as_str() == Some(value.expose_secret()) {
                        Ok(Proof::ReadBack)
                    } else {
                        Err(format!(
                            "Zendesk {}: app installation {} setting {} does not hold the new \
                             value after the write",
                            a.zendesk, install.id, a.setting
                        ))
                    }
                }
                _ if secure => Ok(Proof::Written),
                _ => Err(format!(
                    "Zendesk {}: app installation {} has no setting {} after the write; check \
                     the setting name against the app's parameters",
                    a.zendesk, install.id, a.setting
                )),
            }
        }
        other => Err(format!(
            "{} consumers are not Zendesk consumers",
            other.kind_key()
        )),
    }
}

fn auth_kind(auth: ZendeskWebhookAuth) -> &'static str {
    match auth {
        ZendeskWebhookAuth::BearerToken => "bearer_token",
        ZendeskWebhookAuth::BasicAuth => "basic_auth",
        ZendeskWebhookAuth::ApiKey => "api_key",
    }
}

fn auth_of(w: &ZendeskWebhook, value: &SecretString) -> WebhookAuth {
    match w.auth {
        ZendeskWebhookAuth::BearerToken => WebhookAuth::BearerToken(value.clone()),
        ZendeskWebhookAuth::BasicAuth => WebhookAuth::BasicAuth {
            username: w.username.clone().unwrap_or_default(),
            password: value.clone(),
        },
        ZendeskWebhookAuth::ApiKey => WebhookAuth::ApiKey {
            name: w.header.clone().unwrap_or_default(),
            value: value.clone(),
        },
    }
}

async fn find_webhook(zd: &ZendeskClient, w: &ZendeskWebhook) -> Result<Webhook, String> {
    if let Some(id) = &w.webhook_id {
        return zd.get_webhook(id).await.map_err(|e| e.to_string());
    }
    let name = w.webhook.clone().unwrap_or_default();
    let hooks = zd
        .list_webhooks(Some(&name))
        .await
        .map_err(|e| e.to_string())?;
    let mut named: Vec<Webhook> = hooks.into_iter().filter(|h| h.name == name).collect();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(format!(
            "Zendesk {}: no webhook named \"{name}\"; create it (tokenops does not create \
             webhooks) or fix the manifest",
            w.zendesk
        )),
        n => Err(format!(
            "Zendesk {}: {n} webhooks are named \"{name}\" ({}); name this one by `webhook_id`",
            w.zendesk,
            named
                .iter()
                .map(|h| h.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

async fn find_installation(
    zd: &ZendeskClient,
    a: &ZendeskAppSetting,
) -> Result<Installation, String> {
    if let Some(id) = a.installation_id {
        return zd.get_installation(id).await.map_err(|e| e.to_string());
    }
    let name = a.app.clone().unwrap_or_default();
    let installs = zd.list_installations().await.map_err(|e| e.to_string())?;
    let apps = zd.owned_apps().await.unwrap_or_default();
    let mut found: Vec<Installation> = installs
        .into_iter()
        .filter(|i| {
            i.name() == Some(name.as_str())
                || apps
                    .iter()
                    .any(|app| app.name == name && i.app_id == Some(app.id))
        })
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "Zendesk {}: no installed app named \"{name}\"; install it or fix the manifest",
            a.zendesk
        )),
        n => Err(format!(
            "Zendesk {}: {n} installations match the app \"{name}\"; name this one by \
             `installation_id`",
            a.zendesk
        )),
    }
}

/// Whether the app declares `setting` secure. An app tokenops cannot see the parameters of
/// (not owned by the account) is treated as secure when the setting is not shown back.
async fn secure_setting(zd: &ZendeskClient, install: &Installation, setting: &str) -> bool {
    let apps = zd.owned_apps().await.unwrap_or_default();
    match apps
        .iter()
        .find(|app| install.app_id == Some(app.id))
        .and_then(|app| app.parameters.iter().find(|p| p.name == setting))
    {
        Some(p) => p.secure,
        None => !install.settings.contains_key(setting),
    }
}
