//! Errors a person can act on: 401, 403 and 404 read differently; insecure URLs are refused;
//! a held Terraform state lock names its holder; no message carries the credential.

use serde_json::json;
use tokenops::gitlab::{GitLabClient, LockInfo};
use tokenops::http::ApiError;

use super::server::{Reply, serve};
use super::{TOKEN, access, fast, gitlab};

#[tokio::test]
async fn unauthorized_forbidden_and_not_found_say_different_things() {
    let server = serve(|seen, _| {
        if seen.uri.contains("/personal_access_tokens/1") {
            Reply::json(401, json!({"message": "401 Unauthorized"}))
        } else if seen.uri.contains("/personal_access_tokens/2") {
            Reply::json(
                403,
                json!({"error": "insufficient_scope",
                       "error_description": "The request requires higher privileges than provided by the access token.",
                       "scope": "api"}),
            )
        } else {
            Reply::json(404, json!({"message": "404 Project Not Found"}))
        }
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());

    let unauthorized = client.get_personal_token(1).await.unwrap_err();
    assert!(matches!(unauthorized, ApiError::Unauthorized { .. }));
    let text = unauthorized.to_string();
    assert!(
        text.starts_with("GitLab gitlab.com: GET personal access token 1: 401"),
        "{text}"
    );
    assert!(text.contains("wrong, expired or revoked"), "{text}");
    assert!(text.contains("cannot see this object"), "{text}");

    let forbidden = client.get_personal_token(2).await.unwrap_err();
    match &forbidden {
        ApiError::Forbidden { scope, .. } => assert_eq!(scope.as_deref(), Some("api")),
        other => panic!("expected Forbidden, got {other}"),
    }
    let text = forbidden.to_string();
    assert!(
        text.contains("403") && text.contains("`api` scope"),
        "{text}"
    );
    assert!(!text.contains("revoked"), "{text}");

    let missing = client.get_project("support/ops/gone").await.unwrap_err();
    assert!(matches!(missing, ApiError::NotFound { .. }));
    let text = missing.to_string();
    assert!(
        text.contains("project support/ops/gone: 404 Not Found (404 Project Not Found)"),
        "{text}"
    );
    // Nothing was retried: these answers are final.
    assert_eq!(server.count(), 3);
    for err in [unauthorized, forbidden, missing] {
        assert!(!err.to_string().contains(TOKEN));
        assert!(!format!("{err:?}").contains(TOKEN));
    }
}

#[tokio::test]
async fn validation_errors_carry_the_platform_message() {
    let server = serve(|_, _| {
        Reply::json(
            400,
            json!({"message": "400 Bad request - Expires at must be before 2027-11-28"}),
        )
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let err = client
        .rotate_personal_token(5, jiff::civil::date(2028, 1, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Invalid { status: 400, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("Expires at must be before 2027-11-28")
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn plain_http_is_refused_except_for_loopback() {
    for url in [
        "http://gitlab.example.com",
        "http://192.168.1.10:8080/gitlab",
    ] {
        let err = GitLabClient::new(&access(url), fast()).unwrap_err();
        assert!(matches!(err, ApiError::InsecureUrl { .. }), "{url}: {err}");
        assert!(err.to_string().contains("use https://"), "{err}");
    }
    for url in [
        "http://127.0.0.1:1",
        "http://localhost:1/x",
        "http://[::1]:1",
        "https://gitlab.com",
    ] {
        assert!(GitLabClient::new(&access(url), fast()).is_ok(), "{url}");
    }
}

fn lock(id: &str, who: &str) -> LockInfo {
    LockInfo {
        id: id.into(),
        operation: "apply".into(),
        info: String::new(),
        who: who.into(),
        version: "1".into(),
        created: "2026-11-28T00:00:00Z".into(),
        path: "ledger".into(),
    }
}

#[tokio::test]
async fn a_held_state_lock_names_the_holder_and_the_way_out() {
    let server = serve(|seen, _| {
        let body = seen.json();
        if body["ID"] == "mine" {
            Reply::json(
                409,
                serde_json::to_value(lock("theirs", "ci-runner-bot")).unwrap(),
            )
        } else {
            Reply::json(200, body)
        }
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let err = client
        .lock_state("support/ops/tokenops", "ledger", &lock("mine", "me"))
        .await
        .unwrap_err();
    match &err {
        ApiError::LockHeld { who, lock_id, .. } => {
            assert_eq!(who, "ci-runner-bot");
            assert_eq!(lock_id, "theirs");
        }
        other => panic!("expected LockHeld, got {other}"),
    }
    let text = err.to_string();
    assert!(text.contains("locked by ci-runner-bot"), "{text}");
    assert!(
        text.contains(
            "DELETE /api/v4/projects/support%2Fops%2Ftokenops/terraform/state/ledger/lock"
        ),
        "{text}"
    );
    let held = client
        .lock_state("support/ops/tokenops", "ledger", &lock("other", "me"))
        .await
        .unwrap();
    assert_eq!(held.id, "other");
}
