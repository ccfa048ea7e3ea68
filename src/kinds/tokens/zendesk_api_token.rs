//! `zendesk_api_token`: a legacy Zendesk API token, paired with an agent's email. Zendesk
//! has never had a public API to create one and no account can create one since 2026-10-27,
//! so tokenops inventories it, warns about the deadlines (deactivation after 30 idle days;
//! every token stops on 2027-04-30), distributes a value a person provides
//! (`apply --provide`) and advises the move to OAuth. It never rotates one.

use std::collections::BTreeSet;

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing, ProbeKind};
use crate::inventory::{DiscoveredToken, LiveRecord, LiveToken};
use crate::kinds::entry::key;
use crate::kinds::{
    Issued, KindCheck, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};
use crate::ledger::{Obtain, PendingRotation};
use crate::manifest::LifetimeLimit;
use crate::time::utc_date;

/// A legacy Zendesk API token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZendeskApiToken {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The token's numeric id in Zendesk.
    pub token_id: u64,
    /// The agent email the token is paired with.
    pub email: String,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "Zendesk API token (legacy)",
    last_use: true,
    class: TokenClass::Legacy,
    found_identity,
    import,
};

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    crate::kinds::zendesk::found_identity(found, &["api_token", &found.record.platform_id])
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    UndeclaredEntry::Skip(format!(
        "{} {} on {}: declare it by hand (the agent e-mail it pairs with is not in the API), \
         then plan a move to OAuth",
        found.kind, found.record.platform_id, found.platform
    ))
}

#[async_trait]
impl TokenDriver for ZendeskApiToken {
    fn id(&self) -> TokenKindId {
        TokenKindId::ZendeskApiToken
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
        format!("API token {} used as {}", self.token_id, self.email)
    }
    fn bot_owned(&self) -> bool {
        false
    }
    fn check(&self, cx: &mut KindCheck<'_>) {
        if cx.sets_strategy {
            cx.rotation_problem(
                "strategy",
                "legacy Zendesk API tokens cannot be rotated by API, so a strategy does not apply",
                "remove `strategy:`; migrate the consumers to a zendesk_oauth_token instead",
            );
        }
    }
    fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
        // 40 letters and digits: always maskable.
        None
    }
    fn declares(&self, found: &DiscoveredToken) -> bool {
        found.kind == self.id().key()
            && self.zendesk == found.platform
            && self.token_id.to_string() == found.record.platform_id
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        Some((
            key(&[&self.zendesk, "api_token", &self.token_id.to_string()]),
            format!("Zendesk {}", self.zendesk),
            format!("API token {}", self.token_id),
        ))
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(self.list());
    }
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>> {
        let Some(Ok(Listing::ApiTokens(tokens))) = cx.fetched.get(&self.list()) else {
            return Err(None);
        };
        Ok(match tokens.iter().find(|a| a.id == self.token_id) {
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
    fn probe(&self, _value: &SecretString) -> Option<ProbeKind> {
        None
    }

    async fn known_ids(&self, _cx: &StageCx<'_>) -> Result<Vec<String>, Stop> {
        Ok(Vec::new())
    }
    async fn stage(
        &self,
        _cx: &StageCx<'_>,
        _pending: &mut PendingRotation,
        _fresh: bool,
        _notes: &mut Vec<String>,
    ) -> Result<Issued, Stop> {
        Err(Stop::Failed(
            "legacy Zendesk API tokens cannot be created by API; obtain a value by hand and \
             distribute it with `tokenops apply --provide ID`, or move the consumers to OAuth"
                .to_string(),
        ))
    }
    async fn retire(&self, _cx: &StageCx<'_>, _old: &str) -> Result<(), String> {
        Ok(())
    }
    async fn check_provided(
        &self,
        clients: &Clients,
        value: &SecretString,
    ) -> Result<String, String> {
        let zd = clients.zendesk_for(&self.zendesk)?;
        let me = zd
            .introspect_api_token(&self.email, value)
            .await
            .map_err(|e| format!("the provided value does not authenticate: {e}"))?;
        let same = me
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&self.email));
        if !me.is_authenticated() || !same {
            return Err(format!(
                "Zendesk {}: the provided value does not sign in as {} (Zendesk answered as \
                 an anonymous or other user); nothing was written. Check the token and the \
                 manifest's `email`",
                self.zendesk, self.email
            ));
        }
        Ok(self.token_id.to_string())
    }
    fn client_secret(&self) -> Option<(String, String)> {
        None
    }
    fn done_words(&self, _obtain: Obtain) -> &'static str {
        "the provided value was distributed; every consumer verified"
    }
}

impl ZendeskApiToken {
    fn list(&self) -> ListKey {
        ListKey::ZendeskApiTokens {
            zendesk: self.zendesk.clone(),
        }
    }
}

/// The day Zendesk began deactivating API tokens unused for 30 days.
pub const IDLE_POLICY_START: jiff::civil::Date = jiff::civil::date(2026, 7, 28);
/// Zendesk deactivates an API token that nobody used for this many days.
pub const IDLE_DAYS: i64 = 30;

/// When Zendesk deactivates a legacy API token for disuse, judged from what it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deactivation {
    /// Zendesk reports it inactive.
    Done,
    /// On this day, unless it is used before.
    On(jiff::civil::Date),
    /// Its idle days are over and Zendesk still reports it active: any day now.
    AnyDay {
        /// Days since its last use.
        idle_days: i64,
    },
    /// Zendesk never saw it used: it may go any day.
    NeverUsed,
}

/// When an API token is deactivated for disuse: `IDLE_DAYS` after its last use, but not
/// before the policy began; a token Zendesk still reports active is never given a day
/// already past.
pub fn deactivation(
    active: bool,
    last_used: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Deactivation {
    if !active {
        return Deactivation::Done;
    }
    let Some(used) = last_used else {
        return Deactivation::NeverUsed;
    };
    let off = crate::time::add_days(utc_date(used), IDLE_DAYS).max(IDLE_POLICY_START);
    if off <= utc_date(now) {
        Deactivation::AnyDay {
            idle_days: crate::time::days_between(used, now),
        }
    } else {
        Deactivation::On(off)
    }
}
