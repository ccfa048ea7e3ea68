//! Token rotation: revoke-at-once, new id and value once, default expiry, refusals and
//! reuse detection.

use reqwest::Method;
use serde_json::json;

use crate::scenario::{Scenario, enc};

#[tokio::test]
async fn rotate_revokes_old_token_and_returns_new_id_and_value_once() {
    let env = Scenario::demo().start();
    let old_value = env.token_value("ops-automation");
    let old_id = env.token_id("ops-automation");
    let a = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!("/personal_access_tokens/{old_id}/rotate"),
            Some(json!({"expires_at": "2027-06-01"})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let new_id = a.body["id"].as_u64().unwrap();
    assert_ne!(new_id, old_id);
    let new_value = a.body["token"].as_str().unwrap().to_string();
    assert!(new_value.starts_with("glpat-"));
    assert_ne!(new_value, old_value);
    assert_eq!(a.body["name"], "ops-automation");
    assert_eq!(a.body["scopes"], json!(["api"]));
    assert_eq!(a.body["expires_at"], "2027-06-01");
    // The old value stops at once.
    let old = env
        .gl(
            Method::GET,
            &old_value,
            "/personal_access_tokens/self",
            None,
        )
        .await;
    assert_eq!(old.status, 401);
    assert_eq!(old.body["error"], "invalid_token");
    assert!(
        old.body["error_description"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    // The new one works, and the value is never shown again.
    let me = env
        .gl(
            Method::GET,
            &new_value,
            "/personal_access_tokens/self",
            None,
        )
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"].as_u64(), Some(new_id));
    assert!(me.body.get("token").is_none());
    let by_id = env
        .gl(
            Method::GET,
            &env.admin(),
            &format!("/personal_access_tokens/{new_id}"),
            None,
        )
        .await;
    assert!(by_id.body.get("token").is_none());
    let old_record = env
        .gl(
            Method::GET,
            &env.admin(),
            &format!("/personal_access_tokens/{old_id}"),
            None,
        )
        .await;
    assert_eq!(old_record.body["revoked"], true);
    assert_eq!(old_record.body["active"], false);
}

#[tokio::test]
async fn rotate_keeps_name_scopes_and_bot_user_of_project_token() {
    let env = Scenario::demo().start();
    let id = env.token_id("bridge-deploy");
    let before = env
        .gl(
            Method::GET,
            &env.admin(),
            &format!("/projects/{}/access_tokens/{id}", enc("support/ops/bridge")),
            None,
        )
        .await;
    assert_eq!(before.status, 200, "{}", before.body);
    let a = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!(
                "/projects/{}/access_tokens/{id}/rotate",
                enc("support/ops/bridge")
            ),
            Some(json!({"expires_at": "2027-02-01"})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_ne!(a.body["id"], before.body["id"]);
    for field in ["name", "scopes", "user_id", "access_level", "description"] {
        assert_eq!(
            a.body[field], before.body[field],
            "{field} must survive rotation"
        );
    }
    assert!(a.body["token"].as_str().unwrap().starts_with("glpat-"));
}

#[tokio::test]
async fn rotate_without_expires_at_expires_in_seven_days() {
    let env = Scenario::demo().start();
    let id = env.token_id("ops-automation");
    let a = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!("/personal_access_tokens/{id}/rotate"),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["expires_at"], "2026-12-05");
}

#[tokio::test]
async fn rotate_refuses_expiry_beyond_one_year() {
    let env = Scenario::demo().start();
    let id = env.token_id("ops-automation");
    let a = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!("/personal_access_tokens/{id}/rotate"),
            Some(json!({"expires_at": "2028-01-01"})),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .starts_with("400 Bad request - Expires at")
    );
    // Nothing was rotated.
    assert_eq!(env.token_id("ops-automation"), id);
}

#[tokio::test]
async fn expired_or_revoked_token_cannot_be_rotated() {
    let env = Scenario::demo().start();
    let expired = env.token_id("triage-bot");
    let a = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!(
                "/groups/{}/access_tokens/{expired}/rotate",
                enc("support/ops")
            ),
            None,
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(env.token_id("triage-bot"), expired, "no new token");
    let revoked = env.sandbox.with_state(|w| {
        w.gitlab["gitlab.com"]
            .tokens
            .values()
            .find(|t| t.name == "zendesk-usgov-app" && t.revoked)
            .unwrap()
            .id
    });
    let b = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!("/personal_access_tokens/{revoked}/rotate"),
            None,
        )
        .await;
    assert_eq!(b.status, 400);
    assert_eq!(b.body["message"], "400 Bad request - Token already revoked");
}

#[tokio::test]
async fn reuse_detection_revokes_the_whole_family_and_answers_401() {
    let env = Scenario::demo().start();
    let t1 = env.token_value("ops-automation");
    let first = env
        .gl(
            Method::POST,
            &t1,
            "/personal_access_tokens/self/rotate",
            Some(json!({"expires_at": "2027-03-01"})),
        )
        .await;
    assert_eq!(first.status, 200);
    let t2 = first.body["token"].as_str().unwrap().to_string();
    // The response was "lost"; the client retries with T1.
    let retry = env
        .gl(
            Method::POST,
            &t1,
            "/personal_access_tokens/self/rotate",
            None,
        )
        .await;
    assert_eq!(retry.status, 401);
    assert_eq!(retry.body["error"], "invalid_token");
    // T2, which the client never saw, is revoked too.
    let probe = env
        .gl(Method::GET, &t2, "/personal_access_tokens/self", None)
        .await;
    assert_eq!(probe.status, 401);
    let live = env.sandbox.with_state(|w| {
        w.gitlab["gitlab.com"]
            .tokens
            .values()
            .filter(|t| t.name == "ops-automation" && !t.revoked)
            .count()
    });
    assert_eq!(live, 0);
}

#[tokio::test]
async fn rotate_by_id_of_revoked_token_with_other_credential_answers_400_and_revokes_nothing() {
    let env = Scenario::demo().start();
    let id = env.token_id("ops-automation");
    let first = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!("/personal_access_tokens/{id}/rotate"),
            None,
        )
        .await;
    assert_eq!(first.status, 200);
    let t2 = first.body["token"].as_str().unwrap().to_string();
    let again = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!("/personal_access_tokens/{id}/rotate"),
            None,
        )
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.body["message"],
        "400 Bad request - Token already revoked"
    );
    let probe = env
        .gl(Method::GET, &t2, "/personal_access_tokens/self", None)
        .await;
    assert_eq!(probe.status, 200, "the new token must survive");
}

#[tokio::test]
async fn project_token_cannot_rotate_another_token() {
    let env = Scenario::demo().start();
    let project_token = env.token_value("zendesk-global-app");
    let other = env.token_id("zendesk-usgov-app");
    let a = env
        .gl(
            Method::POST,
            &project_token,
            &format!(
                "/projects/{}/access_tokens/{other}/rotate",
                enc("support/ops/zendesk-sync")
            ),
            None,
        )
        .await;
    assert_eq!(a.status, 401);
    let own = env
        .gl(
            Method::POST,
            &project_token,
            &format!(
                "/projects/{}/access_tokens/self/rotate",
                enc("support/ops/zendesk-sync")
            ),
            None,
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
}
