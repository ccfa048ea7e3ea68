//! A ledger of the wrong shape is refused, never taken for an empty one: `[]`, `{}`, a
//! Terraform state, a newer format. Neither plan nor apply goes on, nothing is minted or
//! written, and the file stays as it was. A ledger written before the format version is still
//! read, and gets the version on its next write.

use tokenops::gitlab::GitLabClient;
use tokenops::http::{ClientSettings, InstanceAccess};
use tokenops::ledger::LedgerError;
use tokenops::ledger::http::HttpLedger;

use crate::harness::{SandboxRun, demo_sandbox};

/// Documents that must never be read as a ledger.
pub const DAMAGED: [(&str, &str); 10] = [
    ("a list", "[]"),
    ("an empty object", "{}"),
    (
        "a Terraform state",
        r#"{"version":4,"terraform_version":"1.9.8","serial":12,"lineage":"3f1c","outputs":{},"resources":[]}"#,
    ),
    ("a newer format", r#"{"format":9,"serial":3,"tokens":{}}"#),
    ("null", "null"),
    ("a string", r#""tokens""#),
    ("tokens as a list", r#"{"serial":1,"tokens":[]}"#),
    (
        "a record as a list",
        r#"{"serial":1,"tokens":{"gl-ops-bot-automation":[]}}"#,
    ),
    ("cut short", r#"{"serial":1,"tokens":{"gl-ops-bot-auto"#),
    ("empty", ""),
];

fn ledger_path(run: &SandboxRun) -> std::path::PathBuf {
    run.dir.path().join(".tokenops/state.json")
}

/// Requests that changed something on the platform.
fn writes(run: &SandboxRun) -> Vec<String> {
    run.handle
        .requests()
        .entries
        .iter()
        .filter(|e| e.method != "GET")
        .map(|e| e.route.clone())
        .collect()
}

#[test]
fn a_ledger_of_the_wrong_shape_is_refused_and_left_as_it_was() {
    let run = SandboxRun::gitlab_demo();
    std::fs::create_dir_all(ledger_path(&run).parent().unwrap()).unwrap();
    for (what, text) in DAMAGED {
        std::fs::write(ledger_path(&run), text).unwrap();
        for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
            let out = run.cmd(args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what}, {args:?}: {stderr}");
            assert!(
                stderr.contains("state.json")
                    && (stderr.to_lowercase().contains("restore") || stderr.contains("newer")),
                "{what}, {args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert_eq!(
                std::fs::read_to_string(ledger_path(&run)).unwrap(),
                text,
                "{what}: the file was rewritten"
            );
        }
    }
    assert_eq!(
        writes(&run),
        Vec::<String>::new(),
        "nothing was minted or written"
    );
}

#[test]
fn a_ledger_without_a_format_version_is_read_and_migrated() {
    let run = SandboxRun::gitlab_demo();
    let out = run.apply(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let written = run.ledger_text();
    assert!(written.contains("\"format\": 1"), "{written}");
    // The same ledger as the version before the format wrote it.
    let mut old: serde_json::Value = serde_json::from_str(&written).unwrap();
    old.as_object_mut().unwrap().remove("format");
    std::fs::write(
        ledger_path(&run),
        serde_json::to_string_pretty(&old).unwrap(),
    )
    .unwrap();
    let plan = run.cmd(&["plan", "--detailed-exitcode"]).output().unwrap();
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    // Anything due later is rotated and the ledger gets its version back.
    let later = run.cmd(&["apply", "--auto-approve"]).output().unwrap();
    assert!(
        later.status.success(),
        "{}",
        String::from_utf8_lossy(&later.stderr)
    );
    let migrated = run.ledger_text();
    assert!(migrated.contains("\"format\": 1"), "{migrated}");
    let before: serde_json::Value = serde_json::from_str(&written).unwrap();
    let after: serde_json::Value = serde_json::from_str(&migrated).unwrap();
    assert_eq!(before["tokens"], after["tokens"], "nothing was lost");
}

#[tokio::test]
async fn a_terraform_state_in_the_shared_ledger_is_refused() {
    let sandbox = demo_sandbox().await;
    let access = InstanceAccess {
        name: "gitlab.com".into(),
        url: sandbox.gitlab_url("gitlab.com"),
        credential: sandbox.gitlab_admin_token("gitlab.com"),
        email: None,
    };
    let client = GitLabClient::new(&access, ClientSettings::gitlab()).unwrap();
    let address = tokenops::ledger::http::StateAddress::parse(&format!(
        "{}/api/v4/projects/support%2Fops%2Ftokenops/terraform/state/tokenops",
        sandbox.gitlab_url("gitlab.com")
    ))
    .unwrap();
    client
        .put_state(
            &address.project,
            &address.name,
            DAMAGED[2].1.as_bytes().to_vec(),
            None,
        )
        .await
        .unwrap();
    let err = HttpLedger::read_unlocked(&client, &address)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::NotALedger { .. }), "{err}");
    assert!(err.to_string().contains("Terraform state"), "{err}");
}
