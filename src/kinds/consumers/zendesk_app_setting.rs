//! `zendesk_app_setting`: a setting of an installed Zendesk app, named by app name or
//! installation id. Written by PUT with the installation's non-secure settings as they were
//! read plus the named one, so nothing else changes whether Zendesk merges or replaces; the
//! answer must show every other setting unchanged. A secure setting is write-only
//! (fingerprint); a plain one must read back as the new value.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing};
use crate::inventory::{Holds, LiveConsumer};
use crate::kinds::{
    ConsumerCheck, ConsumerDriver, ConsumerKindId, ConsumerLiveCx, Credential, Proof,
};
use crate::manifest::ConsumerKey;
use crate::zendesk::{Installation, InstallationSettings, SettingValue, ZendeskClient};

/// A setting of an installed Zendesk app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["app"]}, {"required": ["installation_id"]}]))]
pub struct ZendeskAppSetting {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The installed app's name (or give `installation_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The installation's numeric id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_id: Option<u64>,
    /// The setting that holds the value.
    pub setting: String,
}

impl ZendeskAppSetting {
    /// The installation's id (`#ID`) or app name.
    pub fn target(&self) -> String {
        match (self.installation_id, &self.app) {
            (Some(id), _) => format!("#{id}"),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        }
    }
}

impl ZendeskAppSetting {
    async fn find(&self, zd: &ZendeskClient) -> Result<Installation, String> {
        if let Some(id) = self.installation_id {
            return zd.get_installation(id).await.map_err(|e| e.to_string());
        }
        let name = self.app.clone().unwrap_or_default();
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
                self.zendesk
            )),
            n => Err(format!(
                "Zendesk {}: {n} installations match the app \"{name}\"; name this one by \
                 `installation_id`",
                self.zendesk
            )),
        }
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

#[async_trait]
impl ConsumerDriver for ZendeskAppSetting {
    fn id(&self) -> ConsumerKindId {
        ConsumerKindId::ZendeskAppSetting
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::Zendesk, &self.zendesk))
    }
    fn key(&self) -> Option<ConsumerKey> {
        Some(ConsumerKey(format!(
            "zendesk:{}/app/{}/setting/{}",
            self.zendesk,
            self.target(),
            self.setting
        )))
    }
    fn label(&self) -> String {
        format!(
            "{}: app \"{}\" setting {}",
            self.zendesk,
            self.target(),
            self.setting
        )
    }
    fn settings(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn instructions(&self) -> Option<&str> {
        None
    }
    fn check(&self, cx: &mut ConsumerCheck<'_>) {
        if self.app.is_none() && self.installation_id.is_none() {
            cx.problem(
                "",
                "missing field `app` (or `installation_id`)",
                "name the installed app with `app: NAME` or `installation_id: ID`",
            );
        }
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(ListKey::ZendeskInstallations {
            zendesk: self.zendesk.clone(),
        });
        needs.insert(ListKey::ZendeskOwnedApps {
            zendesk: self.zendesk.clone(),
        });
    }
    fn live(&self, cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>> {
        let list = ListKey::ZendeskInstallations {
            zendesk: self.zendesk.clone(),
        };
        let Some(Ok(Listing::Installations(installs))) = cx.fetched.get(&list) else {
            return Err(None);
        };
        let apps = match cx.fetched.get(&ListKey::ZendeskOwnedApps {
            zendesk: self.zendesk.clone(),
        }) {
            Some(Ok(Listing::OwnedApps(apps))) => apps.as_slice(),
            _ => &[],
        };
        let found = installs
            .iter()
            .find(|i| match (self.installation_id, &self.app) {
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
            .and_then(|app| app.parameters.iter().find(|p| p.name == self.setting))
            .is_some_and(|p| p.secure);
        let holds = if secure {
            Holds::WriteOnly
        } else {
            match install.settings.get(&self.setting).and_then(|v| v.as_str()) {
                Some(v) if !v.is_empty() => {
                    let value = SecretString::from(v.to_string());
                    cx.readable(&value)
                }
                _ => Holds::Nothing,
            }
        };
        Ok(LiveConsumer::Present {
            settings: BTreeMap::new(),
            holds,
        })
    }

    fn written_by_apply(&self) -> bool {
        true
    }
    fn rewrite_safe(&self) -> bool {
        true
    }
    async fn write(
        &self,
        clients: &Clients,
        given: Credential<'_>,
    ) -> Result<Option<Proof>, String> {
        let value = given.value;
        let zd = clients.zendesk_for(&self.zendesk)?;
        let install = self.find(zd).await?;
        let mut settings = InstallationSettings::default();
        for (name, v) in &install.settings {
            if name != &self.setting {
                settings
                    .0
                    .push((name.clone(), SettingValue::Plain(v.clone())));
            }
        }
        settings
            .0
            .push((self.setting.clone(), SettingValue::Secret(value.clone())));
        let after = zd
            .update_installation_settings(install.id, &settings)
            .await
            .map_err(|e| e.to_string())?;
        let changed: Vec<&str> = install
            .settings
            .iter()
            .filter(|(name, v)| *name != &self.setting && after.settings.get(*name) != Some(v))
            .map(|(name, _)| name.as_str())
            .collect();
        if changed.is_empty() {
            // Verified by reading the installation again.
            Ok(None)
        } else {
            Err(format!(
                "Zendesk {}: writing setting {} of app installation {} changed other settings \
                 too ({}); restore them in Admin Center and report this",
                self.zendesk,
                self.setting,
                install.id,
                changed.join(", ")
            ))
        }
    }
    async fn verify(&self, clients: &Clients, given: Credential<'_>) -> Result<Proof, String> {
        let value = given.value;
        let zd = clients.zendesk_for(&self.zendesk)?;
        let install = self.find(zd).await?;
        let secure = secure_setting(zd, &install, &self.setting).await;
        match install.settings.get(&self.setting) {
            Some(held) if !secure => {
                if held.as_str() == Some(value.expose_secret()) {
                    Ok(Proof::ReadBack)
                } else {
                    Err(format!(
                        "Zendesk {}: app installation {} setting {} does not hold the new value \
                         after the write",
                        self.zendesk, install.id, self.setting
                    ))
                }
            }
            _ if secure => Ok(Proof::Written),
            _ => Err(format!(
                "Zendesk {}: app installation {} has no setting {} after the write; check the \
                 setting name against the app's parameters",
                self.zendesk, install.id, self.setting
            )),
        }
    }
}
