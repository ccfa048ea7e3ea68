//! `zendesk_oauth_client_secret`: the secret of a Zendesk OAuth client. `generate_secret`
//! makes a new one and kills the old one at once (like a GitLab rotate), so the value is
//! escrowed before any other call, as for every kind. Zendesk gives secrets no expiry:
//! tokenops ages them from its last replacement.

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::SignedDuration;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, ProbeKind};
use crate::http::ApiError;
use crate::inventory::{DiscoveredToken, LiveRecord, LiveToken};
use crate::kinds::entry::key;
use crate::kinds::zendesk::{fetched_client, live_client};
use crate::kinds::{
    Issued, KindCheck, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};
use crate::ledger::{Obtain, PendingRotation};
use crate::manifest::LifetimeLimit;
use crate::time::utc_date;

/// The secret of a Zendesk OAuth client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZendeskOauthClientSecret {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The OAuth client's unique identifier.
    pub client: String,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "OAuth client secret",
    class: TokenClass::SecretReset,
    found_identity,
    import,
};

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    let p = found.platform.as_str();
    (
        key(&[p, &found.kind, &found.record.name]),
        format!("Zendesk {p}"),
    )
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    UndeclaredEntry::Skip(format!(
        "OAuth client secret of {} on {}: declare it by hand",
        found.record.name, found.platform
    ))
}

#[async_trait]
impl TokenDriver for ZendeskOauthClientSecret {
    fn id(&self) -> TokenKindId {
        TokenKindId::ZendeskOauthClientSecret
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
        format!("secret of OAuth client {}", self.client)
    }
    fn bot_owned(&self) -> bool {
        false
    }
    fn check(&self, _cx: &mut KindCheck<'_>) {}
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
        needs.insert(ListKey::ZendeskOauthClients {
            zendesk: self.zendesk.clone(),
        });
    }
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>> {
        let c = fetched_client(cx.fetched, &self.zendesk, &self.client)?;
        // Zendesk gives secrets no expiry and no date of their own: the client's `updated_at`
        // moves with any edit of the client. tokenops ages a secret from its own last
        // replacement; before that, the age is unknown.
        let lifetime = cx.policy.lifetime.as_secs();
        let since = cx.ledger.token(&cx.spec.id).and_then(|r| r.replaced_at);
        let expires = since.and_then(|at| {
            at.checked_add(SignedDuration::from_secs(
                i64::try_from(lifetime).unwrap_or(i64::MAX),
            ))
            .ok()
        });
        Ok(LiveToken::Found(LiveRecord {
            platform_id: c.id.to_string(),
            name: c.identifier.clone(),
            expires_at: expires.map(utc_date),
            expires_at_time: expires,
            active: true,
            user_id: c.user_id,
            age_unknown: since.is_none(),
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
        let client = &self.client;
        let zd = cx.clients.zendesk_for(zendesk).map_err(Stop::Failed)?;
        let c = live_client(zd, client).await.map_err(Stop::Failed)?;
        // Each call makes a new secret and kills the previous one; a lost answer leaves a
        // secret nobody knows, so calling again is the only way forward.
        match zd.generate_oauth_client_secret(c.id).await {
            Ok(updated) => match updated.secret {
                Some(secret) => Ok((c.id.to_string(), secret)),
                None => Err(Stop::Pending(format!(
                    "Zendesk {zendesk}: the new secret of OAuth client `{client}` was not in \
                     the answer; the next apply generates another"
                ))),
            },
            Err(e @ ApiError::OutcomeUnknown { .. }) => Err(Stop::Pending(format!(
                "{e}; the old secret may already be dead: the next apply generates another"
            ))),
            Err(e) => Err(Stop::Failed(e.to_string())),
        }
    }
    async fn retire(&self, _cx: &StageCx<'_>, _old: &str) -> Result<(), String> {
        // The old secret died when the new one was generated.
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
        "new client secret generated; every consumer verified"
    }
}
