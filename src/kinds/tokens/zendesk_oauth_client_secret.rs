//! `zendesk_oauth_client_secret`: the secret of a Zendesk OAuth client. `generate_secret`
//! makes a new one and kills the old one at once (like a GitLab rotate), so the value is
//! escrowed before any other call, as for every kind. Zendesk gives secrets no expiry:
//! tokenops ages them from its last replacement.
//!
//! The secret of the client tokenops itself signs in with (a `tokenops_credential`
//! consumer) is generated with the run's access token, which stays valid; a generate whose
//! answer was lost is never sent again: the next run finds that the old secret no longer
//! signs in and says what a person must do.

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
        fresh: bool,
        _notes: &mut Vec<String>,
    ) -> Result<Issued, Stop> {
        let zendesk = &self.zendesk;
        let client = &self.client;
        let zd = cx.clients.zendesk_for(zendesk).map_err(Stop::Failed)?;
        let own = cx.spec.run_credential() == Some((Platform::Zendesk, zendesk.as_str()));
        if own {
            match zd.signs_in_as_client() {
                Some(signed) if signed == *client => {}
                Some(signed) => {
                    return Err(Stop::Failed(format!(
                        "Zendesk {zendesk}: tokenops signs in as OAuth client `{}` (the \
                         variable `client_id_env` names), not `{client}`: declare the \
                         tokenops_credential consumer on that client's secret",
                        crate::text::echo(&signed)
                    )));
                }
                None => {
                    return Err(Stop::Failed(format!(
                        "Zendesk {zendesk}: this run does not sign in with OAuth client \
                         `{client}`: set `client_id_env` and `client_secret_env` for the \
                         instance in tokenops.yaml (and unset any TOKENOPS_ZENDESK_*_TOKEN \
                         override) so that its secret is tokenops's credential"
                    )));
                }
            }
            if !fresh {
                // Resuming an intent: the generate may have gone through with its answer
                // lost. The old secret still signing in proves it did not.
                match zd.can_sign_in().await {
                    Ok(true) => {}
                    Ok(false) => return Err(Stop::Failed(lost_own_secret_words(cx.spec, self))),
                    Err(e) => {
                        return Err(Stop::Pending(format!(
                            "tokenops could not learn whether the client secret still signs in \
                             ({e}); the next apply asks again"
                        )));
                    }
                }
            }
        }
        let c = live_client(zd, client).await.map_err(Stop::Failed)?;
        // Each call makes a new secret and kills the previous one; a lost answer leaves a
        // secret nobody knows, so calling again is the only way forward (for the run's own
        // secret, only once the old one is known to still sign in).
        match zd.generate_oauth_client_secret(c.id).await {
            Ok(updated) => match updated.secret {
                Some(secret) => Ok((c.id.to_string(), secret)),
                None => Err(Stop::Pending(format!(
                    "Zendesk {zendesk}: the new secret of OAuth client `{client}` was not in \
                     the answer; the next apply generates another"
                ))),
            },
            Err(e @ ApiError::OutcomeUnknown { .. }) if own => Err(Stop::Pending(format!(
                "{e}; the next apply first checks whether the old secret still signs in, and \
                 generates another only if it does"
            ))),
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
    fn signs_in_to(&self) -> Option<(Platform, &str)> {
        Some((Platform::Zendesk, &self.zendesk))
    }
    fn lost_own_credential(&self, spec: &crate::manifest::TokenSpec) -> Option<String> {
        Some(lost_own_secret_words(spec, self))
    }
}

/// What a person does when the secret of the OAuth client tokenops signs in to Zendesk with
/// was generated anew and the answer with it lost: nobody knows the new secret, and the old
/// one no longer signs in.
pub fn lost_own_secret_words(
    spec: &crate::manifest::TokenSpec,
    s: &ZendeskOauthClientSecret,
) -> String {
    let holders: Vec<String> = spec
        .consumers
        .iter()
        .filter(|c| c.driver().run_credential().is_none())
        .map(|c| c.driver().label())
        .collect();
    format!(
        "token {id}: the secret tokenops signs in to Zendesk `{zendesk}` with no longer signs \
         in: a new secret of OAuth client `{client}` was generated but the answer with it was \
         lost, so nobody knows it. tokenops never generates one again blindly. A person must: \
         1. in Zendesk Admin Center (Apps and integrations > APIs > OAuth clients > \
         `{client}`), generate a new secret; 2. put it in {holders} and in the variable \
         `client_secret_env` names for `{zendesk}`; 3. run `tokenops apply` again: tokenops \
         keeps the new secret alive from then on",
        id = spec.id,
        zendesk = s.zendesk,
        client = s.client,
        holders = if holders.is_empty() {
            "the CI/CD variable that holds it".to_string()
        } else {
            holders.join(", ")
        },
    )
}
