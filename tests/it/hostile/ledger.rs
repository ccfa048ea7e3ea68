//! A ledger of the wrong shape is refused, never taken for an empty one: `[]`, `{}`, a
//! Terraform state, a newer format. Neither plan nor apply goes on, nothing is minted or
//! written, and the file stays as it was. A ledger written before the format version is still
//! read, and gets the version on its next write.

use tokenops::gitlab::GitLabClient;
use tokenops::http::{ClientSettings, InstanceAccess};
use tokenops::ledger::LedgerError;
use tokenops::ledger::http::HttpLedger;

use crate::scenario::Scenario;

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

fn ledger_path(sc: &Scenario) -> std::path::PathBuf {
    sc.path().join(".tokenops/state.json")
}

/// Requests that changed something on the platform.
fn writes(sc: &Scenario) -> Vec<String> {
    sc.requests()
        .entries
        .iter()
        .filter(|e| e.method != "GET")
        .map(|e| e.route.clone())
        .collect()
}

#[test]
fn a_ledger_of_the_wrong_shape_is_refused_and_left_as_it_was() {
    let sc = Scenario::gitlab_example().start();
    std::fs::create_dir_all(ledger_path(&sc).parent().unwrap()).unwrap();
    for (what, text) in DAMAGED {
        std::fs::write(ledger_path(&sc), text).unwrap();
        for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
            let out = sc.cmd(args).expect(1);
            let stderr = &out.stderr;
            assert!(
                stderr.contains("state.json")
                    && (stderr.to_lowercase().contains("restore") || stderr.contains("newer")),
                "{what}, {args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert_eq!(
                std::fs::read_to_string(ledger_path(&sc)).unwrap(),
                text,
                "{what}: the file was rewritten"
            );
        }
    }
    assert_eq!(
        writes(&sc),
        Vec::<String>::new(),
        "nothing was minted or written"
    );
}

#[test]
fn a_ledger_without_a_format_version_is_read_and_migrated() {
    let sc = Scenario::gitlab_example().start();
    sc.run(&["apply", "--auto-approve"], 0);
    let written = sc.ledger();
    assert!(written.contains("\"format\": 1"), "{written}");
    // The same ledger as the version before the format wrote it.
    let mut old: serde_json::Value = serde_json::from_str(&written).unwrap();
    old.as_object_mut().unwrap().remove("format");
    std::fs::write(
        ledger_path(&sc),
        serde_json::to_string_pretty(&old).unwrap(),
    )
    .unwrap();
    sc.run(&["plan", "--detailed-exitcode"], 0);
    // The next write gives the ledger its version back, and loses nothing.
    sc.run(&["apply", "--auto-approve"], 0);
    let migrated = sc.ledger();
    assert!(migrated.contains("\"format\": 1"), "{migrated}");
    let before: serde_json::Value = serde_json::from_str(&written).unwrap();
    let after: serde_json::Value = serde_json::from_str(&migrated).unwrap();
    assert_eq!(before["tokens"], after["tokens"], "nothing was lost");
}

#[tokio::test]
async fn a_terraform_state_in_the_shared_ledger_is_refused() {
    let sc = Scenario::demo().start();
    let sandbox = &sc.sandbox;
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
