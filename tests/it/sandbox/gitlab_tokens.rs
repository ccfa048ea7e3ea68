//! Access tokens: rotation semantics, reuse detection, visibility, expiry, scopes, filters.

use reqwest::Method;
use serde_json::json;

use super::{Env, enc};

#[tokio::test]
async fn rotate_revokes_old_token_and_returns_new_id_and_value_once() {
    let env = Env::demo().await;
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
    let env = Env::demo().await;
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
    let env = Env::demo().await;
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
    let env = Env::demo().await;
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
    let env = Env::demo().await;
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
    let revoked = env.sb.with_state(|w| {
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
    let env = Env::demo().await;
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
    let live = env.sb.with_state(|w| {
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
    let env = Env::demo().await;
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
async fn non_admin_gets_401_not_404_for_token_ids_it_cannot_see() {
    let env = Env::demo().await;
    let bot = env.token_value("ops-automation");
    let admin_token_id = env.token_id("tokenops");
    for id in [admin_token_id, 999_999] {
        let a = env
            .gl(
                Method::GET,
                &bot,
                &format!("/personal_access_tokens/{id}"),
                None,
            )
            .await;
        assert_eq!(a.status, 401, "id {id}");
        let r = env
            .gl(
                Method::POST,
                &bot,
                &format!("/personal_access_tokens/{id}/rotate"),
                None,
            )
            .await;
        assert_eq!(r.status, 401, "rotate id {id}");
    }
    let admin = env
        .gl(
            Method::GET,
            &env.admin(),
            "/personal_access_tokens/999999",
            None,
        )
        .await;
    assert_eq!(admin.status, 404);
    let other_user = env
        .gl(Method::GET, &bot, "/personal_access_tokens?user_id=1", None)
        .await;
    assert_eq!(other_user.status, 401);
    // Its own list shows only its own tokens.
    let own = env
        .gl(Method::GET, &bot, "/personal_access_tokens", None)
        .await;
    let names: Vec<&str> = own
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ops-automation", "weekly-reports-read"]);
}

#[tokio::test]
async fn tokens_stop_authenticating_at_midnight_utc_on_their_expiry_date() {
    let env = Env::demo().await;
    let value = env.token_value("ops-automation");
    let expires = env
        .gl(Method::GET, &value, "/personal_access_tokens/self", None)
        .await
        .body["expires_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(expires, "2026-12-10");
    env.sb.clock().set("2026-12-09T23:59:59Z".parse().unwrap());
    assert_eq!(env.gl(Method::GET, &value, "/user", None).await.status, 200);
    env.sb.clock().set("2026-12-10T00:00:00Z".parse().unwrap());
    let a = env.gl(Method::GET, &value, "/user", None).await;
    assert_eq!(a.status, 401);
    assert!(
        a.body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    // An admin sees it as inactive.
    let listed = env
        .gl(
            Method::GET,
            &env.admin(),
            "/personal_access_tokens?state=inactive&search=ops-automation",
            None,
        )
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn token_value_is_absent_everywhere_but_create_and_rotate() {
    let env = Env::demo().await;
    let admin = env.admin();
    for path in [
        "/personal_access_tokens".to_string(),
        format!(
            "/projects/{}/access_tokens",
            enc("support/ops/zendesk-sync")
        ),
        format!("/groups/{}/access_tokens", enc("support/ops")),
    ] {
        let a = env.gl(Method::GET, &admin, &path, None).await;
        assert_eq!(a.status, 200, "{path}");
        for t in a.body.as_array().unwrap() {
            assert!(t.get("token").is_none(), "{path} leaks a value");
        }
    }
    let created = env
        .gl(Method::POST, &admin, &format!("/projects/{}/access_tokens", enc("support/ops/reports")), Some(json!({"name": "new-bot", "scopes": ["read_api"], "access_level": 20, "expires_at": "2027-05-01"})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        created.body["token"]
            .as_str()
            .unwrap()
            .starts_with("glpat-")
    );
    let bot = env
        .gl(
            Method::GET,
            &admin,
            &format!("/users/{}", created.body["user_id"]),
            None,
        )
        .await;
    assert_eq!(bot.body["bot"], true);
    assert!(
        bot.body["username"]
            .as_str()
            .unwrap()
            .starts_with("project_")
    );
    let pat = env
        .gl(
            Method::POST,
            &admin,
            "/users/2/personal_access_tokens",
            Some(json!({"name": "extra", "scopes": ["read_api"]})),
        )
        .await;
    assert_eq!(pat.status, 201);
    assert!(pat.body["token"].as_str().unwrap().starts_with("glpat-"));
    assert_eq!(
        pat.body["expires_at"], "2027-11-28",
        "create defaults to the maximum lifetime"
    );
}

#[tokio::test]
async fn personal_token_list_filters_by_user_state_and_expiry() {
    let env = Env::demo().await;
    let admin = env.admin();
    let due = env
        .gl(
            Method::GET,
            &admin,
            "/personal_access_tokens?state=active&expires_before=2026-12-20",
            None,
        )
        .await;
    let mut names: Vec<&str> = due
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["legacy-exporter", "ops-automation", "zendesk-global-app"]
    );
    let bot = env
        .gl(
            Method::GET,
            &admin,
            "/personal_access_tokens?user_id=2",
            None,
        )
        .await;
    assert_eq!(bot.body.as_array().unwrap().len(), 2);
    let inactive = env
        .gl(
            Method::GET,
            &admin,
            "/personal_access_tokens?state=inactive",
            None,
        )
        .await;
    let mut names: Vec<&str> = inactive
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["triage-bot", "zendesk-usgov-app"],
        "expired and rotated-away tokens are inactive"
    );
    let bad = env
        .gl(
            Method::GET,
            &admin,
            "/personal_access_tokens?state=sleepy",
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    let project = env
        .gl(
            Method::GET,
            &admin,
            &format!(
                "/projects/{}/access_tokens?state=active",
                enc("support/ops/zendesk-sync")
            ),
            None,
        )
        .await;
    assert_eq!(project.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn read_api_token_gets_403_insufficient_scope_on_writes() {
    let env = Env::demo().await;
    let reader = env.token_value("weekly-reports-read");
    let a = env
        .gl(
            Method::POST,
            &reader,
            &format!("/projects/{}/issues", enc("support/ops/reports")),
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.body["error"], "insufficient_scope");
    let r = env
        .gl(Method::GET, &reader, "/personal_access_tokens/self", None)
        .await;
    assert_eq!(r.status, 200, "self works with any scope");
}

#[tokio::test]
async fn project_token_cannot_rotate_another_token() {
    let env = Env::demo().await;
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

#[tokio::test]
async fn revoke_answers_204_and_keeps_the_record_listed() {
    let env = Env::demo().await;
    let id = env.token_id("weekly-reports-read");
    let a = env
        .gl(
            Method::DELETE,
            &env.admin(),
            &format!("/personal_access_tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(a.status, 204);
    let rec = env
        .gl(
            Method::GET,
            &env.admin(),
            &format!("/personal_access_tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(rec.body["revoked"], true);
    let self_value = env.token_value("ops-automation");
    let s = env
        .gl(
            Method::DELETE,
            &self_value,
            "/personal_access_tokens/self",
            None,
        )
        .await;
    assert_eq!(s.status, 204);
    assert_eq!(
        env.gl(Method::GET, &self_value, "/user", None).await.status,
        401
    );
}

#[tokio::test]
async fn every_issued_gitlab_value_has_the_platform_format() {
    let env = Env::demo().await;
    let values = env.sb.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        let pats: Vec<String> = gl
            .tokens
            .values()
            .map(|t| t.value.reveal().to_string())
            .collect();
        let triggers: Vec<String> = gl
            .triggers
            .values()
            .map(|t| t.value.reveal().to_string())
            .collect();
        (pats, triggers)
    });
    assert!(!values.0.is_empty() && !values.1.is_empty());
    for v in values.0 {
        let body = v.strip_prefix("glpat-").expect("glpat- prefix");
        assert_eq!(body.len(), 20);
        assert!(
            body.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
    }
    for v in values.1 {
        let body = v.strip_prefix("glptt-").expect("glptt- prefix");
        assert_eq!(body.len(), 40);
        assert!(body.chars().all(|c| c.is_ascii_hexdigit()));
    }
}

#[tokio::test]
async fn bearer_header_authenticates_like_private_token() {
    let env = Env::demo().await;
    let url = format!("{}/api/v4/user", env.sb.gitlab_url("gitlab.com"));
    let a = super::answer(
        env.http
            .get(&url)
            .bearer_auth(env.admin())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["username"], "tokenops-admin");
    let none = super::answer(env.http.get(&url).send().await.unwrap()).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["message"], "401 Unauthorized");
}
