//! `tokenops sandbox`: the JSON line, a live endpoint, and the loopback-only rule.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn sandbox_command_prints_its_json_line_and_answers_requests() {
    let bin = assert_cmd::cargo::cargo_bin("tokenops");
    let mut child = Command::new(bin)
        .args(["sandbox", "--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tokenops runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).expect("first line is JSON");
    let filters = crate::scenario::filters(&std::env::temp_dir());
    crate::scenario::assert_filtered_snapshot!(filters, "sandbox_first_line", line.trim());
    let gitlab = &info["gitlab"]["gitlab.com"];
    let url = gitlab["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    for zd in ["global", "us-government"] {
        assert!(
            info["zendesk"][zd]["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/zendesk/{zd}"))
        );
        assert!(info["zendesk"][zd]["token"].is_string());
    }
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let me: serde_json::Value = http
        .get(format!("{url}/api/v4/user"))
        .header("PRIVATE-TOKEN", gitlab["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "tokenops-admin");
    let zd = &info["zendesk"]["global"];
    let hooks = http
        .get(format!("{}/api/v2/webhooks", zd["url"].as_str().unwrap()))
        .bearer_auth(zd["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(hooks.status().as_u16(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sandbox_command_refuses_non_loopback_addresses() {
    let dir = tempfile::tempdir().unwrap();
    crate::scenario::plain_command(dir.path())
        .args(["sandbox", "--listen", "0.0.0.0:0"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("only serves loopback"));
}

#[test]
fn sandbox_command_reports_a_bad_seed_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seed.yaml"),
        "gitlab:\n  - name: x\n    bogus: 1\n",
    )
    .unwrap();
    crate::scenario::plain_command(dir.path())
        .args(["sandbox", "--seed", "seed.yaml"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("seed.yaml:"));
}
