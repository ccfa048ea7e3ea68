//! Debug logs say method, path, status and latency, and never a credential.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jiff::civil::date;
use secrecy::SecretString;
use serde_json::json;
use tokenops::gitlab::{CustomHeader, HookWrite, Owner};

use super::server::{Reply, serve};
use super::{TOKEN, fast, gitlab, token_json};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn debug_logs_name_the_call_but_never_the_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = serve(|seen, _| {
        if seen.uri.contains("/hooks/") {
            Reply::json(
                200,
                json!({"id": 3, "url": "https://bridge.example.com/hook"}),
            )
        } else {
            let mut token = token_json(4302);
            token["token"] = json!(TOKEN);
            Reply::json(200, token)
        }
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let rotated = client
        .rotate_personal_token(4211, date(2026, 12, 1))
        .await
        .unwrap();
    tracing::debug!(?rotated, "rotated");
    let hook = HookWrite::new(
        "https://bridge.example.com/hook",
        SecretString::from(TOKEN),
        vec![CustomHeader {
            key: "Authorization".into(),
            value: SecretString::from(TOKEN),
        }],
    );
    client
        .update_hook(&Owner::Project("support/ops/bridge".into()), 3, &hook)
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("/api/v4/personal_access_tokens/4211/rotate"),
        "{logs}"
    );
    assert!(logs.contains("status=200"), "{logs}");
    assert!(logs.contains("latency_ms="), "{logs}");
    assert!(
        !logs.contains(TOKEN),
        "a credential reached the logs:\n{logs}"
    );
    assert!(
        !logs.contains("SeCrEt"),
        "part of a credential reached the logs:\n{logs}"
    );
}

#[tokio::test]
async fn a_run_paced_by_its_budget_is_told_once_how_the_budget_makes_it_wait() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = serve(|_, _| Reply::json(200, json!({"id": 1, "username": "ops-bot"}))).await;
    let mut settings = fast();
    settings.requests_per_minute = 2;
    let (client, clock) = gitlab(&server.origin, settings);
    for _ in 0..6 {
        client.current_user().await.unwrap();
    }
    // Requests 3 and 5 wait for the window: two minutes, one notice.
    assert_eq!(
        tokenops::http::Clock::elapsed(&*clock),
        std::time::Duration::from_secs(120)
    );
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches("request budget").count(), 1, "{text}");
    assert!(
        text.contains("GitLab gitlab.com: this run has sent 2 requests in the last minute")
            && text.contains("this one 60 s")
            && text.contains("--requests-per-minute"),
        "{text}"
    );
}
