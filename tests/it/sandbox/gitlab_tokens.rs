//! Access tokens: rotation semantics, reuse detection, visibility, expiry, scopes, filters.

use reqwest::Method;
use serde_json::json;

use crate::scenario::{Answer, Scenario, enc};

#[tokio::test]
async fn non_admin_gets_401_not_404_for_token_ids_it_cannot_see() {
    let env = Scenario::demo().start();
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
    let env = Scenario::demo().start();
    let value = env.token_value("ops-automation");
    let expires = env
        .gl(Method::GET, &value, "/personal_access_tokens/self", None)
        .await
        .body["expires_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(expires, "2026-12-10");
    env.sandbox
        .clock()
        .set("2026-12-09T23:59:59Z".parse().unwrap());
    assert_eq!(env.gl(Method::GET, &value, "/user", None).await.status, 200);
    env.sandbox
        .clock()
        .set("2026-12-10T00:00:00Z".parse().unwrap());
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
    let env = Scenario::demo().start();
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
    let env = Scenario::demo().start();
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
    // The service account's token is a personal token too.
    assert_eq!(
        names,
        [
            "legacy-exporter",
            "ops-automation",
            "weekly-digest",
            "zendesk-global-app"
        ]
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
    let env = Scenario::demo().start();
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
async fn revoke_answers_204_and_keeps_the_record_listed() {
    let env = Scenario::demo().start();
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
    let env = Scenario::demo().start();
    let values = env.sandbox.with_state(|w| {
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
    let env = Scenario::demo().start();
    let url = format!("{}/api/v4/user", env.sandbox.gitlab_url("gitlab.com"));
    let a = Answer::read(
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
    let none = Answer::read(env.http.get(&url).send().await.unwrap()).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["message"], "401 Unauthorized");
}
