//! Fault injection (errors, budgets, dropped connections) and the request log.

use std::time::Duration;

use reqwest::Method;
use tokenops::sandbox::FaultSpec;

use crate::scenario::Scenario;

#[tokio::test]
async fn budget_exceeded_answers_429_with_retry_after_and_plain_text_for_gitlab() {
    let env = Scenario::demo().start();
    env.sandbox.faults().set(
        "GET /api/v4/user",
        FaultSpec {
            budget_per_minute: Some(3),
            ..Default::default()
        },
    );
    for remaining in ["2", "1", "0"] {
        let a = env.gl(Method::GET, &env.admin(), "/user", None).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("ratelimit-limit"), Some("3"));
        assert_eq!(a.header("ratelimit-remaining"), Some(remaining));
    }
    let limited = env.gl(Method::GET, &env.admin(), "/user", None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.header("retry-after"),
        Some("60"),
        "clock sits at the start of a minute"
    );
    assert!(
        limited
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        limited.body,
        serde_json::Value::String("Retry later\n".into())
    );
    // Other routes are not limited; the budget comes back with the next sandbox minute.
    assert_eq!(
        env.gl(
            Method::GET,
            &env.admin(),
            "/personal_access_tokens/self",
            None
        )
        .await
        .status,
        200
    );
    env.sandbox
        .clock()
        .advance(jiff::SignedDuration::from_secs(60));
    assert_eq!(
        env.gl(Method::GET, &env.admin(), "/user", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn budget_exceeded_on_zendesk_answers_429_with_retry_after() {
    let env = Scenario::demo().start();
    env.sandbox.faults().set(
        "* /api/v2/webhooks*",
        FaultSpec {
            budget_per_minute: Some(1),
            ..Default::default()
        },
    );
    env.sandbox
        .clock()
        .advance(jiff::SignedDuration::from_secs(15));
    let admin = env.zd_admin("global");
    let first = env
        .zd("global", Method::GET, &admin, "/api/v2/webhooks", None)
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-rate-limit"), Some("1"));
    assert_eq!(first.header("x-rate-limit-remaining"), Some("0"));
    let limited = env
        .zd("global", Method::GET, &admin, "/api/v2/webhooks", None)
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("45"));
}

#[tokio::test]
async fn injected_errors_use_the_chosen_statuses_and_change_nothing() {
    let env = Scenario::demo().start();
    env.sandbox.faults().set(
        "POST */rotate",
        FaultSpec {
            error_rate: 1.0,
            statuses: vec![502, 503],
            times: Some(4),
            ..Default::default()
        },
    );
    let id = env.token_id("ops-automation");
    let mut seen = Vec::new();
    for _ in 0..4 {
        let a = env
            .gl(
                Method::POST,
                &env.admin(),
                &format!("/personal_access_tokens/{id}/rotate"),
                None,
            )
            .await;
        seen.push(a.status);
    }
    assert!(seen.iter().all(|s| *s == 502 || *s == 503), "{seen:?}");
    assert_eq!(
        env.token_id("ops-automation"),
        id,
        "failed calls did not rotate"
    );
    let fifth = env
        .gl(
            Method::POST,
            &env.admin(),
            &format!("/personal_access_tokens/{id}/rotate"),
            None,
        )
        .await;
    assert_eq!(fifth.status, 200, "the rule only covered four requests");
}

#[tokio::test]
async fn dropped_connection_after_apply_leaves_the_outcome_unknown_to_the_client() {
    let env = Scenario::demo().start();
    env.sandbox.faults().set(
        "POST /api/v4/personal_access_tokens/:id/rotate",
        FaultSpec {
            drop_after_apply: 1.0,
            times: Some(1),
            ..Default::default()
        },
    );
    let id = env.token_id("ops-automation");
    let url = format!(
        "{}/api/v4/personal_access_tokens/{id}/rotate",
        env.sandbox.gitlab_url("gitlab.com")
    );
    let sent = env
        .http
        .post(&url)
        .header("PRIVATE-TOKEN", env.admin())
        .send()
        .await;
    assert!(sent.is_err(), "the client never gets an answer");
    // The platform applied it: the old token is revoked and a new one exists.
    let (old_revoked, live) = env.sandbox.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        (
            gl.tokens[&id].revoked,
            gl.tokens
                .values()
                .filter(|t| t.name == "ops-automation" && !t.revoked)
                .count(),
        )
    });
    assert!(old_revoked);
    assert_eq!(live, 1);
    let stats = env.sandbox.requests();
    assert_eq!(
        stats.count_status("POST /api/v4/personal_access_tokens/:id/rotate", 0),
        1
    );
}

#[tokio::test]
async fn injected_latency_still_answers() {
    let env = Scenario::demo().start();
    env.sandbox.faults().set(
        "GET /api/v4/user",
        FaultSpec {
            latency: Duration::from_millis(20),
            ..Default::default()
        },
    );
    assert_eq!(
        env.gl(Method::GET, &env.admin(), "/user", None)
            .await
            .status,
        200
    );
    env.sandbox.faults().clear();
}

#[tokio::test]
async fn request_log_counts_per_route_and_status() {
    let env = Scenario::demo().start();
    env.gl(Method::GET, &env.admin(), "/user", None).await;
    env.gl(Method::GET, &env.admin(), "/user", None).await;
    env.gl(Method::GET, "", "/user", None).await;
    env.zd(
        "global",
        Method::GET,
        &env.zd_admin("global"),
        "/api/v2/webhooks",
        None,
    )
    .await;
    let stats = env.sandbox.requests();
    assert_eq!(stats.total, 4);
    assert_eq!(stats.count("GET /api/v4/user"), 3);
    assert_eq!(stats.count_status("GET /api/v4/user", 200), 2);
    assert_eq!(stats.count_status("GET /api/v4/user", 401), 1);
    assert_eq!(stats.count("GET /api/v2/webhooks"), 1);
    assert_eq!(stats.by_status[&200], 3);
    assert_eq!(stats.entries[3].instance, "zendesk/global");
    assert_eq!(stats.entries[0].path, "/api/v4/user");
    env.sandbox.clear_requests();
    assert_eq!(env.sandbox.requests().total, 0);
}

#[tokio::test]
async fn issued_values_cover_every_secret_and_never_reach_the_log() {
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
    let new_value = a.body["token"].as_str().unwrap().to_string();
    use secrecy::ExposeSecret;
    let issued: Vec<String> = env
        .sandbox
        .issued_values()
        .iter()
        .map(|v| v.expose_secret().to_string())
        .collect();
    assert!(issued.contains(&new_value));
    assert!(issued.contains(&env.admin()));
    assert!(issued.contains(&env.zd_admin("global")));
    let log = format!("{:?}", env.sandbox.requests().entries);
    for v in &issued {
        assert!(!log.contains(v.as_str()));
    }
}
