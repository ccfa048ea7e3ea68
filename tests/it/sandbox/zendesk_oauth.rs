//! Zendesk OAuth clients and tokens, the grant endpoint, and legacy API tokens.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::scenario::{Answer, Scenario};

#[tokio::test]
async fn zendesk_oauth_clients_show_the_secret_only_at_creation_and_generate_secret() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let list = env
        .zd("global", Method::GET, &admin, "/api/v2/oauth/clients", None)
        .await;
    let clients = list.body["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 3);
    // Lists carry only the secret's first characters.
    assert!(
        clients
            .iter()
            .all(|c| c["secret"].as_str().is_some_and(|s| s.chars().count() == 6))
    );
    let c = env
        .zd(
            "global",
            Method::POST,
            &admin,
            "/api/v2/oauth/clients",
            Some(json!({"client": {"name": "t", "identifier": "t_one", "kind": "confidential"}})),
        )
        .await;
    assert_eq!(c.status, 201);
    let secret = c.body["client"]["secret"].as_str().unwrap().to_string();
    let id = c.body["client"]["id"].as_u64().unwrap();
    let shown = env
        .zd(
            "global",
            Method::GET,
            &admin,
            &format!("/api/v2/oauth/clients/{id}"),
            None,
        )
        .await;
    assert_eq!(shown.body["client"]["secret"].as_str(), secret.get(..6));
    let grant = |secret: String| {
        let env = &env;
        async move {
            Answer::read(
                env.http
                    .post(format!("{}/oauth/tokens", env.sandbox.zendesk_url("global")))
                    .json(&json!({"grant_type": "client_credentials", "client_id": "t_one", "client_secret": secret, "scope": "read"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(grant(secret.clone()).await.status, 200);
    let g = env
        .zd(
            "global",
            Method::PUT,
            &admin,
            &format!("/api/v2/oauth/clients/{id}/generate_secret"),
            None,
        )
        .await;
    assert_eq!(g.status, 200);
    let new_secret = g.body["client"]["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(
        grant(secret).await.status,
        401,
        "the old secret stops working"
    );
    assert_eq!(grant(new_secret).await.status, 200);
    let dup = env
        .zd(
            "global",
            Method::POST,
            &admin,
            "/api/v2/oauth/clients",
            Some(json!({"client": {"name": "t", "identifier": "t_one"}})),
        )
        .await;
    assert_eq!(dup.status, 422);
}

#[tokio::test]
async fn zendesk_oauth_tokens_show_a_prefix_and_the_full_value_once() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let clients = env
        .zd("global", Method::GET, &admin, "/api/v2/oauth/clients", None)
        .await;
    let client_id = clients.body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identifier"] == "tokenops_escalations")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let c = env
        .zd(
            "global",
            Method::POST,
            &admin,
            "/api/v2/oauth/tokens",
            Some(json!({"token": {"client_id": client_id, "scopes": ["tickets:read"]}})),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let full = c.body["token"]["full_token"].as_str().unwrap().to_string();
    assert_eq!(full.len(), 64);
    assert_eq!(c.body["token"]["token"].as_str().unwrap(), &full[..10]);
    let id = c.body["token"]["id"].as_u64().unwrap();
    let list = env
        .zd(
            "global",
            Method::GET,
            &admin,
            "/api/v2/oauth/tokens?all=true",
            None,
        )
        .await;
    for t in list.body["tokens"].as_array().unwrap() {
        assert_eq!(t["token"].as_str().unwrap().len(), 10);
        assert!(t.get("full_token").is_none());
    }
    let shown = env
        .zd(
            "global",
            Method::GET,
            &admin,
            &format!("/api/v2/oauth/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(shown.body["token"]["token"].as_str().unwrap().len(), 10);
    let current = env
        .zd(
            "global",
            Method::GET,
            &full,
            "/api/v2/oauth/tokens/current.json",
            None,
        )
        .await;
    assert_eq!(current.status, 200);
    assert_eq!(current.body["token"]["id"].as_u64(), Some(id));
    assert_eq!(current.body["token"]["scopes"], json!(["tickets:read"]));
    let revoke = env
        .zd(
            "global",
            Method::DELETE,
            &admin,
            &format!("/api/v2/oauth/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(revoke.status, 204);
    let after = env
        .zd(
            "global",
            Method::GET,
            &full,
            "/api/v2/oauth/tokens/current",
            None,
        )
        .await;
    assert_eq!(after.status, 401);
    assert_eq!(after.body["error"], "invalid_token");
}

#[tokio::test]
async fn zendesk_refresh_grant_invalidates_the_previous_pair() {
    let env = Scenario::demo().start();
    let secret = env.sandbox.with_state(|w| {
        w.zendesk["us-government"]
            .clients
            .values()
            .find(|c| c.identifier == "tokenops_escalations")
            .unwrap()
            .secret
            .reveal()
            .to_string()
    });
    let url = format!("{}/oauth/tokens", env.sandbox.zendesk_url("us-government"));
    let post = |body: Json| {
        let env = &env;
        let url = url.clone();
        async move { Answer::read(env.http.post(url).json(&body).send().await.unwrap()).await }
    };
    let first = post(json!({"grant_type": "client_credentials", "client_id": "tokenops_escalations", "client_secret": secret, "scope": "tickets:read tickets:write", "expires_in": 3600})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["token_type"], "bearer");
    assert_eq!(first.body["expires_in"], 3600);
    let access1 = first.body["access_token"].as_str().unwrap().to_string();
    let refresh1 = first.body["refresh_token"].as_str().unwrap().to_string();
    let second = post(json!({"grant_type": "refresh_token", "client_id": "tokenops_escalations", "client_secret": secret, "refresh_token": refresh1})).await;
    assert_eq!(second.status, 200);
    let access2 = second.body["access_token"].as_str().unwrap().to_string();
    assert_ne!(access1, access2);
    assert_eq!(
        env.zd(
            "us-government",
            Method::GET,
            &access1,
            "/api/v2/oauth/tokens/current",
            None
        )
        .await
        .status,
        401
    );
    assert_eq!(
        env.zd(
            "us-government",
            Method::GET,
            &access2,
            "/api/v2/oauth/tokens/current",
            None
        )
        .await
        .status,
        200
    );
    let reuse = post(json!({"grant_type": "refresh_token", "client_id": "tokenops_escalations", "client_secret": secret, "refresh_token": refresh1})).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.body["error"], "invalid_grant");
    // Access tokens expire on the sandbox clock.
    env.sandbox
        .clock()
        .advance(jiff::SignedDuration::from_hours(2));
    assert_eq!(
        env.zd(
            "us-government",
            Method::GET,
            &access2,
            "/api/v2/oauth/tokens/current",
            None
        )
        .await
        .status,
        401
    );
}

#[tokio::test]
async fn zendesk_client_credentials_need_a_confidential_client() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let c = env
        .zd(
            "global",
            Method::POST,
            &admin,
            "/api/v2/oauth/clients",
            Some(json!({"client": {"name": "p", "identifier": "pub", "kind": "public"}})),
        )
        .await;
    let secret = c.body["client"]["secret"].as_str().unwrap();
    let a = Answer::read(
        env.http
            .post(format!("{}/oauth/tokens", env.sandbox.zendesk_url("global")))
            .json(&json!({"grant_type": "client_credentials", "client_id": "pub", "client_secret": secret}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 400);
}

#[tokio::test]
async fn legacy_api_tokens_list_with_last_use_and_read_inactive_after_30_unused_days() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let list = env
        .zd("global", Method::GET, &admin, "/api/v2/api_tokens", None)
        .await;
    let tokens = list.body["api_tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["id"], 9001);
    assert_eq!(tokens[0]["active"], true);
    assert_eq!(tokens[0]["last_used"], "2026-11-26T09:00:00Z");
    let usgov = env
        .zd(
            "us-government",
            Method::GET,
            &env.zd_admin("us-government"),
            "/api/v2/api_tokens",
            None,
        )
        .await;
    assert_eq!(usgov.body["api_tokens"][0]["id"], 9101);
    assert_eq!(
        usgov.body["api_tokens"][0]["active"], false,
        "unused for 45 days"
    );
    // The inactive one no longer authenticates; the active one does, until it too goes unused.
    let value = |inst: &str, id: u64| {
        env.sandbox
            .with_state(|w| w.zendesk[inst].api_tokens[&id].value.reveal().to_string())
    };
    let basic = |inst: &str, email: &str, token: String| {
        let url = format!("{}/api/v2/users/me", env.sandbox.zendesk_url(inst));
        env.http
            .get(url)
            .basic_auth(format!("{email}/token"), Some(token))
            .send()
    };
    let dead = Answer::read(
        basic(
            "us-government",
            "forms-bot@example.com",
            value("us-government", 9101),
        )
        .await
        .unwrap(),
    )
    .await;
    assert!(
        dead.body["user"]["id"].is_null(),
        "an anonymous 200, not a 401"
    );
    let live = Answer::read(
        basic("global", "reporting-bot@example.com", value("global", 9001))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(live.body["user"]["email"], "reporting-bot@example.com");
    env.sandbox
        .clock()
        .advance(jiff::SignedDuration::from_hours(24 * 31));
    let later = env
        .zd(
            "global",
            Method::GET,
            &env.zd_admin("global"),
            "/api/v2/api_tokens",
            None,
        )
        .await;
    assert_eq!(later.body["api_tokens"][0]["active"], false);
    // Nobody can create one.
    let create = env
        .zd(
            "global",
            Method::POST,
            &admin,
            "/api/v2/api_tokens",
            Some(json!({"api_token": {"description": "new"}})),
        )
        .await;
    assert_eq!(create.status, 404);
    assert_eq!(
        env.sandbox
            .with_state(|w| w.zendesk["global"].api_tokens.len()),
        1
    );
}

#[tokio::test]
async fn turning_api_token_access_off_stops_every_legacy_token() {
    let env = Scenario::demo().start();
    let value = env.sandbox.with_state(|w| {
        w.zendesk["global"].api_tokens[&9001]
            .value
            .reveal()
            .to_string()
    });
    let url = format!("{}/api/v2/webhooks", env.sandbox.zendesk_url("global"));
    let with_token = || {
        env.http
            .get(&url)
            .basic_auth("reporting-bot@example.com/token", Some(value.clone()))
            .send()
    };
    assert_eq!(with_token().await.unwrap().status().as_u16(), 200);
    env.sandbox
        .with_state(|w| w.zendesk.get_mut("global").unwrap().api_token_access = false);
    assert_eq!(with_token().await.unwrap().status().as_u16(), 401);
    let list = env
        .zd(
            "global",
            Method::GET,
            &env.zd_admin("global"),
            "/api/v2/api_tokens",
            None,
        )
        .await;
    assert_eq!(list.status, 404);
    let settings = env
        .zd(
            "global",
            Method::GET,
            &env.zd_admin("global"),
            "/api/v2/account/settings",
            None,
        )
        .await;
    assert_eq!(settings.body["settings"]["api"]["api_token_access"], false);
}

#[tokio::test]
async fn zendesk_oauth_client_update_and_delete_revokes_its_tokens() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let clients = env
        .zd("global", Method::GET, &admin, "/api/v2/oauth/clients", None)
        .await;
    let id = clients.body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identifier"] == "tokenops_escalations")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let renamed = env
        .zd(
            "global",
            Method::PUT,
            &admin,
            &format!("/api/v2/oauth/clients/{id}"),
            Some(json!({"client": {"name": "escalations v2"}})),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.body["client"]["name"], "escalations v2");
    assert_eq!(
        renamed.body["client"]["secret"].as_str().map(str::len),
        Some(6)
    );
    let token = env.sandbox.with_state(|w| {
        let zd = &w.zendesk["global"];
        zd.oauth_tokens
            .values()
            .find(|t| t.client_id == id)
            .unwrap()
            .value
            .reveal()
            .to_string()
    });
    assert_eq!(
        env.zd(
            "global",
            Method::GET,
            &token,
            "/api/v2/oauth/tokens/current",
            None
        )
        .await
        .status,
        200
    );
    let del = env
        .zd(
            "global",
            Method::DELETE,
            &admin,
            &format!("/api/v2/oauth/clients/{id}"),
            None,
        )
        .await;
    assert_eq!(del.status, 204);
    assert_eq!(
        env.zd(
            "global",
            Method::GET,
            &token,
            "/api/v2/oauth/tokens/current",
            None
        )
        .await
        .status,
        401
    );
}
