//! The control API of `tokenops sandbox`, driven from outside the process only: seed, clock,
//! a fault that drops the answer after Zendesk minted, the request log that shows it, and
//! the issued values a leak scan needs, with a `tokenops check` run against the result.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const SEED: &str = r#"
now: "2026-11-28T09:00:00.600Z"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
    groups:
      - { path: ops, members: { tokenops-admin: owner } }
    projects:
      - { path: ops/tokenops }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
    oauth_clients:
      - { identifier: escalations, name: Escalations, created_at: "2025-11-03T10:00:00Z" }
    oauth_tokens:
      - { client: escalations, scopes: [tickets:read], expires_at: +20d }
"#;

const CONFIG: &str = r#"
version: 1
zendesk:
  - name: global
    url: https://example.zendesk.com
    oauth_token_env: ZD_TOKEN
check:
  within: 21d
  discover:
    zendesk: [global]
"#;

const MANIFEST: &str = r#"
tokens:
  - id: escalations
    zendesk_oauth_token: { zendesk: global, client: escalations, scopes: [tickets:read] }
    consumers:
      - manual: { instructions: Paste it into the escalation service }
"#;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_whole_scenario_runs_through_the_control_api_alone() {
    let bin = assert_cmd::cargo::cargo_bin("tokenops");
    let mut child = Child(
        Command::new(bin)
            .args(["sandbox", "--listen", "127.0.0.1:0", "--rng-seed", "7"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tokenops runs"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first: Value = serde_json::from_str(&line).expect("first line is JSON");
    let control = first["control"]
        .as_str()
        .expect("the control API is named")
        .to_string();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Seed: the whole state replaced.
    let info: Value = http
        .post(format!("{control}/seed"))
        .body(SEED)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gl_url = info["gitlab"]["gitlab.com"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let zd_url = info["zendesk"]["global"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let zd_token = info["zendesk"]["global"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let clock: Value = http
        .get(format!("{control}/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["now"], "2026-11-28T09:00:00.6Z");

    // Fault: the next mint is applied, then its connection dropped.
    let put = http
        .put(format!("{control}/faults"))
        .json(&json!({"pattern": "POST /api/v2/oauth/tokens", "drop_after_apply": 1.0, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 204);
    let faults: Value = http
        .get(format!("{control}/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["faults"][0]["pattern"], "POST /api/v2/oauth/tokens");
    let client_id = {
        let clients: Value = http
            .get(format!("{zd_url}/api/v2/oauth/clients"))
            .bearer_auth(&zd_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        clients["clients"][0]["id"].as_u64().unwrap()
    };
    let lost = http
        .post(format!("{zd_url}/api/v2/oauth/tokens"))
        .bearer_auth(&zd_token)
        .json(&json!({"token": {"client_id": client_id, "scopes": ["tickets:read"]}}))
        .send()
        .await;
    assert!(
        lost.is_err() || !lost.unwrap().status().is_success(),
        "the answer is lost"
    );

    // Clock: set and advance.
    http.put(format!("{control}/clock"))
        .json(&json!({"now": "2026-12-01T08:00:00Z"}))
        .send()
        .await
        .unwrap();
    let moved: Value = http
        .post(format!("{control}/clock/advance"))
        .json(&json!({"by": "1h 30m"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["now"], "2026-12-01T09:30:00Z");

    // Log: the mint is there, with its connection reset (status 0).
    let log: Value = http
        .get(format!("{control}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mint = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["route"] == "POST /api/v2/oauth/tokens")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(mint["status"], 0);
    assert_eq!(mint["at"], "2026-11-28T09:00:00.6Z");

    // tokenops against the driven sandbox: the lost mint shows as a second token.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenops.yaml"), CONFIG).unwrap();
    std::fs::create_dir(dir.path().join("manifests")).unwrap();
    std::fs::write(dir.path().join("manifests/zd.yaml"), MANIFEST).unwrap();
    let out = crate::scenario::plain_command(dir.path())
        .env(
            tokenops::cli::env::override_var(tokenops::Platform::Zendesk, "global", "URL"),
            &zd_url,
        )
        .env("ZD_TOKEN", &zd_token)
        .env(tokenops::cli::env::NOW_VAR, "2026-12-01T09:30:00Z")
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    // The newest token of the client is the lost mint, which Zendesk gave no expiry: adopted,
    // and not expiring.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(report["entries"].as_array().unwrap().is_empty(), "{stdout}");
    let tokens: Value = http
        .get(format!(
            "{zd_url}/api/v2/oauth/tokens?all=true&client_id={client_id}"
        ))
        .bearer_auth(&zd_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tokens["tokens"].as_array().unwrap().len(),
        2,
        "the lost mint happened"
    );

    // Issued values: every one the sandbox made, for a leak scan of what tokenops printed.
    let issued: Value = http
        .get(format!("{control}/issued"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issued: Vec<&str> = issued["issued"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        issued.len() >= 3,
        "the admin token, the seeded token and the lost mint"
    );
    assert!(issued.contains(&zd_token.as_str()));
    for value in issued {
        assert!(
            !stdout.contains(value) && !stderr.contains(value),
            "a secret leaked"
        );
    }

    // CI job tokens: accepted on the project's Terraform state while the job runs.
    let job: Value = http
        .post(format!("{control}/gitlab/gitlab.com/ci_jobs"))
        .json(&json!({"project": "ops/tokenops", "user": "tokenops-admin"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_token = job["token"].as_str().unwrap().to_string();
    let state = |token: String| {
        http.get(format!(
            "{gl_url}/api/v4/projects/ops%2Ftokenops/terraform/state/tokenops"
        ))
        .basic_auth("gitlab-ci-token", Some(token))
        .send()
    };
    let never_written = state(job_token.clone()).await.unwrap();
    assert_eq!(
        never_written.status().as_u16(),
        404,
        "a state never written"
    );
    http.post(format!("{control}/gitlab/gitlab.com/ci_jobs/finish"))
        .json(&json!({"token": job_token}))
        .send()
        .await
        .unwrap();
    let finished = state(job_token.clone()).await.unwrap();
    assert_eq!(finished.status().as_u16(), 401, "the job ended");

    // Clearing: faults and log empty again.
    http.delete(format!("{control}/faults"))
        .send()
        .await
        .unwrap();
    http.delete(format!("{control}/requests"))
        .send()
        .await
        .unwrap();
    let log: Value = http
        .get(format!("{control}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["total"], 0);
    let unknown = http.get(format!("{control}/nothing")).send().await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}
