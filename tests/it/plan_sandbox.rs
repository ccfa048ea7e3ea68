//! `tokenops plan` end to end against the sandbox: one scenario per status a reviewer must be
//! able to read, in text (snapshots), markdown and JSON, plus faults during discovery. Every
//! output is checked for values the sandbox issued.

use tokenops::manifest::{CheckSettings, Discover};
use tokenops::sandbox::FaultSpec;

use crate::scenario::{Scenario, ScenarioBuilder, assert_filtered_snapshot, names};

const SEED: &str = r#"
secrets:
  - { ref: hook-secret, length: 40 }
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
      - { username: ops-bot, name: Ops Bot }
    groups:
      - { path: ops, members: { ops-bot: owner } }
      - { path: ops/tools }
    projects:
      - { path: ops/sync }
      - { path: ops/tools/old }
    tokens:
      - { ref: sync, project: ops/sync, name: sync-bot, scopes: [api], access_level: developer, expires_at: +200d, created_at: -100d }
      - { ref: bot, user: ops-bot, name: reports, scopes: [read_api], expires_at: +100d, created_at: -30d }
      - { project: ops/tools/old, name: old-tool, scopes: [api], access_level: maintainer, expires_at: +12d, created_at: -350d, last_used_at: -60d }
    hooks:
      - { project: ops/sync, url: "https://hooks.example.com/sync", name: Sync receiver, token: { value_of: hook-secret } }
    variables:
      - { project: ops/sync, key: SYNC_TOKEN, value: { value_of: sync }, masked: true }
      - { project: ops/sync, key: BOT_TOKEN, value: { value_of: bot }, masked: true, protected: true }
    merge_requests:
      - { project: ops/sync, iid: 7, title: Declare the sync tokens }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
      - { name: Export Bot, email: export-bot@example.com, role: admin }
    webhooks:
      - name: Export
        endpoint: https://export.example.com/zendesk
        authentication: { type: basic_auth, data: { username: export-bot@example.com/token, password: { value_of: legacy } } }
    api_tokens:
      - { ref: legacy, id: 9001, description: export job, user: export-bot@example.com, created_at: -400d, last_used: -5d }
"#;

const MANIFEST: &str = r#"
tokens:
  - id: sync
    gitlab_project_access_token: { gitlab: gitlab.com, project: ops/sync, name: sync-bot, scopes: [api], access_level: developer }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: ops/sync, key: SYNC_TOKEN, masked: true }
  - id: bot
    gitlab_personal_access_token: { gitlab: gitlab.com, user: ops-bot, name: reports, scopes: [read_api] }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: ops/sync, key: BOT_TOKEN, masked: true, protected: true }
  - id: hook-secret
    generated_secret: { length: 40 }
    consumers:
      - gitlab_webhook: { gitlab: gitlab.com, project: ops/sync, url: "https://hooks.example.com/sync" }
  - id: legacy
    zendesk_api_token: { zendesk: global, token_id: 9001, email: export-bot@example.com }
    consumers:
      - zendesk_webhook: { zendesk: global, webhook: Export, auth: basic_auth, username: export-bot@example.com/token }
"#;

/// [`SEED`] with the bot, the `ops` group and Zendesk Global discovered, and `manifest`.
fn builder(manifest: &str) -> ScenarioBuilder {
    Scenario::seeded(SEED)
        .check(CheckSettings {
            discover: Discover {
                gitlab_users: names(&["ops-bot"]),
                gitlab_groups: names(&["ops"]),
                zendesk: names(&["global"]),
                ..Discover::default()
            },
            ..CheckSettings::default()
        })
        .manifest("estate.yaml", manifest)
}

fn scenario() -> Scenario {
    builder(MANIFEST).start()
}

/// Runs `plan` with `args` and expects exit `code`; stdout.
fn plan(sc: &Scenario, args: &[&str], code: i32) -> String {
    sc.run(&[&["plan"], args].concat(), code).stdout
}

fn token_id(sc: &Scenario, name: &str) -> u64 {
    sc.with_gitlab(|g| {
        g.tokens
            .values()
            .filter(|t| t.name == name && !t.revoked)
            .map(|t| t.id)
            .max()
            .unwrap()
    })
}

macro_rules! snapshot {
    ($sc:expr, $name:expr, $text:expr) => {
        assert_filtered_snapshot!($sc.filters(), $name, $text)
    };
}

#[test]
fn all_in_sync_has_no_changes_and_exits_zero_with_detailed_exitcode() {
    // Only the tokens whose current values the consumers hold: a never-generated secret
    // would be work to do.
    let manifest: String = MANIFEST
        .split("  - id: hook-secret")
        .next()
        .unwrap()
        .to_string();
    let sc = builder(&manifest).start();
    let out = plan(&sc, &["--detailed-exitcode"], 0);
    assert!(
        out.starts_with("No changes: 2 tokens in sync, 2 undeclared."),
        "{out}"
    );
}

#[test]
fn baseline_shows_the_new_secret_undeclared_and_legacy_tokens() {
    let sc = scenario();
    let out = plan(&sc, &["--detailed-exitcode"], 2);
    snapshot!(sc, "plan_sandbox_baseline", out);
}

#[test]
fn due_token_is_rotated_with_an_explicit_expiry() {
    let sc = scenario();
    let soon = sc
        .sandbox
        .clock()
        .now()
        .checked_add(jiff::SignedDuration::from_hours(240))
        .unwrap();
    let id = token_id(&sc, "sync-bot");
    sc.with_gitlab(|g| {
        g.tokens.get_mut(&id).unwrap().expires_at = Some(tokenops::time::utc_date(soon))
    });
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("~ sync (gitlab_project_access_token) due"),
        "{out}"
    );
    assert!(
        out.contains("+ rotate, new expiry 2027-11-28 (value changes)"),
        "{out}"
    );
    snapshot!(sc, "plan_sandbox_due", out);
}

#[test]
fn expired_token_is_created_again() {
    let sc = scenario();
    let id = token_id(&sc, "sync-bot");
    sc.with_gitlab(|g| {
        g.tokens.get_mut(&id).unwrap().expires_at = Some(jiff::civil::date(2026, 11, 20))
    });
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("sync (gitlab_project_access_token) expired"),
        "{out}"
    );
    assert!(out.contains("expired on 2026-11-20"), "{out}");
    assert!(out.contains("new bot user"), "{out}");
    assert!(
        out.contains("variable SYNC_TOKEN (value changes; now stale)"),
        "{out}"
    );
}

#[test]
fn token_revoked_out_of_band_is_created_again() {
    let sc = scenario();
    let id = token_id(&sc, "sync-bot");
    sc.with_gitlab(|g| g.tokens.get_mut(&id).unwrap().revoked = true);
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("sync (gitlab_project_access_token) revoked"),
        "{out}"
    );
    assert!(
        out.contains(&format!("token {id} was revoked outside tokenops")),
        "{out}"
    );
    assert!(out.contains("+ create again"), "{out}");
}

#[test]
fn missing_token_is_created() {
    let sc = scenario();
    let id = token_id(&sc, "reports");
    sc.with_gitlab(|g| g.tokens.remove(&id));
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("bot (gitlab_personal_access_token) missing"),
        "{out}"
    );
}

#[test]
fn scope_drift_needs_a_person_and_plans_nothing_for_the_token() {
    let sc = scenario();
    let id = token_id(&sc, "sync-bot");
    sc.with_gitlab(|g| {
        g.tokens
            .get_mut(&id)
            .unwrap()
            .scopes
            .push("write_repository".into())
    });
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("! sync (gitlab_project_access_token) scope-drift"),
        "{out}"
    );
    assert!(
        out.contains("live scopes [api, write_repository] differ from the approved [api]"),
        "{out}"
    );
    let json = plan(&sc, &["--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sync = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "sync")
        .unwrap();
    assert_eq!(sync["needs_human"], true);
    assert_eq!(sync["actions"].as_array().unwrap().len(), 0);
}

#[test]
fn consumer_holding_a_revoked_value_is_stale() {
    let sc = scenario();
    let id = token_id(&sc, "sync-bot");
    // Rotate behind tokenops's back: the variable keeps the old (now revoked) value.
    sc.sandbox.with_state(|w| {
        let now = sc.sandbox.clock().now();
        let g = w.gitlab.get_mut("gitlab.com").unwrap();
        g.rotate(&mut w.issuer, id, jiff::civil::date(2027, 6, 1), now);
    });
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("variable SYNC_TOKEN is stale")
            || out.contains("SYNC_TOKEN (value changes; now stale)"),
        "{out}"
    );
    assert!(
        out.contains("~ sync (gitlab_project_access_token) due"),
        "{out}"
    );
    snapshot!(sc, "plan_sandbox_stale_consumer", out);
}

#[test]
fn deleted_ci_variable_is_missing() {
    let sc = scenario();
    sc.with_gitlab(|g| g.variables.retain(|v| v.key != "BOT_TOKEN"));
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("variable BOT_TOKEN (value changes; now missing)"),
        "{out}"
    );
}

#[test]
fn changed_hook_url_leaves_the_declared_hook_missing() {
    let sc = scenario();
    sc.with_gitlab(|g| {
        for hook in g.hooks.values_mut() {
            hook.url = "https://moved.example.com/sync".into();
        }
    });
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("hook https://hooks.example.com/sync (value changes; now missing)"),
        "{out}"
    );
}

#[test]
fn undeclared_token_in_a_discovery_scope_is_listed() {
    let sc = scenario();
    let out = plan(&sc, &[], 0);
    assert!(
        out.contains("gitlab_project_access_token ops/tools/old \"old-tool\""),
        "{out}"
    );
}

#[test]
fn legacy_zendesk_token_shows_its_deadlines() {
    let sc = scenario();
    let out = plan(&sc, &[], 0);
    assert!(out.contains("! legacy (zendesk_api_token) legacy"), "{out}");
    assert!(
        out.contains("every API token stops working on 2027-04-30 (152 days left)"),
        "{out}"
    );
    assert!(
        out.contains("unused for 5 days: will be deactivated on 2026-12-23 if still unused"),
        "{out}"
    );
}

#[test]
fn markdown_and_json_formats() {
    let sc = scenario();
    let md = plan(&sc, &["--format", "markdown"], 0);
    assert!(md.starts_with("<!-- tokenops:plan -->"));
    assert!(md.contains("| rotations |"));
    snapshot!(sc, "plan_sandbox_markdown", md);
    let json = plan(&sc, &["--format", "json", "--out", "plan.json"], 0);
    let saved = sc.read("plan.json");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["format"], 1);
    assert_eq!(doc["live_fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&saved).unwrap(),
        doc
    );
}

#[test]
fn transient_5xx_and_429_during_discovery_do_not_change_the_plan() {
    let sc = scenario();
    let clean = plan(&sc, &["--format", "json"], 0);
    sc.sandbox.faults().set(
        "GET *",
        FaultSpec {
            error_rate: 0.3,
            statuses: vec![500, 502, 503, 429],
            ..FaultSpec::default()
        },
    );
    let flaky = plan(&sc, &["--format", "json"], 0);
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
        v["generated_at"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(&clean), strip(&flaky));
    let stats = sc.sandbox.requests();
    assert!(
        stats.by_status.keys().any(|s| *s >= 500),
        "faults were injected"
    );
}

#[test]
fn persistent_5xx_fails_with_a_clear_error_after_retries() {
    let sc = scenario();
    sc.sandbox.faults().set(
        "GET /api/v4/projects/:id/variables",
        FaultSpec {
            error_rate: 1.0,
            statuses: vec![503],
            ..FaultSpec::default()
        },
    );
    let stderr = sc.run(&["plan"], 1).stderr;
    assert!(stderr.contains("discovery failed"), "{stderr}");
    assert!(
        stderr.contains("CI/CD variables of project/ops/sync"),
        "{stderr}"
    );
    assert!(stderr.contains("503"), "{stderr}");
}

fn mr_notes(sc: &Scenario) -> Vec<String> {
    sc.with_gitlab(|g| {
        g.notes
            .values()
            .filter(|n| n.noteable_type == "MergeRequest" && n.noteable_iid == 7)
            .map(|n| n.body.clone())
            .collect()
    })
}

fn comment(sc: &Scenario, sha: &str) {
    let api = format!("{}/api/v4", sc.sandbox.gitlab_url("gitlab.com"));
    sc.cmd(&["plan", "--comment", "--widget-report", "widget.json"])
        .env("CI_API_V4_URL", api)
        .env("CI_PROJECT_ID", "ops/sync")
        .env("CI_MERGE_REQUEST_IID", "7")
        .env("CI_COMMIT_SHA", sha)
        .expect(0);
    let report: serde_json::Value = serde_json::from_str(&sc.read("widget.json")).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"create": 1, "update": 1, "delete": 0})
    );
}

#[test]
fn merge_request_note_is_created_then_updated_never_duplicated() {
    let sc = scenario();
    comment(&sc, "1111111111111111111111111111111111111111");
    let notes = mr_notes(&sc);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].starts_with("<!-- tokenops:plan -->"));
    assert!(
        notes[0].contains("for commit 111111111111."),
        "{}",
        notes[0]
    );
    sc.assert_no_secret_in("note", &notes[0]);
    for sha in [
        "2222222222222222222222222222222222222222",
        "3333333333333333333333333333333333333333",
    ] {
        comment(&sc, sha);
    }
    let notes = mr_notes(&sc);
    assert_eq!(notes.len(), 1, "one sticky note, updated in place");
    assert!(notes[0].contains("for commit 333333333333."));
    assert!(notes[0].len() <= 1_000_000);
}

#[test]
fn comment_outside_a_merge_request_pipeline_says_what_is_missing() {
    let sc = scenario();
    let stderr = sc
        .cmd(&["plan", "--comment"])
        .env_remove("CI_MERGE_REQUEST_IID")
        .expect(1)
        .stderr;
    assert!(stderr.contains("--comment needs CI_API_V4_URL"), "{stderr}");
}

#[test]
fn plan_reads_the_shared_ledger_on_the_http_backend() {
    let sc = builder(MANIFEST).http_state("ops/sync").start();
    // A ledger that remembers generating the hook's secret: the plan must use it.
    let key = "k".to_string();
    let secret = sc.sandbox.with_state(|w| {
        let g = &w.gitlab["gitlab.com"];
        g.hooks
            .values()
            .next()
            .unwrap()
            .token
            .clone()
            .unwrap()
            .reveal()
            .to_string()
    });
    let mut ledger = tokenops::ledger::Ledger {
        fingerprint_key: key,
        ..Default::default()
    };
    let fp = ledger
        .fingerprint(&secrecy::SecretString::from(secret))
        .unwrap();
    let hook_key = "gitlab:gitlab.com/project/ops/sync/hook/https://hooks.example.com/sync/token";
    ledger.tokens.insert(
        "hook-secret".into(),
        tokenops::ledger::LedgerToken {
            fingerprint: Some(fp.clone()),
            expires_at: Some(jiff::civil::date(2027, 6, 1)),
            consumers: [(hook_key.to_string(), fp)].into_iter().collect(),
            ..Default::default()
        },
    );
    sc.with_gitlab(|g| {
        let project = g
            .projects
            .values()
            .find(|p| p.path_with_namespace == "ops/sync")
            .unwrap()
            .id;
        g.tf_states.insert(
            (project, "tokenops".into()),
            tokenops::sandbox::state::gitlab::TfState {
                data: Some(serde_json::to_vec(&ledger).unwrap()),
                versions: 1,
                lock: None,
            },
        );
    });
    let out = plan(&sc, &[], 0);
    assert!(out.contains("= hook-secret (generated_secret) ok"), "{out}");
}
