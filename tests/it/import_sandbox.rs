//! `tokenops import` against the sandbox: the entries it writes validate, cover the undeclared
//! live tokens, and no file is ever overwritten; `--migrate-zendesk` writes the OAuth
//! replacement of a legacy entry next to it.

use crate::check_sandbox::scenario;
use crate::scenario::{Exit, Scenario, assert_filtered_snapshot};

fn run(sc: &Scenario, args: &[&str]) -> (Option<i32>, String, String) {
    let out = sc.cmd(args).expect(Exit::Any);
    (out.code, out.stdout, out.stderr)
}

#[test]
fn discover_writes_valid_entries_for_undeclared_tokens_and_never_overwrites() {
    let sc = scenario();
    let (code, stdout, stderr) = run(
        &sc,
        &["import", "--discover", "--out", "manifests/imported"],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Wrote 6 entries"), "{stdout}");
    assert!(
        stdout.contains("Skipped zendesk_api_token 9002"),
        "{stdout}"
    );
    let text = sc.read("manifests/imported/imported.yaml");
    assert_filtered_snapshot!(sc.filters(), "import_discover", text);
    for name in [
        "old-tool",
        "stale",
        "group-bot",
        "old-cli",
        "far-away",
        "Deploy from Zendesk",
    ] {
        assert!(
            text.contains(&format!("\"{name}\"")),
            "{name} missing:\n{text}"
        );
    }
    assert!(
        !text.contains("sync-bot"),
        "declared tokens are not imported"
    );
    assert!(!text.contains("\"outside\""), "outside the scopes");
    assert_eq!(text.matches("consumers: []").count(), 6);

    // What import wrote is a valid manifest next to the existing ones.
    let (code, stdout, stderr) = run(&sc, &["validate"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");

    // Every token is declared now: plan and check see no undeclared token left.
    let (_, json, err) = run(&sc, &["check", "--format", "json"]);
    assert!(!json.is_empty(), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let undeclared: Vec<_> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["declared_by"].is_null() && e["kind"] != "zendesk_api_token")
        .collect();
    assert!(undeclared.is_empty(), "{undeclared:?}");

    // A second run refuses, naming the file, and leaves it alone.
    let (code, _, stderr) = run(
        &sc,
        &["import", "--discover", "--out", "manifests/imported"],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("imported.yaml already exists"), "{stderr}");
    assert_eq!(sc.read("manifests/imported/imported.yaml"), text);

    // With everything declared, another directory gets nothing, and the skipped token is named.
    let (code, stdout, _) = run(&sc, &["import", "--discover", "--out", "manifests/again"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("Nothing to import"), "{stdout}");
    assert!(
        stdout.contains("Skipped zendesk_api_token 9002"),
        "{stdout}"
    );
    assert!(!sc.path().join("manifests/again/imported.yaml").exists());
}

#[test]
fn migrate_zendesk_writes_the_oauth_replacement_next_to_the_legacy_entry() {
    let sc = scenario();
    let (code, stdout, stderr) = run(&sc, &["import", "--migrate-zendesk", "legacy"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let migrated = stdout;
    let text = sc.read("manifests/legacy-oauth.yaml");
    assert_filtered_snapshot!(sc.filters(), "import_migrate_zendesk", text);
    assert!(text.contains("zendesk_oauth_token:"));
    assert!(
        text.contains("zendesk_webhook"),
        "the consumers to move:\n{text}"
    );
    assert!(
        migrated.contains("`tokenops validate` refuses it until `client`"),
        "{migrated}"
    );
    // The entry is refused until the client is filled in, at its place and saying what to do;
    // with the client filled in, what import wrote is valid.
    let (code, stdout, stderr) = run(&sc, &["validate"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("legacy-oauth.yaml:"))
        .unwrap_or_default();
    assert!(line.ends_with(": error: `client` is empty"), "{stdout}");
    assert!(stdout.contains("hint: fill in `client`"), "{stdout}");
    assert!(stdout.ends_with("1 problem in 1 file\n"), "{stdout}");
    sc.write(
        "manifests/legacy-oauth.yaml",
        &text.replace("client: \"\"", "client: reporting_export"),
    );
    let (code, stdout, stderr) = run(&sc, &["validate"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let filled = sc.read("manifests/legacy-oauth.yaml");

    let (code, _, stderr) = run(&sc, &["import", "--migrate-zendesk", "legacy"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("legacy-oauth.yaml already exists"),
        "{stderr}"
    );
    assert_eq!(sc.read("manifests/legacy-oauth.yaml"), filled);
    let (code, _, stderr) = run(&sc, &["import", "--migrate-zendesk", "sync"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("not a zendesk_api_token"), "{stderr}");
}
