//! The request budget, the platform's own window, 429 storms and the run's waiting limit, and
//! the concurrency limit, measured at the server on a manual clock or on the sandbox's clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokenops::http::{ApiError, Clock};

use super::server::{Reply, serve};
use super::{fast, gitlab};

#[tokio::test]
async fn the_budget_holds_in_every_sixty_second_window() {
    const BUDGET: u32 = 10;
    const REQUESTS: usize = 35;
    let arrivals: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let clock_slot: Arc<Mutex<Option<Arc<dyn Clock>>>> = Arc::default();
    let (log, slot) = (arrivals.clone(), clock_slot.clone());
    let server = serve(move |_, _| {
        let now = slot.lock().unwrap().as_ref().unwrap().elapsed();
        log.lock().unwrap().push(now);
        Reply::json(200, json!({"id": 1, "username": "ops-bot"}))
    })
    .await;
    let mut settings = fast();
    settings.requests_per_minute = BUDGET;
    settings.concurrency = 1;
    let (client, clock) = gitlab(&server.origin, settings);
    *clock_slot.lock().unwrap() = Some(clock.clone());
    let calls = (0..REQUESTS).map(|_| client.current_user());
    for result in futures_join(calls).await {
        result.unwrap();
    }
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), REQUESTS);
    for (i, at) in arrivals.iter().enumerate() {
        let in_window = arrivals[..=i]
            .iter()
            .filter(|t| **t + Duration::from_secs(60) > *at)
            .count();
        assert!(
            in_window <= BUDGET as usize,
            "{in_window} requests in the minute before {at:?}"
        );
    }
    // 35 requests at 10 per minute: the last one cannot go before minute 3.
    assert!(*arrivals.last().unwrap() >= Duration::from_secs(180));
}

/// Runs futures concurrently on the current task and collects their outputs in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut outputs: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn no_more_requests_are_in_flight_than_the_concurrency_allows() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, top) = (in_flight.clone(), peak.clone());
    let server = serve(move |_, _| {
        let current = now.fetch_add(1, Ordering::SeqCst) + 1;
        top.fetch_max(current, Ordering::SeqCst);
        Reply::json(200, json!({"id": 1, "username": "ops-bot"})).after(Duration::from_millis(40))
    })
    .await;
    // The script runs before the delay; count down when each answer is sent.
    let mut settings = fast();
    settings.concurrency = 3;
    let (client, _) = gitlab(&server.origin, settings);
    let done = in_flight.clone();
    let calls = (0..12).map(|_| {
        let client = client.clone();
        let done = done.clone();
        async move {
            let result = client.current_user().await;
            done.fetch_sub(1, Ordering::SeqCst);
            result
        }
    });
    for result in futures_join(calls).await {
        result.unwrap();
    }
    assert_eq!(server.count(), 12);
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "{peak} requests in flight with a limit of 3");
    assert!(peak >= 2, "requests were not sent in parallel at all");
}

const SEED: &str = "gitlab:\n  - name: gitlab.com\n    admin: tokenops-admin\n    users:\n      \
                    - { username: tokenops-admin, name: tokenops, admin: true }\n";

/// A sandbox whose clock starts 30 s into a minute, and a GitLab client whose waits move
/// that same clock.
async fn sandbox_client(
    settings: tokenops::http::ClientSettings,
) -> (
    tokenops::sandbox::SandboxHandle,
    tokenops::gitlab::GitLabClient,
) {
    use tokenops::sandbox::{Sandbox, SandboxOptions, Seed};
    let seed = Seed::from_yaml_str(SEED, "<budget test>").unwrap();
    let start = "2026-11-28T12:00:30Z".parse().unwrap();
    let sandbox = Sandbox::start(seed, SandboxOptions::at(start))
        .await
        .unwrap();
    let access = tokenops::http::InstanceAccess {
        name: "gitlab.com".to_string(),
        url: sandbox.gitlab_url("gitlab.com"),
        credential: sandbox.gitlab_admin_token("gitlab.com"),
        email: None,
    };
    let client =
        tokenops::gitlab::GitLabClient::with_clock(&access, settings, sandbox.clock().for_http())
            .unwrap();
    (sandbox, client)
}

fn seconds_since(sandbox: &tokenops::sandbox::SandboxHandle, start: jiff::Timestamp) -> f64 {
    sandbox.clock().now().duration_since(start).as_secs_f64()
}

/// Spends `n` requests of the sandbox's current minute from outside the client under test.
async fn spend(sandbox: &tokenops::sandbox::SandboxHandle, n: usize) {
    let other = reqwest::Client::new();
    let url = format!("{}/api/v4/user", sandbox.gitlab_url("gitlab.com"));
    let admin = sandbox.gitlab_admin_token("gitlab.com");
    let calls = (0..n).map(|_| {
        other
            .get(&url)
            .header(
                "private-token",
                secrecy::ExposeSecret::expose_secret(&admin),
            )
            .send()
    });
    for response in futures_util::future::join_all(calls).await {
        assert_eq!(response.unwrap().status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_429s_at_once_cost_one_retry_after_wait() {
    use tokenops::sandbox::FaultSpec;
    let (sandbox, client) = sandbox_client(tokenops::http::ClientSettings::gitlab()).await;
    // Answers take a second, so all 16 requests reach the sandbox (and are refused) before
    // the first refusal is read and the client's wait moves the sandbox clock.
    sandbox.faults().set(
        "*",
        FaultSpec {
            budget_per_minute: Some(16),
            latency: Duration::from_secs(1),
            ..FaultSpec::default()
        },
    );
    // Another job has spent this minute's requests: the next 16 are refused, each with
    // `Retry-After: 30` (the minute's end).
    spend(&sandbox, 16).await;
    let start = sandbox.clock().now();
    let calls = (0..16).map(|_| client.current_user());
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    let stats = sandbox.requests();
    assert_eq!(stats.count_status("GET /api/v4/user", 429), 16);
    assert_eq!(stats.count_status("GET /api/v4/user", 200), 32);
    // One wait until the minute's end, not one per 429 (the old budget made it several in a
    // row: a pause asked while another request slept in the budget counted from then on).
    assert_eq!(seconds_since(&sandbox, start), 30.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_another_client_spent_half_of_gets_no_429() {
    use tokenops::sandbox::FaultSpec;
    let mut settings = tokenops::http::ClientSettings::gitlab();
    settings.requests_per_minute = 40;
    // Fewer in flight than are left: the first answers arrive before the window could be
    // overrun by requests sent before anything was known about it.
    settings.concurrency = 4;
    let (sandbox, client) = sandbox_client(settings).await;
    sandbox.faults().set(
        "*",
        FaultSpec {
            budget_per_minute: Some(40),
            ..FaultSpec::default()
        },
    );
    // Another job of the same account spends 25 of this minute's 40 requests.
    spend(&sandbox, 25).await;
    let start = sandbox.clock().now();
    let calls = (0..100).map(|_| client.current_user());
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    let stats = sandbox.requests();
    assert_eq!(stats.by_status.get(&429), None, "{:?}", stats.by_status);
    assert_eq!(stats.total, 125);
    // 15 left in this minute (30 s of it to go), then 40 a minute: the last 5 go at 2:30.
    let took = seconds_since(&sandbox, start);
    assert!((150.0..=153.0).contains(&took), "{took} s");
}

/// 16 concurrent reads against a platform that answers 429 forever with `headers`; returns
/// the manual clock's reading at the end and the errors.
async fn persistent_429(headers: &[(&'static str, &'static str)]) -> (Duration, Vec<String>) {
    let headers = headers.to_vec();
    let server = serve(move |_, _| {
        let mut reply = Reply::text(429, "Retry later");
        for (name, value) in &headers {
            reply = reply.header(name, value);
        }
        reply
    })
    .await;
    let mut settings = fast();
    settings.backoff_base = Duration::from_millis(500);
    settings.backoff_max = Duration::from_secs(30);
    settings.concurrency = 16;
    let (client, clock) = gitlab(&server.origin, settings);
    let calls = (0..16).map(|_| client.current_user());
    let errors = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap_err())
        .map(|e| {
            assert!(
                matches!(e, ApiError::WaitLimit { .. } | ApiError::RateLimited { .. }),
                "{e}"
            );
            e.to_string()
        })
        .collect();
    (clock.elapsed(), errors)
}

#[tokio::test]
async fn a_persistent_429_with_a_negative_retry_after_waits_less_than_the_run_limit() {
    // An unreadable Retry-After falls back to the backoff, shared by every request.
    let (waited, _) = persistent_429(&[("retry-after", "-5")]).await;
    assert!(waited <= Duration::from_secs(300), "{waited:?}");
}

#[tokio::test]
async fn a_persistent_429_without_any_header_waits_less_than_the_run_limit() {
    let (waited, _) = persistent_429(&[]).await;
    assert!(waited <= Duration::from_secs(300), "{waited:?}");
}

#[tokio::test]
async fn a_persistent_429_stops_at_the_run_limit_and_says_so() {
    // Ten waits of 60 s each would be allowed per request; the run stops at 300 s in all.
    let (waited, errors) = persistent_429(&[("retry-after", "60")]).await;
    assert_eq!(waited, Duration::from_secs(300));
    assert!(
        errors.iter().all(|e| e.contains("--max-wait")
            && e.contains(
                "GitLab gitlab.com: GET current user: gave up after 429 Too Many Requests"
            )
            && e.contains("already waited 300s")
            && e.contains("limit of 300s")),
        "{errors:?}"
    );
}
