//! Retries by request class: 429 is waited out for every class (rotate included), 5xx and lost
//! connections are retried for reads and idempotent writes, and a rotate whose answer is lost
//! is sent exactly once and reported as `OutcomeUnknown`.

use std::time::Duration;

use jiff::civil::date;
use secrecy::SecretString;
use serde_json::json;
use tokenops::gitlab::{Owner, VariableUpdate};
use tokenops::http::ApiError;

use super::server::{Reply, raw_dropping, serve};
use super::{TOKEN, fast, gitlab, token_json};

#[tokio::test]
async fn a_429_is_waited_out_as_told_and_the_read_continues() {
    let server = serve(|_, index| match index {
        0 => Reply::text(429, "Retry later").header("retry-after", 7),
        _ => Reply::json(200, json!({"id": 1, "username": "ops-bot"})),
    })
    .await;
    let (client, clock) = gitlab(&server.origin, fast());
    let user = client.current_user().await.unwrap();
    assert_eq!(user.username, "ops-bot");
    assert_eq!(server.count(), 2);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(7)]);
}

#[tokio::test]
async fn a_429_on_rotate_is_safe_to_send_again() {
    let server = serve(|_, index| match index {
        0 => Reply::json(
            429,
            json!({"message": {"error": "requested too many times"}}),
        )
        .header("ratelimit-reset", 1_800_000_030),
        _ => {
            let mut token = token_json(4302);
            token["token"] = json!("glpat-new-value-000000");
            Reply::json(200, token)
        }
    })
    .await;
    let (client, clock) = gitlab(&server.origin, fast());
    let rotated = client
        .rotate_personal_token(4211, date(2026, 12, 1))
        .await
        .unwrap();
    assert_eq!(rotated.id, 4302);
    assert!(rotated.token.is_some());
    assert_eq!(server.count(), 2);
    // RateLimit-Reset is an epoch: 30 s after the manual clock's start.
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(30)]);
}

#[tokio::test]
async fn endless_429s_end_as_rate_limited() {
    let server = serve(|_, _| Reply::text(429, "Retry later").header("retry-after", 1)).await;
    let mut settings = fast();
    settings.max_rate_limit_waits = 3;
    let (client, _) = gitlab(&server.origin, settings);
    let err = client.current_user().await.unwrap_err();
    assert!(
        matches!(err, ApiError::RateLimited { waits: 3, .. }),
        "{err}"
    );
    assert_eq!(server.count(), 4);
    assert!(
        err.to_string()
            .contains("GitLab gitlab.com: GET current user"),
        "{err}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_for_get_and_put() {
    let server = serve(|seen, index| match (seen.method.as_str(), index) {
        ("GET", 0 | 1) => Reply::text(503, "busy"),
        ("GET", _) => Reply::json(200, json!({"id": 1, "username": "ops-bot"})),
        ("PUT", 3) => Reply::text(502, "<html>bad gateway</html>"),
        ("PUT", _) => Reply::json(
            200,
            json!({"key": "SYNC_TOKEN", "value": null, "hidden": true}),
        ),
        _ => Reply::empty(500),
    })
    .await;
    let (client, clock) = gitlab(&server.origin, fast());
    client.current_user().await.unwrap();
    assert_eq!(server.count(), 3);
    let update = VariableUpdate {
        value: SecretString::from(TOKEN),
        protected: None,
        masked: Some(true),
        raw: None,
        description: None,
    };
    let owner = Owner::Project("support/ops/zendesk-sync".into());
    client
        .update_variable(&owner, "SYNC_TOKEN", None, &update)
        .await
        .unwrap();
    assert_eq!(server.count(), 5);
    assert_eq!(clock.sleeps().len(), 3, "one backoff per retry");
}

#[tokio::test]
async fn a_read_gives_up_after_the_configured_retries() {
    let server =
        serve(|_, _| Reply::json(500, json!({"message": "500 Internal Server Error"}))).await;
    let mut settings = fast();
    settings.max_retries = 2;
    let (client, _) = gitlab(&server.origin, settings);
    let err = client.get_personal_token(7).await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Server {
                status: 500,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_rotate_answered_with_502_is_outcome_unknown_and_sent_once() {
    let server = serve(|_, _| Reply::text(502, "Bad Gateway")).await;
    let (client, _) = gitlab(&server.origin, fast());
    let err = client
        .rotate_personal_token(4211, date(2026, 12, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::OutcomeUnknown { .. }), "{err}");
    assert_eq!(server.count(), 1);
    let text = err.to_string();
    assert!(
        text.contains("GitLab gitlab.com: POST personal access token 4211 rotate"),
        "{text}"
    );
    assert!(text.contains("NOT retried"), "{text}");
}

#[tokio::test]
async fn a_rotate_whose_connection_drops_is_outcome_unknown_and_sent_once() {
    let (origin, lines) = raw_dropping(|_| true).await;
    let (client, _) = gitlab(&origin, fast());
    let owner = Owner::Project("support/ops/zendesk-sync".into());
    let err = client
        .rotate_access_token(&owner, 58, date(2026, 12, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::OutcomeUnknown { .. }), "{err}");
    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        vec!["POST /api/v4/projects/support%2Fops%2Fzendesk-sync/access_tokens/58/rotate HTTP/1.1"]
    );
}

#[tokio::test]
async fn a_read_whose_connection_drops_is_retried() {
    let (origin, lines) = raw_dropping(|index| index == 0).await;
    let (client, _) = gitlab(&origin, fast());
    let owner = Owner::Group("support".into());
    // The raw server answers `{}`, which is not a token: the retry happened, the body is wrong.
    let err = client.get_access_token(&owner, 9).await.unwrap_err();
    assert!(matches!(err, ApiError::Decode { .. }), "{err}");
    assert_eq!(lines.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_rotate_that_times_out_is_outcome_unknown_and_sent_once() {
    let server = serve(|_, _| Reply::json(200, token_json(1)).after(Duration::from_secs(3))).await;
    let mut settings = fast();
    settings.timeout = Duration::from_millis(300);
    let (client, _) = gitlab(&server.origin, settings);
    let err = client
        .self_rotate_personal_token(date(2026, 12, 1))
        .await
        .unwrap_err();
    match &err {
        ApiError::OutcomeUnknown { reason, .. } => {
            assert!(reason.contains("no answer"), "{reason}")
        }
        other => panic!("expected OutcomeUnknown, got {other}"),
    }
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_refused_connection_never_reached_the_server_so_even_a_rotate_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut settings = fast();
    settings.max_retries = 2;
    let (client, clock) = gitlab(&origin, settings);
    let err = client
        .rotate_personal_token(1, date(2026, 12, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Transport { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(clock.sleeps().len(), 2);
}

#[tokio::test]
async fn an_exhausted_rate_limit_window_pauses_the_next_request_until_reset() {
    let server = serve(|_, index| {
        let reply = Reply::json(200, json!({"id": 1, "username": "ops-bot"}));
        match index {
            0 => reply
                .header("ratelimit-remaining", 0)
                .header("ratelimit-reset", 12),
            _ => reply.header("ratelimit-remaining", 99),
        }
    })
    .await;
    let (client, clock) = gitlab(&server.origin, fast());
    client.current_user().await.unwrap();
    assert!(
        clock.sleeps().is_empty(),
        "the answered request itself is not delayed"
    );
    client.current_user().await.unwrap();
    client.current_user().await.unwrap();
    // The reset, plus a second for the platform's whole-second clock.
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(13)]);
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_read_that_keeps_timing_out_ends_as_timeout_after_its_retries() {
    let server = serve(|_, _| Reply::json(200, token_json(1)).after(Duration::from_secs(3))).await;
    let mut settings = fast();
    settings.timeout = Duration::from_millis(200);
    settings.max_retries = 1;
    let (client, _) = gitlab(&server.origin, settings);
    let err = client.personal_token_self().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Timeout { attempts: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("no answer within 200ms"), "{err}");
    assert_eq!(server.count(), 2);
}
