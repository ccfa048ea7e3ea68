//! Zendesk: webhooks, apps, OAuth clients and tokens, the grant endpoint, legacy API tokens.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::scenario::{Answer, Scenario};

fn webhook_auth_data(env: &Scenario, inst: &str, name: &str) -> Option<Vec<(String, String)>> {
    env.sandbox.with_state(|w| {
        w.zendesk[inst]
            .webhooks
            .values()
            .find(|h| h.name == name)
            .and_then(|h| {
                h.authentication.as_ref().map(|a| {
                    a.data
                        .iter()
                        .map(|(k, v)| (k.clone(), v.reveal().to_string()))
                        .collect()
                })
            })
    })
}

#[tokio::test]
async fn zendesk_webhooks_use_cursor_pagination() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    for n in 0..4 {
        let c = env
            .zd("global", Method::POST, &admin, "/api/v2/webhooks", Some(json!({"webhook": {"name": format!("extra {n}"), "endpoint": "https://x.example.com", "http_method": "POST", "request_format": "json", "status": "active", "subscriptions": ["conditional_ticket_events"]}})))
            .await;
        assert_eq!(c.status, 201, "{}", c.body);
    }
    let mut url = format!(
        "{}/api/v2/webhooks?page[size]=2",
        env.sandbox.zendesk_url("global")
    );
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let a = Answer::read(env.http.get(&url).bearer_auth(&admin).send().await.unwrap()).await;
        assert_eq!(a.status, 200);
        pages += 1;
        ids.extend(
            a.body["webhooks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_str().unwrap().to_string()),
        );
        if a.body["meta"]["has_more"] == false {
            assert!(a.body["links"]["next"].is_null());
            break;
        }
        url = a.body["links"]["next"].as_str().unwrap().to_string();
    }
    assert_eq!(pages, 4);
    assert_eq!(ids.len(), 7);
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 7);
    let filtered = env
        .zd(
            "global",
            Method::GET,
            &admin,
            "/api/v2/webhooks?filter[name_contains]=extra",
            None,
        )
        .await;
    assert_eq!(filtered.body["webhooks"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn zendesk_webhook_authentication_is_write_only_and_updates_answer_204() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let list = env
        .zd("global", Method::GET, &admin, "/api/v2/webhooks", None)
        .await;
    let hook = list.body["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "GitLab sync")
        .unwrap()
        .clone();
    assert_eq!(
        hook["authentication"],
        json!({"type": "bearer_token", "add_position": "header"})
    );
    let id = hook["id"].as_str().unwrap().to_string();
    let patch = env
        .zd("global", Method::PATCH, &admin, &format!("/api/v2/webhooks/{id}"), Some(json!({"webhook": {"authentication": {"type": "bearer_token", "add_position": "header", "data": {"token": "new-bearer-value"}}}})))
        .await;
    assert_eq!(patch.status, 204);
    assert!(patch.body.is_null(), "no body");
    let shown = env
        .zd(
            "global",
            Method::GET,
            &admin,
            &format!("/api/v2/webhooks/{id}"),
            None,
        )
        .await;
    assert!(
        shown.body["webhook"]["authentication"]
            .get("data")
            .is_none()
    );
    assert!(!shown.body.to_string().contains("new-bearer-value"));
    assert_eq!(
        webhook_auth_data(&env, "global", "GitLab sync"),
        Some(vec![("token".into(), "new-bearer-value".into())])
    );
    // PATCH without authentication keeps it.
    let rename = env
        .zd(
            "global",
            Method::PATCH,
            &admin,
            &format!("/api/v2/webhooks/{id}"),
            Some(json!({"webhook": {"description": "renamed"}})),
        )
        .await;
    assert_eq!(rename.status, 204);
    assert!(webhook_auth_data(&env, "global", "GitLab sync").is_some());
    // PUT replaces the whole webhook: leaving authentication out drops it.
    let put = env
        .zd("global", Method::PUT, &admin, &format!("/api/v2/webhooks/{id}"), Some(json!({"webhook": {"name": "GitLab sync", "endpoint": "https://e.example.com", "http_method": "POST", "request_format": "json", "status": "active", "subscriptions": ["conditional_ticket_events"]}})))
        .await;
    assert_eq!(put.status, 204);
    assert!(webhook_auth_data(&env, "global", "GitLab sync").is_none());
    // PATCH with null removes it too.
    let other = list.body["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "Escalate to GitLab")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let null = env
        .zd(
            "global",
            Method::PATCH,
            &admin,
            &format!("/api/v2/webhooks/{other}"),
            Some(json!({"webhook": {"authentication": null}})),
        )
        .await;
    assert_eq!(null.status, 204);
    assert!(webhook_auth_data(&env, "global", "Escalate to GitLab").is_none());
    let del = env
        .zd(
            "global",
            Method::DELETE,
            &admin,
            &format!("/api/v2/webhooks/{other}"),
            None,
        )
        .await;
    assert_eq!(del.status, 204);
    let gone = env
        .zd(
            "global",
            Method::GET,
            &admin,
            &format!("/api/v2/webhooks/{other}"),
            None,
        )
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn zendesk_app_installation_settings_update_and_secure_settings_stay_hidden() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let list = env
        .zd(
            "global",
            Method::GET,
            &admin,
            "/api/v2/apps/installations?include=app",
            None,
        )
        .await;
    let inst = list.body["installations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["settings"]["name"] == "GitLab Sync")
        .unwrap()
        .clone();
    assert_eq!(
        inst["settings"],
        json!({"name": "GitLab Sync", "subdomain": "example"}),
        "secure settings never shown"
    );
    assert!(list.body["apps"].as_array().is_some());
    let id = inst["id"].as_u64().unwrap();
    let upd = env
        .zd("global", Method::PUT, &admin, &format!("/api/v2/apps/installations/{id}"), Some(json!({"settings": {"gitlab_token": "glpat-new-value-123456", "subdomain": "example2"}})))
        .await;
    assert_eq!(upd.status, 200);
    assert_eq!(
        upd.body["settings"],
        json!({"name": "GitLab Sync", "subdomain": "example2"}),
        "keys not sent are kept"
    );
    assert!(!upd.body.to_string().contains("glpat-new-value"));
    let held = env.sandbox.with_state(|w| {
        w.zendesk["global"].installations[&id].secure_settings["gitlab_token"]
            .reveal()
            .to_string()
    });
    assert_eq!(held, "glpat-new-value-123456");
    let show = env
        .zd(
            "global",
            Method::GET,
            &admin,
            &format!("/api/v2/apps/installations/{id}.json"),
            None,
        )
        .await;
    assert_eq!(show.body["id"].as_u64(), Some(id), "bare object");
    let empty = env
        .zd(
            "global",
            Method::PUT,
            &admin,
            &format!("/api/v2/apps/installations/{id}"),
            Some(json!({"settings": {}})),
        )
        .await;
    assert_eq!(empty.status, 400);
    let owned = env
        .zd("global", Method::GET, &admin, "/api/v2/apps/owned", None)
        .await;
    let sync = owned.body["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "GitLab Sync")
        .unwrap()
        .clone();
    let secure: Vec<&Json> = sync["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["secure"] == true)
        .collect();
    assert_eq!(secure.len(), 1);
    assert_eq!(secure[0]["name"], "gitlab_token");
}

#[tokio::test]
async fn zendesk_rejects_bad_credentials() {
    let env = Scenario::demo().start();
    let a = env
        .zd(
            "global",
            Method::GET,
            "not-a-token",
            "/api/v2/webhooks",
            None,
        )
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body["error"], "invalid_token");
    let b = env
        .zd("global", Method::GET, "", "/api/v2/webhooks", None)
        .await;
    assert_eq!(b.status, 401);
    // The OAuth token of a non-admin can't manage webhooks.
    let scoped = env.sandbox.with_state(|w| {
        let zd = &w.zendesk["global"];
        zd.oauth_tokens
            .values()
            .find(|t| t.scopes == ["tickets:read", "tickets:write"])
            .unwrap()
            .value
            .reveal()
            .to_string()
    });
    let c = env
        .zd("global", Method::GET, &scoped, "/api/v2/webhooks", None)
        .await;
    assert_eq!(c.status, 403, "tickets scopes do not cover webhooks");
}

#[tokio::test]
async fn zendesk_webhook_signing_secret_reads_and_resets_at_once() {
    let env = Scenario::demo().start();
    let admin = env.zd_admin("global");
    let list = env
        .zd("global", Method::GET, &admin, "/api/v2/webhooks", None)
        .await;
    let id = list.body["webhooks"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v2/webhooks/{id}/signing_secret");
    let first = env.zd("global", Method::GET, &admin, &path, None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["signing_secret"]["algorithm"], "sha256");
    let old = first.body["signing_secret"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let reset = env.zd("global", Method::POST, &admin, &path, None).await;
    let new = reset.body["signing_secret"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(old, new);
    let again = env.zd("global", Method::GET, &admin, &path, None).await;
    assert_eq!(
        again.body["signing_secret"]["secret"],
        new.as_str(),
        "no overlap: the new secret is the only one"
    );
}
