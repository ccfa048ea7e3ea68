//! Project and group webhooks: write-only secrets, URL changes that clear them, CRUD.

use reqwest::Method;
use serde_json::json;

use crate::scenario::{Scenario, enc};

fn hook_secret(env: &Scenario, url: &str) -> Option<String> {
    env.sandbox.with_state(|w| {
        w.gitlab["gitlab.com"]
            .hooks
            .values()
            .find(|h| h.url == url)
            .and_then(|h| h.token.as_ref().map(|t| t.reveal().to_string()))
    })
}

#[tokio::test]
async fn webhook_secret_is_never_returned() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!("/projects/{}/hooks", enc("support/ops/bridge"));
    let list = env.gl(Method::GET, &admin, &base, None).await;
    assert_eq!(list.status, 200);
    let hooks = list.body.as_array().unwrap();
    assert_eq!(hooks.len(), 1);
    assert!(hooks[0].get("token").is_none());
    let created = env
        .gl(Method::POST, &admin, &base, Some(json!({"url": "https://new.example.com/hook", "token": "s3cret-value-123", "issues_events": true})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.get("token").is_none());
    assert_eq!(created.body["issues_events"], true);
    let id = created.body["id"].as_u64().unwrap();
    let one = env
        .gl(Method::GET, &admin, &format!("{base}/{id}"), None)
        .await;
    assert!(one.body.get("token").is_none());
    assert!(!one.body.to_string().contains("s3cret-value-123"));
    let edited = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({"token": "another-secret-456"})),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert!(edited.body.get("token").is_none());
    assert_eq!(
        hook_secret(&env, "https://new.example.com/hook").as_deref(),
        Some("another-secret-456")
    );
}

#[tokio::test]
async fn webhook_url_change_without_token_clears_the_secret() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!("/groups/{}/hooks", enc("support/ops"));
    let hooks = env.gl(Method::GET, &admin, &base, None).await;
    let id = hooks.body[0]["id"].as_u64().unwrap();
    let old_url = "https://triage.example.com/hooks/gitlab";
    assert!(hook_secret(&env, old_url).is_some());
    // Same URL, no token: the secret stays.
    let same = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({"url": old_url, "note_events": true})),
        )
        .await;
    assert_eq!(same.status, 200);
    assert!(hook_secret(&env, old_url).is_some());
    // New URL without the token: cleared.
    let moved = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({"url": "https://triage2.example.com/hooks"})),
        )
        .await;
    assert_eq!(moved.status, 200);
    assert_eq!(hook_secret(&env, "https://triage2.example.com/hooks"), None);
    // New URL with the token: kept.
    let with = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({"url": "https://triage3.example.com/hooks", "token": "fresh-secret-789"})),
        )
        .await;
    assert_eq!(with.status, 200);
    assert_eq!(
        hook_secret(&env, "https://triage3.example.com/hooks").as_deref(),
        Some("fresh-secret-789")
    );
}

#[tokio::test]
async fn webhook_custom_header_values_are_masked_and_settable() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!("/projects/{}/hooks", enc("support/ops/escalations"));
    let list = env.gl(Method::GET, &admin, &base, None).await;
    let hook = &list.body[0];
    assert_eq!(hook["custom_headers"], json!([{"key": "Authorization"}]));
    let id = hook["id"].as_u64().unwrap();
    let a = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}/custom_headers/Authorization"),
            Some(json!({"value": "Bearer abcdefgh"})),
        )
        .await;
    assert_eq!(a.status, 204);
    let held = env.sandbox.with_state(|w| {
        w.gitlab["gitlab.com"].hooks[&id].custom_headers["Authorization"]
            .reveal()
            .to_string()
    });
    assert_eq!(held, "Bearer abcdefgh");
    // A new URL drops custom headers unless they are sent again in the same request.
    let moved = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({"url": "https://moved.example.com/hook"})),
        )
        .await;
    assert_eq!(moved.body["custom_headers"], json!([]));
    let resent = json!({
        "url": "https://again.example.com/hook",
        "custom_headers": [{"key": "Authorization", "value": "Bearer zyxwvuts"}],
    });
    let again = env
        .gl(Method::PUT, &admin, &format!("{base}/{id}"), Some(resent))
        .await;
    assert_eq!(
        again.body["custom_headers"],
        json!([{"key": "Authorization"}])
    );
}

#[tokio::test]
async fn webhook_add_edit_delete_lifecycle() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!("/projects/{}/hooks", enc("support/ops/reports"));
    let missing = env
        .gl(
            Method::POST,
            &admin,
            &base,
            Some(json!({"push_events": true})),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"], "url is missing");
    let bad = env
        .gl(
            Method::POST,
            &admin,
            &base,
            Some(json!({"url": "not a url"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    let created = env
        .gl(
            Method::POST,
            &admin,
            &base,
            Some(json!({"url": "https://r.example.com/h", "name": "reports"})),
        )
        .await;
    let id = created.body["id"].as_u64().unwrap();
    let empty = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(empty.status, 400);
    assert_eq!(
        env.gl(Method::DELETE, &admin, &format!("{base}/{id}"), None)
            .await
            .status,
        204
    );
    let again = env
        .gl(Method::DELETE, &admin, &format!("{base}/{id}"), None)
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.body["message"], "404 Hook Not Found");
}
