//! `zendesk_oauth_token`: an OAuth access token of a confidential client, minted by an admin
//! through the OAuth Tokens API or by the client itself with the client-credentials grant.
//! The old token stays valid until tokenops revokes it, after every consumer holds the new
//! one.
//!
//! A client's tokens belong to users: the admin API mints a token for the admin who calls it,
//! the client-credentials grant for the client's owner, and other agents may hold tokens of
//! the same client. A declaration names one (client, user) pair, so tokenops never adopts,
//! replaces or revokes a token another user signs in with.
//!
//! Zendesk accepts an invalid scope without complaint and the token then fails every call,
//! so a minted token is signed in with and its scopes compared with the declared list
//! before anything is written; one that differs is revoked at once and never distributed.

use std::collections::BTreeSet;

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{Fetched, ListKey, Listing, ProbeKind};
use crate::http::ApiError;
use crate::inventory::{DiscoveredToken, LiveRecord, LiveToken};
use crate::kinds::entry::{key, q, scopes, slug};
use crate::kinds::zendesk::{fetched_client, live_client, secret_env, secret_key};
use crate::kinds::{
    Issued, KindCheck, NewExpiry, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId,
    TokenLiveCx, TokenMeta, UndeclaredEntry,
};
use crate::ledger::{Obtain, PendingRotation};
use crate::manifest::{Duration, LifetimeLimit};
use crate::time::utc_date;
use crate::zendesk::{Grant, NewOAuthToken, OAuthClient, OAuthToken, ZendeskClient};

/// Zendesk's longest access-token life for the grant endpoint (exclusive), in seconds.
const GRANT_MAX_SECS: u64 = 172_800;
/// Zendesk's shortest access-token life for the grant endpoint (exclusive), in seconds.
const GRANT_MIN_SECS: u64 = 300;

/// An OAuth access token of a Zendesk client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZendeskOauthToken {
    /// The Zendesk instance (a `name` under `zendesk:` in tokenops.yaml).
    pub zendesk: String,
    /// The OAuth client's unique identifier.
    pub client: String,
    /// Zendesk scopes: `read`, `write`, `impersonate` or `RESOURCE:read|write`.
    #[schemars(schema_with = "crate::manifest::scopes::zendesk_scopes_schema")]
    pub scopes: Vec<String>,
    /// How tokens are minted.
    #[serde(default)]
    pub grant: OauthGrant,
    /// The id of the Zendesk user the token signs in as. Default: the user tokenops's own
    /// credential for the instance signs in as (`admin_api`: Zendesk mints a token for the
    /// admin who asks) or the client's owner (`client_credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
}

/// How a Zendesk OAuth token is obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OauthGrant {
    /// An admin creates it through the OAuth Tokens API.
    #[default]
    AdminApi,
    /// The confidential client asks for it (lives under 48 hours).
    ClientCredentials,
}

/// What the registry knows about the kind.
pub static META: TokenMeta = TokenMeta {
    words: "Zendesk OAuth token",
    last_use: true,
    class: TokenClass::Replaceable,
    found_identity,
    import,
};

fn found_identity(found: &DiscoveredToken) -> (String, String) {
    let r = &found.record;
    crate::kinds::zendesk::found_identity(found, &[&found.kind, &r.name, &r.platform_id])
}

fn import(found: &DiscoveredToken) -> UndeclaredEntry {
    let r = &found.record;
    if r.name.starts_with("client ") || r.name.is_empty() {
        return UndeclaredEntry::Skip(format!(
            "zendesk_oauth_token {} on {}: its OAuth client is not listed, so the entry \
             cannot name it",
            r.platform_id, found.platform
        ));
    }
    UndeclaredEntry::Entry {
        id_base: match r.user_id {
            Some(user) => slug(&[&found.platform, "oauth", &r.name, &user.to_string()]),
            None => slug(&[&found.platform, "oauth", &r.name]),
        },
        body: format!(
            "    zendesk_oauth_token:\n      zendesk: {}\n      client: {}\n      scopes: {}\n{}",
            q(&found.platform),
            q(&r.name),
            scopes(&r.scopes),
            r.user_id
                .map(|u| format!("      user_id: {u}\n"))
                .unwrap_or_default()
        ),
    }
}

impl ZendeskOauthToken {
    /// The user the token signs in as, from the fetched lists. `Err(None)`: a list failed.
    fn expected_user(
        &self,
        fetched: &Fetched,
        client: &OAuthClient,
    ) -> Result<u64, Option<String>> {
        if let Some(user) = self.user_id {
            return Ok(user);
        }
        match self.grant {
            OauthGrant::AdminApi => match fetched.get(&self.current_user_list()) {
                Some(Ok(Listing::ZendeskUser(me))) => me.id.ok_or(None),
                _ => Err(None),
            },
            OauthGrant::ClientCredentials => {
                client.user_id.ok_or_else(|| Some(self.no_owner(client.id)))
            }
        }
    }

    /// The user the token signs in as, read live.
    async fn live_user(&self, zd: &ZendeskClient, client: &OAuthClient) -> Result<u64, String> {
        if let Some(user) = self.user_id {
            return Ok(user);
        }
        match self.grant {
            OauthGrant::AdminApi => {
                let me = zd.current_user().await.map_err(|e| e.to_string())?;
                me.id.ok_or_else(|| "users/me named no user".to_string())
            }
            OauthGrant::ClientCredentials => client.user_id.ok_or_else(|| self.no_owner(client.id)),
        }
    }

    fn no_owner(&self, id: u64) -> String {
        format!(
            "Zendesk {}: OAuth client `{}` ({id}) names no owner, so the user its tokens sign \
             in as is unknown; set `user_id` on the entry",
            self.zendesk, self.client
        )
    }

    fn current_user_list(&self) -> ListKey {
        ListKey::ZendeskCurrentUser {
            zendesk: self.zendesk.clone(),
        }
    }

    /// Refuses to mint through the admin API when the declared user is not the caller:
    /// Zendesk gives the caller the new token, so it could never replace the declared one.
    async fn caller_is(&self, zd: &ZendeskClient, c: &OAuthClient, user: u64) -> Result<(), Stop> {
        if self.grant == OauthGrant::ClientCredentials {
            return match c.user_id {
                Some(owner) if owner != user => Err(Stop::Failed(format!(
                    "Zendesk {}: OAuth client `{}`: the token belongs to user {user}, but the \
                     client-credentials grant mints tokens for the client's owner, user \
                     {owner}; nothing was minted. Fix `user_id` or use `grant: admin_api`",
                    self.zendesk, self.client
                ))),
                _ => Ok(()),
            };
        }
        let me = zd
            .current_user()
            .await
            .map_err(|e| Stop::Failed(e.to_string()))?;
        if me.id == Some(user) {
            return Ok(());
        }
        Err(Stop::Failed(format!(
            "Zendesk {}: OAuth client `{}`: the token belongs to user {user}, but tokenops signs \
             in as user {}, and the admin API mints a token for the caller; nothing was minted. \
             Run with that user's credential, or use `grant: client_credentials` if {user} owns \
             the client",
            self.zendesk,
            self.client,
            me.id
                .map_or_else(|| "(unknown)".to_string(), |id| id.to_string())
        )))
    }
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut list = list.to_vec();
    list.sort();
    list
}

#[async_trait]
impl TokenDriver for ZendeskOauthToken {
    fn id(&self) -> TokenKindId {
        TokenKindId::ZendeskOauthToken
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::Zendesk, &self.zendesk))
    }
    fn scopes(&self) -> &[String] {
        &self.scopes
    }
    fn scope_rules(&self) -> ScopeRules {
        ScopeRules::Zendesk {
            what: "a Zendesk OAuth token",
        }
    }
    fn lifetime_limit(&self) -> Option<LifetimeLimit> {
        (self.grant == OauthGrant::ClientCredentials).then(|| LifetimeLimit {
            max: Duration::from_hours(48),
            exclusive: true,
        })
    }
    fn new_expiry(&self) -> NewExpiry {
        match self.grant {
            OauthGrant::ClientCredentials => NewExpiry::Lifetime,
            OauthGrant::AdminApi => NewExpiry::Platform(
                "Zendesk sets the new token's expiry from the OAuth client's expiry policy \
                 (30 minutes by default for clients created after 2026-04-30, none for older \
                 ones until 2027-04-01); apply records what Zendesk answers"
                    .to_string(),
            ),
        }
    }
    fn object_words(&self) -> String {
        format!(
            "OAuth token of client {} ({})",
            self.client,
            self.scopes.join(" ")
        )
    }
    fn bot_owned(&self) -> bool {
        false
    }
    fn check(&self, cx: &mut KindCheck<'_>) {
        let sets_lifetime = cx.rotation.and_then(|r| r.get("lifetime")).is_some();
        if self.grant == OauthGrant::AdminApi && sets_lifetime {
            cx.rotation_problem(
                "lifetime",
                "a zendesk_oauth_token minted through the admin API (`grant: admin_api`) \
                 cannot be given a lifetime: the create call takes none, and Zendesk sets \
                 the expiry from the OAuth client's expiry policy",
                "remove `lifetime` (tokenops then rotates by the expiry Zendesk reports), or \
                 use `grant: client_credentials`, whose `expires_in` tokenops sets",
            );
        }
    }
    fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
        None
    }
    fn declares(&self, found: &DiscoveredToken) -> bool {
        found.kind == self.id().key()
            && self.zendesk == found.platform
            && self.client == found.record.name
            && self.user_id.is_none_or(|u| found.record.user_id == Some(u))
    }
    fn record_key(&self) -> Option<String> {
        let user = self
            .user_id
            .map_or_else(|| "(the default user)".to_string(), |u| format!("user {u}"));
        Some(format!(
            "Zendesk {} OAuth client `{}`, {user}",
            self.zendesk, self.client
        ))
    }
    fn check_identity(&self) -> Option<(String, String, String)> {
        Some((
            key(&[&self.zendesk, "oauth_token", &self.client]),
            format!("Zendesk {}", self.zendesk),
            self.client.clone(),
        ))
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(ListKey::ZendeskOauthClients {
            zendesk: self.zendesk.clone(),
        });
        needs.insert(ListKey::ZendeskOauthTokens {
            zendesk: self.zendesk.clone(),
        });
        if self.user_id.is_none() && self.grant == OauthGrant::AdminApi {
            needs.insert(self.current_user_list());
        }
    }
    fn live(&self, cx: &TokenLiveCx<'_>) -> Result<LiveToken, Option<String>> {
        let client = fetched_client(cx.fetched, &self.zendesk, &self.client)?;
        let key = ListKey::ZendeskOauthTokens {
            zendesk: self.zendesk.clone(),
        };
        let Some(Ok(Listing::OauthTokens(tokens))) = cx.fetched.get(&key) else {
            return Err(None);
        };
        let user = self.expected_user(cx.fetched, client)?;
        let mut mine: Vec<&OAuthToken> = tokens
            .iter()
            .filter(|tok| tok.client_id == Some(client.id) && tok.user_id == Some(user))
            .collect();
        mine.sort_by_key(|tok| (tok.created_at, tok.id));
        // Without a remembered id, the newest token with the declared scopes, else the
        // newest (whose scopes then differ): a client can also hold tokens of other jobs.
        let want = sorted(&self.scopes);
        let chosen = cx
            .remembered_id()
            .and_then(|id| mine.iter().find(|tok| tok.id.to_string() == id))
            .or_else(|| mine.iter().rev().find(|tok| sorted(&tok.scopes) == want))
            .or_else(|| mine.last())
            .copied();
        let now = cx.now;
        Ok(match chosen {
            None => LiveToken::Missing,
            Some(tok) => LiveToken::Found(LiveRecord {
                platform_id: tok.id.to_string(),
                name: self.client.clone(),
                scopes: sorted(&tok.scopes),
                expires_at: tok.expires_at.map(utc_date),
                expires_at_time: tok.expires_at,
                active: tok.expires_at.is_none_or(|at| at > now),
                revoked: false,
                last_used_at: tok.used_at,
                user_id: tok.user_id,
                access_level: None,
                value_fingerprint: None,
                age_unknown: false,
                username: None,
            }),
        })
    }
    fn probe(&self, value: &SecretString) -> Option<ProbeKind> {
        Some(ProbeKind::ZendeskOauth {
            zendesk: self.zendesk.clone(),
            value: value.clone(),
        })
    }

    async fn known_ids(&self, cx: &StageCx<'_>) -> Result<Vec<String>, Stop> {
        let zd = cx
            .clients
            .zendesk_for(&self.zendesk)
            .map_err(Stop::Failed)?;
        let c = live_client(zd, &self.client).await.map_err(Stop::Failed)?;
        let user = self.live_user(zd, &c).await.map_err(Stop::Failed)?;
        let tokens = zd
            .list_oauth_tokens(true, Some(c.id))
            .await
            .map_err(|e| Stop::Failed(e.to_string()))?;
        Ok(tokens
            .into_iter()
            .filter(|t| t.user_id == Some(user))
            .map(|t| t.id.to_string())
            .collect())
    }

    async fn stage(
        &self,
        cx: &StageCx<'_>,
        pending: &mut PendingRotation,
        fresh: bool,
        _notes: &mut Vec<String>,
    ) -> Result<Issued, Stop> {
        let zendesk = &self.zendesk;
        let client = &self.client;
        let zd = cx.clients.zendesk_for(zendesk).map_err(Stop::Failed)?;
        let c = live_client(zd, client).await.map_err(Stop::Failed)?;
        let user = self.live_user(zd, &c).await.map_err(Stop::Failed)?;
        if !fresh {
            revoke_unknown(zd, c.id, user, &self.scopes, pending).await?;
        }
        self.caller_is(zd, &c, user).await?;
        let (value, id) = match self.grant {
            OauthGrant::AdminApi => {
                let new = NewOAuthToken {
                    client_id: c.id,
                    scopes: self.scopes.clone(),
                };
                match zd.create_oauth_token(&new).await {
                    Ok(token) => match token.value() {
                        Some(v) => {
                            // The platform decided the expiry: record what it answered.
                            pending.new_expires_at = token.expires_at.map(utc_date);
                            (v.clone(), Some(token.id))
                        }
                        None => {
                            return Err(Stop::Pending(format!(
                                "Zendesk {zendesk}: the new OAuth token {} came without its \
                                 value; the next apply revokes it and mints another",
                                token.id
                            )));
                        }
                    },
                    Err(e @ ApiError::OutcomeUnknown { .. }) => {
                        return Err(Stop::Pending(format!(
                            "{e}; the next apply revokes whatever was minted and mints again"
                        )));
                    }
                    Err(e) => return Err(Stop::Failed(e.to_string())),
                }
            }
            OauthGrant::ClientCredentials => {
                // The client the run signs in as needs no second copy of its secret.
                let secret = zd
                    .own_client_secret(client)
                    .or_else(|| cx.client_secrets.get(&secret_key(zendesk, client)).cloned());
                let Some(secret) = secret else {
                    return Err(Stop::Failed(format!(
                        "Zendesk {zendesk}: the client-credentials grant of OAuth client \
                         `{client}` needs the client's secret; set {} in apply's environment \
                         (or sign the instance in as `{client}` with `client_id_env` and \
                         `client_secret_env`)",
                        secret_env(zendesk, client)
                    )));
                };
                let lifetime_secs = cx.spec.rotation.lifetime.map(|d| d.as_secs());
                let expires_in =
                    lifetime_secs.map(|s| s.clamp(GRANT_MIN_SECS + 1, GRANT_MAX_SECS - 1));
                let grant = Grant::ClientCredentials {
                    client_id: client.clone(),
                    client_secret: secret,
                    scope: self.scopes.join(" "),
                    expires_in,
                };
                match zd.grant(&grant).await {
                    Ok(granted) => {
                        pending.new_expires_at = granted
                            .expires_in
                            .and_then(|s| i64::try_from(s).ok())
                            .and_then(|s| {
                                pending
                                    .started_at
                                    .checked_add(jiff::SignedDuration::from_secs(s))
                                    .ok()
                            })
                            .map(utc_date);
                        (granted.access_token, None)
                    }
                    Err(e @ ApiError::OutcomeUnknown { .. }) => {
                        return Err(Stop::Pending(format!(
                            "{e}; the next apply revokes whatever was minted and mints again"
                        )));
                    }
                    Err(e) => return Err(Stop::Failed(e.to_string())),
                }
            }
        };
        // Prove the value with itself and compare its scopes before anything is written.
        let me = match zd.introspect_oauth_token(&value).await {
            Ok(me) => me,
            Err(e) => {
                if let Some(id) = id {
                    let _ = zd.revoke_oauth_token(id).await;
                }
                return Err(Stop::Pending(format!(
                    "Zendesk {zendesk}: the new OAuth token of `{client}` does not \
                     authenticate ({e}); it was revoked and the next apply mints again"
                )));
            }
        };
        if me.user_id.is_some_and(|u| u != user) {
            let _ = zd.revoke_oauth_token(me.id).await;
            return Err(Stop::Failed(format!(
                "Zendesk {zendesk}: the token minted for OAuth client `{client}` signs in as \
                 user {}, not user {user} the entry names; it was revoked and nothing was \
                 written",
                me.user_id.unwrap_or_default()
            )));
        }
        let want = sorted(&self.scopes);
        let got = sorted(&me.scopes);
        if want != got {
            let _ = zd.revoke_oauth_token(me.id).await;
            return Err(Stop::Failed(format!(
                "Zendesk {zendesk}: the token minted for OAuth client `{client}` carries the \
                 scopes [{}], not the declared [{}] (Zendesk accepts an invalid or \
                 disallowed scope silently and the token then fails every call); it was \
                 revoked and nothing was written. Fix `scopes` in the manifest or the \
                 client's allowed scopes in Admin Center",
                got.join(", "),
                want.join(", ")
            )));
        }
        Ok((me.id.to_string(), value))
    }

    async fn retire(&self, cx: &StageCx<'_>, old: &str) -> Result<(), String> {
        let zd = cx.clients.zendesk_for(&self.zendesk)?;
        let Ok(id) = old.parse::<u64>() else {
            return Ok(());
        };
        // Never revoke a token another user signs in with.
        let c = live_client(zd, &self.client).await?;
        let user = self.live_user(zd, &c).await?;
        match zd.get_oauth_token(id).await {
            Ok(t) if t.user_id != Some(user) => {
                return Err(format!(
                    "Zendesk {}: OAuth token {id} belongs to user {}, not to user {user} the \
                     entry names; it was left alone. Revoke it by hand if it is unused",
                    self.zendesk,
                    t.user_id
                        .map_or_else(|| "(unknown)".to_string(), |u| u.to_string())
                ));
            }
            Ok(_) => {}
            Err(ApiError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
        match zd.revoke_oauth_token(id).await {
            Ok(()) | Err(ApiError::NotFound { .. }) | Err(ApiError::Unauthorized { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
    async fn check_provided(
        &self,
        _clients: &Clients,
        _value: &SecretString,
    ) -> Result<String, String> {
        Ok(String::new())
    }
    fn client_secret(&self) -> Option<(String, String)> {
        (self.grant == OauthGrant::ClientCredentials).then(|| {
            (
                secret_key(&self.zendesk, &self.client),
                secret_env(&self.zendesk, &self.client),
            )
        })
    }
    fn done_words(&self, _obtain: Obtain) -> &'static str {
        "new OAuth token minted, scopes checked; every consumer verified; old token revoked"
    }
}

/// Revokes tokens of the client that an interrupted run minted: created since the intent was
/// recorded, for the declared user, with the declared scopes, and unknown then. Their values
/// were never escrowed, so nobody can use them. A token of another user, or one someone else
/// minted for the client with other scopes, is left.
///
/// Zendesk stamps `created_at` in whole seconds while the intent time has sub-seconds, so the
/// intent time is compared rounded down to its second: a token minted in the same second as
/// the intent is one of ours.
async fn revoke_unknown(
    zd: &ZendeskClient,
    client_id: u64,
    user: u64,
    scopes: &[String],
    pending: &PendingRotation,
) -> Result<(), Stop> {
    let want = sorted(scopes);
    let since =
        jiff::Timestamp::from_second(pending.started_at.as_second()).unwrap_or(pending.started_at);
    let tokens = zd
        .list_oauth_tokens(true, Some(client_id))
        .await
        .map_err(|e| {
            Stop::Pending(format!(
                "the outcome of the last mint is unknown and the client's tokens could not be \
                 listed ({e}); the next apply reads them again"
            ))
        })?;
    for t in tokens {
        let id = t.id.to_string();
        let before = t.created_at.is_some_and(|at| at < since);
        if pending.known_ids.contains(&id)
            || pending.old_platform_id.as_deref() == Some(&id)
            || before
            || t.user_id != Some(user)
            || sorted(&t.scopes) != want
        {
            continue;
        }
        match zd.revoke_oauth_token(t.id).await {
            Ok(()) | Err(ApiError::NotFound { .. }) => {}
            Err(e) => {
                return Err(Stop::Pending(format!(
                    "an OAuth token minted by an interrupted run ({id}) could not be revoked \
                     ({e}); the next apply tries again"
                )));
            }
        }
    }
    Ok(())
}
