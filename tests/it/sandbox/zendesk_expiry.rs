//! Zendesk's expiry policy as the sandbox plays it: clients created after 2026-04-30 give
//! access tokens of 30 minutes by default (at most 48 hours) with refresh tokens (30 days by
//! default, 7 to 90), through the admin API and the grants alike; older clients keep
//! non-expiring tokens until 2027-04-01. Seeds give a client its creation date.

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::json;

use crate::scenario::Scenario;

const SEED: &str = r#"
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
    oauth_clients:
      - { identifier: fresh, name: Fresh, created_at: "2026-06-01T00:00:00Z" }
      - { identifier: old, name: Old, created_at: "2025-11-03T10:00:00Z" }
"#;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[tokio::test]
async fn admin_api_tokens_follow_the_clients_expiry_policy() {
    let sc = Scenario::seeded(SEED).start();
    let admin = sc.zd_admin("global");
    let clients = sc
        .zd("global", Method::GET, &admin, "/api/v2/oauth/clients", None)
        .await;
    let id = |name: &str| {
        clients.body["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["identifier"] == name)
            .unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        clients.body["clients"][0]["created_at"], "2026-06-01T00:00:00Z",
        "the seeded creation date"
    );
    let mint = |client: u64, extra: serde_json::Value| {
        let mut token = json!({"client_id": client, "scopes": ["read"]});
        token
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sc.zd(
            "global",
            Method::POST,
            &admin,
            "/api/v2/oauth/tokens",
            Some(json!({ "token": token })),
        )
    };
    let now = sc.now();
    // A client created after 2026-04-30: 30 minutes and a 30-day refresh token by default.
    let fresh = mint(id("fresh"), json!({})).await;
    assert_eq!(fresh.status, 201, "{:?}", fresh.body);
    let t = &fresh.body["token"];
    let expires = at(t["expires_at"].as_str().unwrap());
    let refresh = at(t["refresh_token_expires_at"].as_str().unwrap());
    let whole = |d: SignedDuration| d.as_secs();
    assert!(
        (1_799..=1_800).contains(&whole(expires.duration_since(now))),
        "{t}"
    );
    assert!(
        (2_591_999..=2_592_000).contains(&whole(refresh.duration_since(now))),
        "{t}"
    );
    assert!(t["refresh_token"].is_string());
    // At most 48 hours, refresh from 7 to 90 days.
    let long = mint(id("fresh"), json!({"expires_in": 172_800})).await;
    assert_eq!(long.status, 422, "{:?}", long.body);
    let short_refresh = mint(id("fresh"), json!({"refresh_token_expires_in": 86_400})).await;
    assert_eq!(short_refresh.status, 422);
    let day = mint(id("fresh"), json!({"expires_in": 86_400})).await;
    assert_eq!(day.status, 201);
    // An older client: no expiry, no refresh token, until 2027-04-01.
    let old = mint(id("old"), json!({})).await;
    assert!(old.body["token"]["expires_at"].is_null(), "{:?}", old.body);
    assert!(old.body["token"]["refresh_token"].is_null());
    sc.sandbox.clock().set(at("2027-04-01T00:00:00Z"));
    let later = mint(id("old"), json!({})).await;
    assert!(
        later.body["token"]["expires_at"].is_string(),
        "{:?}",
        later.body
    );
}

#[tokio::test]
async fn the_client_credentials_grant_follows_the_same_policy() {
    let sc = Scenario::seeded(SEED).start();
    let secret = |name: &str| {
        sc.sandbox.with_state(|w| {
            w.zendesk["global"]
                .clients
                .values()
                .find(|c| c.identifier == name)
                .unwrap()
                .secret
                .reveal()
                .to_string()
        })
    };
    let grant = |client: &str, extra: serde_json::Value| {
        let mut body = json!({"grant_type": "client_credentials", "client_id": client,
            "client_secret": secret(client), "scope": "read"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let url = format!("{}/oauth/tokens", sc.sandbox.zendesk_url("global"));
        sc.send(sc.http.post(url).json(&body))
    };
    let fresh = grant("fresh", json!({})).await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(fresh.body["expires_in"], 1800);
    assert_eq!(fresh.body["refresh_token_expires_in"], 2_592_000);
    let too_long = grant("fresh", json!({"expires_in": "172800"})).await;
    assert_eq!(too_long.status, 400);
    let old = grant("old", json!({})).await;
    assert!(old.body["expires_in"].is_null(), "{:?}", old.body);
    let asked = grant("old", json!({"expires_in": "3600"})).await;
    assert_eq!(asked.body["expires_in"], 3600);
}
