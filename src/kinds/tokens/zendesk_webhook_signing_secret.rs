//! `zendesk_webhook_signing_secret`: the secret a Zendesk webhook signs its requests with
//! (`X-Zendesk-Webhook-Signature`); its consumers are the receivers that verify the
//! signature. `POST /api/v2/webhooks/{id}/signing_secret` resets it and the old one stops
//! signing at once, with no overlap, so the new value is escrowed before any other call, as
//! for every value that kills the old one. Zendesk gives the secret no expiry: tokenops ages
//! it from its last reset, or from the webhook's creation.

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::SignedDuration;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing, ProbeKind};
use crate::http::ApiError;
use crate::inventory::{DiscoveredToken, LiveRecord, LiveToken};
use crate::kinds::{
    Issued, KindCheck, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};
use crate::ledger::{Obtain, PendingRotation};
use crate::manifest::LifetimeLimit;
use crate::time::utc_date;
use crate::zendesk::Webhook;

/// The signing secret of a Zendesk webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["webhook"]}, {"required": ["webhook_id"]}]))]
pub struct ZendeskWebhookSigningSecret {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The webhook's name (or give `webhook_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// The webhook's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "webhook signing secret",
    last_use: true,
    class: TokenClass::SecretReset,
    found_identity,
    import,
};

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    crate::kinds::zendesk::found_identity(found, &[&found.kind, &found.record.name])
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    UndeclaredEntry::Skip(format!(
        "signing secret of webhook {} on {}: declare it by hand with its receivers",
        found.record.name, found.platform
    ))
}

impl ZendeskWebhookSigningSecret {
    /// The webhook's id (`#ID`) or name.
    fn target(&self) -> String {
        match (&self.webhook_id, &self.webhook) {
            (Some(id), _) => format!("#{id}"),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        }
    }

    fn matches(&self, hook: &Webhook) -> bool {
        match (&self.webhook_id, &self.webhook) {
            (Some(id), _) => &hook.id == id,
            (None, Some(name)) => &hook.name == name,
            (None, None) => false,
        }
    }

    fn one<'a>(&self, hooks: &'a [Webhook]) -> Result<Option<&'a Webhook>, String> {
        let found: Vec<&Webhook> = hooks.iter().filter(|h| self.matches(h)).collect();
        match found.as_slice() {
            [] => Ok(None),
            [hook] => Ok(Some(hook)),
            many => Err(format!(
                "Zendesk {} has {} webhooks named \"{}\" ({}); name this one by `webhook_id` \
                 in the manifest",
                self.zendesk,
                many.len(),
                self.target(),
                many.iter()
                    .map(|h| h.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

#[async_trait]
impl TokenDriver for ZendeskWebhookSigningSecret {
    fn id(&self) -> TokenKindId {
        TokenKindId::ZendeskWebhookSigningSecret
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::Zendesk, &self.zendesk))
    }
    fn scopes(&self) -> &[String] {
        &[]
    }
    fn scope_rules(&self) -> ScopeRules {
        ScopeRules::None
    }
    fn lifetime_limit(&self) -> Option<LifetimeLimit> {
        None
    }
    fn object_words(&self) -> String {
        format!("signing secret of webhook \"{}\"", self.target())
    }
    fn bot_owned(&self) -> bool {
        false
    }
    fn check(&self, cx: &mut KindCheck<'_>) {
        if self.webhook.is_none() && self.webhook_id.is_none() {
            cx.problem(
                "",
                "missing field `webhook` (or `webhook_id`)",
                "name the webhook with `webhook: NAME` or `webhook_id: ID`",
            );
        }
    }
    fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
        None
    }
    fn declares(&self, _found: &DiscoveredToken) -> bool {
        false
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        None
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(ListKey::ZendeskWebhooks {
            zendesk: self.zendesk.clone(),
        });
    }
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>> {
        let list = ListKey::ZendeskWebhooks {
            zendesk: self.zendesk.clone(),
        };
        let Some(Ok(Listing::Webhooks(hooks))) = cx.fetched.get(&list) else {
            return Err(None);
        };
        let Some(hook) = self.one(hooks).map_err(Some)? else {
            return Err(Some(format!(
                "Zendesk {}: no webhook named \"{}\"; create it (tokenops does not create \
                 webhooks) or fix the manifest",
                self.zendesk,
                self.target()
            )));
        };
        let lifetime = cx.policy.lifetime.as_secs();
        let since = cx
            .ledger
            .token(&cx.spec.id)
            .and_then(|r| r.replaced_at)
            .or(hook.created_at);
        let expires = since.and_then(|at| {
            at.checked_add(SignedDuration::from_secs(
                i64::try_from(lifetime).unwrap_or(i64::MAX),
            ))
            .ok()
        });
        Ok(LiveToken::Found(LiveRecord {
            platform_id: hook.id.clone(),
            name: hook.name.clone(),
            expires_at: expires.map(utc_date),
            expires_at_time: expires,
            active: true,
            ..LiveRecord::default()
        }))
    }
    fn probe(&self, _value: &SecretString) -> Option<ProbeKind> {
        None
    }

    async fn known_ids(&self, _cx: &StageCx<'_>) -> Result<Vec<String>, Stop> {
        Ok(Vec::new())
    }
    async fn stage(
        &self,
        cx: &StageCx<'_>,
        _pending: &mut PendingRotation,
        _fresh: bool,
        _notes: &mut Vec<String>,
    ) -> Result<Issued, Stop> {
        let zendesk = &self.zendesk;
        let zd = cx.clients.zendesk_for(zendesk).map_err(Stop::Failed)?;
        let hooks = zd
            .list_webhooks(self.webhook.as_deref())
            .await
            .map_err(|e| Stop::Failed(e.to_string()))?;
        let hook = match self.one(&hooks).map_err(Stop::Failed)? {
            Some(hook) => hook.clone(),
            None => {
                return Err(Stop::Failed(format!(
                    "Zendesk {zendesk}: no webhook named \"{}\"",
                    self.target()
                )));
            }
        };
        // Each reset makes a new secret and kills the previous one. After a lost answer or
        // a crash before the value was escrowed, nobody holds the newest secret yet, so
        // resetting again is safe and leaves one value the ledger knows.
        match zd.reset_webhook_signing_secret(&hook.id).await {
            Ok(Some(secret)) => Ok((hook.id.clone(), secret)),
            Ok(None) => Err(Stop::Pending(format!(
                "Zendesk {zendesk}: the new signing secret of webhook \"{}\" was not in the \
                 answer; the next apply resets it again",
                hook.name
            ))),
            Err(e @ ApiError::OutcomeUnknown { .. }) => Err(Stop::Pending(format!(
                "{e}; the old signing secret may already be dead: the next apply resets it \
                 again"
            ))),
            Err(e) => Err(Stop::Failed(e.to_string())),
        }
    }
    async fn retire(&self, _cx: &StageCx<'_>, _old: &str) -> Result<(), String> {
        // The old secret stopped signing when the new one was made.
        Ok(())
    }
    async fn check_provided(
        &self,
        _clients: &Clients,
        _value: &SecretString,
    ) -> Result<String, String> {
        Ok(String::new())
    }
    fn client_secret(&self) -> Option<(String, String)> {
        None
    }
    fn done_words(&self, _obtain: Obtain) -> &'static str {
        "signing secret reset; every receiver verified"
    }
}
