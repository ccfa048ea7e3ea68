//! One simulated Zendesk instance: users, webhooks, apps and installations, OAuth clients and
//! tokens, and legacy API tokens with their retirement rules.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::{Issuer, Value, ValueKind};

/// 2026-07-28: from here on, a legacy API token unused for 30 days is deactivated.
pub const INACTIVITY_RULE_FROM: &str = "2026-07-28T00:00:00Z";
/// 2027-04-30: every legacy API token stops working.
pub const API_TOKENS_END: &str = "2027-04-30T00:00:00Z";

/// Local OAuth clients created after this get expiring tokens (Zendesk's expiry policy).
pub const EXPIRY_POLICY_CLIENTS_AFTER: &str = "2026-04-30T00:00:00Z";
/// Older local clients keep non-expiring tokens until this day.
pub const EXPIRY_POLICY_FOR_ALL: &str = "2027-04-01T00:00:00Z";

/// The lifetimes Zendesk's expiry policy gives a new token, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLife {
    /// Access token: default 30 minutes, more than 5 minutes, less than 48 hours.
    pub access: i64,
    /// Refresh token: default 30 days, 7 to 90 days.
    pub refresh: i64,
}

/// Why requested lifetimes are refused.
pub const LIFE_RANGE: &str = "expires_in must be more than 300 and less than 172800 seconds, \
     refresh_token_expires_in from 604800 to 7776000 seconds, and expires_in less than \
     refresh_token_expires_in";

impl OAuthClient {
    /// Whether Zendesk's expiry policy applies to this client's new tokens at `now`: created
    /// after 2026-04-30, or any client from 2027-04-01.
    pub fn expiring_tokens(&self, now: Timestamp) -> bool {
        let after: Timestamp = EXPIRY_POLICY_CLIENTS_AFTER.parse().expect("constant date");
        let all: Timestamp = EXPIRY_POLICY_FOR_ALL.parse().expect("constant date");
        self.created_at > after || now >= all
    }

    /// The lifetimes of a new token of this client at `now`, from the requested ones:
    /// `Ok(None)` for a client that still issues non-expiring tokens and was asked for none.
    pub fn token_life(
        &self,
        now: Timestamp,
        expires_in: Option<i64>,
        refresh_in: Option<i64>,
    ) -> Result<Option<TokenLife>, &'static str> {
        if !self.expiring_tokens(now) && expires_in.is_none() && refresh_in.is_none() {
            return Ok(None);
        }
        let access = expires_in.unwrap_or(1_800);
        let refresh = refresh_in.unwrap_or(2_592_000);
        let ok = 300 < access
            && access < 172_800
            && (604_800..=7_776_000).contains(&refresh)
            && access < refresh;
        if ok {
            Ok(Some(TokenLife { access, refresh }))
        } else {
            Err(LIFE_RANGE)
        }
    }
}

/// A Zendesk user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub role: String,
}

/// Webhook `authentication`: type, add_position and the write-only data.
#[derive(Debug, Clone)]
pub struct WebhookAuth {
    pub kind: String,
    pub add_position: String,
    /// The write-only data (`token`, `username`/`password`, `name`/`value`).
    pub data: BTreeMap<String, Value>,
}

/// A webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub endpoint: String,
    pub http_method: String,
    pub request_format: String,
    pub status: String,
    pub subscriptions: Vec<String>,
    pub authentication: Option<WebhookAuth>,
    pub custom_headers: BTreeMap<String, String>,
    pub external_source: Option<serde_json::Value>,
    /// The HMAC secret deliveries are signed with (readable through its own endpoint).
    pub signing_secret: Value,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// A parameter of an app.
#[derive(Debug, Clone)]
pub struct AppParameter {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub secure: bool,
}

/// An app (owned by the account when `owned`).
#[derive(Debug, Clone)]
pub struct App {
    pub id: u64,
    pub name: String,
    pub owned: bool,
    pub parameters: Vec<AppParameter>,
}

/// An app installation; secure settings are kept apart and never shown.
#[derive(Debug, Clone)]
pub struct Installation {
    pub id: u64,
    pub app_id: u64,
    pub enabled: bool,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub secure_settings: BTreeMap<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An OAuth client.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub id: u64,
    pub identifier: String,
    pub name: String,
    pub kind: String,
    pub secret: Value,
    pub user_id: u64,
    pub redirect_uri: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An OAuth access token (with its refresh token, if any).
#[derive(Debug, Clone)]
pub struct OAuthToken {
    pub id: u64,
    pub client_id: u64,
    pub user_id: u64,
    pub value: Value,
    pub refresh: Option<Value>,
    pub scopes: Vec<String>,
    pub created_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub refresh_expires_at: Option<Timestamp>,
    pub revoked: bool,
}

impl OAuthToken {
    /// Whether the access token still authenticates at `now`.
    pub fn usable(&self, now: Timestamp) -> bool {
        !self.revoked && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A legacy API token.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: u64,
    pub user_id: u64,
    pub description: String,
    pub value: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_used: Option<Timestamp>,
    /// Deactivated by an admin (in the UI; there is no API for it).
    pub deactivated: bool,
}

impl ApiToken {
    /// Whether the token still works at `now`: not deactivated, not retired, and (from
    /// 2026-07-28) used, or created, within the last 30 days.
    pub fn active(&self, now: Timestamp) -> bool {
        let end: Timestamp = API_TOKENS_END.parse().expect("constant date");
        let rule: Timestamp = INACTIVITY_RULE_FROM.parse().expect("constant date");
        if self.deactivated || now >= end {
            return false;
        }
        if now < rule {
            return true;
        }
        let last = self.last_used.unwrap_or(self.created_at);
        now.duration_since(last) < SignedDuration::from_hours(24 * 30)
    }
}

/// One Zendesk instance (one subdomain).
#[derive(Debug, Default)]
pub struct Zendesk {
    pub users: BTreeMap<u64, User>,
    pub webhooks: BTreeMap<String, Webhook>,
    pub apps: BTreeMap<u64, App>,
    pub installations: BTreeMap<u64, Installation>,
    pub clients: BTreeMap<u64, OAuthClient>,
    pub oauth_tokens: BTreeMap<u64, OAuthToken>,
    pub api_tokens: BTreeMap<u64, ApiToken>,
    /// The admin's OAuth token the sandbox hands out for this instance.
    pub admin_token: Option<Value>,
    /// Account setting `api.api_token_access`.
    pub api_token_access: bool,
    next_id: u64,
    webhook_seq: u64,
}

impl Zendesk {
    /// An empty instance; `id_base` keeps ids of different instances apart.
    pub fn new(id_base: u64) -> Self {
        Zendesk {
            next_id: id_base,
            api_token_access: true,
            ..Default::default()
        }
    }

    /// A fresh numeric id.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A fresh webhook id, ULID-like and increasing, so that ids sort by creation.
    pub fn next_webhook_id(&mut self, issuer: &mut Issuer) -> String {
        self.webhook_seq += 1;
        const B32: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let tail: String = (0..12)
            .map(|_| B32[issuer.number(32) as usize] as char)
            .collect();
        format!("01J{:011}{tail}", self.webhook_seq)
    }

    /// Adds a user and returns its id.
    pub fn add_user(&mut self, name: &str, email: &str, role: &str) -> u64 {
        let id = self.next_id();
        self.users.insert(
            id,
            User {
                id,
                name: name.into(),
                email: email.into(),
                role: role.into(),
            },
        );
        id
    }

    /// Finds a user by e-mail (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// Mints an OAuth token for `client_id` acting as `user_id`.
    #[allow(clippy::too_many_arguments)]
    pub fn mint_oauth_token(
        &mut self,
        issuer: &mut Issuer,
        client_id: u64,
        user_id: u64,
        scopes: Vec<String>,
        expires_at: Option<Timestamp>,
        refresh_expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> u64 {
        let id = self.next_id();
        let value = issuer.mint(ValueKind::ZendeskOAuthToken);
        let refresh = refresh_expires_at.map(|_| issuer.mint(ValueKind::ZendeskOAuthToken));
        self.oauth_tokens.insert(
            id,
            OAuthToken {
                id,
                client_id,
                user_id,
                value,
                refresh,
                scopes,
                created_at: now,
                used_at: None,
                expires_at,
                refresh_expires_at,
                revoked: false,
            },
        );
        id
    }

    /// The OAuth token a bearer value authenticates as at `now` (not revoked, not expired).
    pub fn authenticates(&self, value: &str, now: Timestamp) -> Option<&OAuthToken> {
        self.oauth_by_value(value).filter(|t| t.usable(now))
    }

    /// The OAuth token a bearer value belongs to.
    pub fn oauth_by_value(&self, value: &str) -> Option<&OAuthToken> {
        self.oauth_tokens
            .values()
            .find(|t| t.value.reveal() == value)
    }
}
