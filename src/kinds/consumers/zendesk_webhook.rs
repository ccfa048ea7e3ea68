//! `zendesk_webhook`: the authentication of a Zendesk webhook (bearer token, basic auth with
//! a user name, or an API-key header). Set by PATCH with only `authentication` (every other
//! field is kept), then the webhook is read again to confirm the type and the `header`
//! position. The credential itself is write-only: the keyed fingerprint is what is recorded.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing};
use crate::inventory::{Holds, LiveConsumer};
use crate::kinds::{
    ConsumerCheck, ConsumerDriver, ConsumerKindId, ConsumerLiveCx, Credential, Proof,
};
use crate::manifest::ConsumerKey;
use crate::zendesk::{Webhook, WebhookAuth, ZendeskClient};

/// The authentication of a Zendesk webhook that carries the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["webhook"]}, {"required": ["webhook_id"]}]))]
pub struct ZendeskWebhook {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The webhook's name (or give `webhook_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// The webhook's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// How the value is sent.
    pub auth: ZendeskWebhookAuth,
    /// User name for `basic_auth` (the value is the password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Header name for `api_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl ZendeskWebhook {
    /// The webhook's id (`#ID`) or name.
    pub fn target(&self) -> String {
        match (&self.webhook_id, &self.webhook) {
            (Some(id), _) => format!("#{id}"),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        }
    }
}

/// Zendesk webhook authentication types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ZendeskWebhookAuth {
    /// `Authorization: Bearer VALUE`.
    BearerToken,
    /// `Authorization: Basic` with `username` and the value as password.
    BasicAuth,
    /// A custom header (`header`) holding the value.
    ApiKey,
}

impl ZendeskWebhookAuth {
    /// The manifest (and Zendesk) spelling of the type.
    pub fn words(self) -> &'static str {
        match self {
            ZendeskWebhookAuth::BearerToken => "bearer_token",
            ZendeskWebhookAuth::BasicAuth => "basic_auth",
            ZendeskWebhookAuth::ApiKey => "api_key",
        }
    }
}

impl ZendeskWebhook {
    fn auth_of(&self, value: &SecretString) -> WebhookAuth {
        match self.auth {
            ZendeskWebhookAuth::BearerToken => WebhookAuth::BearerToken(value.clone()),
            ZendeskWebhookAuth::BasicAuth => WebhookAuth::BasicAuth {
                username: self.username.clone().unwrap_or_default(),
                password: value.clone(),
            },
            ZendeskWebhookAuth::ApiKey => WebhookAuth::ApiKey {
                name: self.header.clone().unwrap_or_default(),
                value: value.clone(),
            },
        }
    }

    async fn find(&self, zd: &ZendeskClient) -> Result<Webhook, String> {
        if let Some(id) = &self.webhook_id {
            return zd.get_webhook(id).await.map_err(|e| e.to_string());
        }
        let name = self.webhook.clone().unwrap_or_default();
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
                self.zendesk
            )),
            n => Err(format!(
                "Zendesk {}: {n} webhooks are named \"{name}\" ({}); name this one by \
                 `webhook_id`",
                self.zendesk,
                named
                    .iter()
                    .map(|h| h.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

#[async_trait]
impl ConsumerDriver for ZendeskWebhook {
    fn id(&self) -> ConsumerKindId {
        ConsumerKindId::ZendeskWebhook
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::Zendesk, &self.zendesk))
    }
    fn key(&self) -> Option<ConsumerKey> {
        Some(ConsumerKey(format!(
            "zendesk:{}/webhook/{}",
            self.zendesk,
            self.target()
        )))
    }
    fn label(&self) -> String {
        format!(
            "{}: webhook \"{}\" ({})",
            self.zendesk,
            self.target(),
            self.auth.words()
        )
    }
    fn settings(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("auth".to_string(), self.auth.words().to_string())])
    }
    fn instructions(&self) -> Option<&str> {
        None
    }
    fn check(&self, cx: &mut ConsumerCheck<'_>) {
        if self.webhook.is_none() && self.webhook_id.is_none() {
            cx.problem(
                "",
                "missing field `webhook` (or `webhook_id`)",
                "name the webhook with `webhook: NAME` or `webhook_id: ID`",
            );
        }
        match self.auth {
            ZendeskWebhookAuth::BasicAuth if self.username.is_none() => cx.problem(
                "auth",
                "basic_auth needs a `username`",
                "add `username:` (the token value becomes the password)",
            ),
            ZendeskWebhookAuth::ApiKey if self.header.is_none() => cx.problem(
                "auth",
                "api_key needs a `header`",
                "add `header:` with the name of the header that carries the value",
            ),
            _ => {}
        }
        if self.username.is_some() && self.auth != ZendeskWebhookAuth::BasicAuth {
            cx.problem(
                "username",
                "`username` is only used with `auth: basic_auth`",
                "remove it, or set `auth: basic_auth`",
            );
        }
        if self.header.is_some() && self.auth != ZendeskWebhookAuth::ApiKey {
            cx.problem(
                "header",
                "`header` is only used with `auth: api_key`",
                "remove it, or set `auth: api_key`",
            );
        }
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(ListKey::ZendeskWebhooks {
            zendesk: self.zendesk.clone(),
        });
    }
    fn live(&self, cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>> {
        let list = ListKey::ZendeskWebhooks {
            zendesk: self.zendesk.clone(),
        };
        let Some(Ok(Listing::Webhooks(hooks))) = cx.fetched.get(&list) else {
            return Err(None);
        };
        let found: Vec<_> = hooks
            .iter()
            .filter(|h| match (&self.webhook_id, &self.webhook) {
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
                self.zendesk,
                many.len(),
                self.target(),
                many.iter()
                    .map(|h| h.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
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
        let hook = self.find(zd).await?;
        zd.set_webhook_auth(&hook.id, &self.auth_of(value))
            .await
            .map_err(|e| e.to_string())?;
        // Verified by reading the webhook again (type and position).
        Ok(None)
    }
    async fn verify(&self, clients: &Clients, _given: Credential<'_>) -> Result<Proof, String> {
        let zd = clients.zendesk_for(&self.zendesk)?;
        let found = self.find(zd).await?;
        let hook = zd.get_webhook(&found.id).await.map_err(|e| e.to_string())?;
        let want = self.auth.words();
        match &hook.authentication {
            Some(a)
                if a.kind == want && a.add_position.as_deref().unwrap_or("header") == "header" =>
            {
                Ok(Proof::Written)
            }
            Some(a) => Err(format!(
                "Zendesk {}: webhook \"{}\" ({}) holds {} authentication at {} after the \
                 write, not {want} in the header; check that nothing else rewrites it",
                self.zendesk,
                hook.name,
                hook.id,
                a.kind,
                a.add_position.as_deref().unwrap_or("no position")
            )),
            None => Err(format!(
                "Zendesk {}: webhook \"{}\" ({}) has no authentication after the write",
                self.zendesk, hook.name, hook.id
            )),
        }
    }
}
