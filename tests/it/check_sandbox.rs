//! `tokenops check` end to end against the sandbox: the report for a realistic estate, the
//! report issue (snapshot, ticks kept across runs, entries added and resolved, never a second
//! issue, at most one issue write per run), and exit codes.

use reqwest::Method;
use tokenops::manifest::{CheckSettings, Discover, Duration, ReportTarget};
use tokenops::sandbox::FaultSpec;

use crate::scenario::{Exit, Scenario, assert_filtered_snapshot, names};

pub(crate) const SEED: &str = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
      - { username: ops-bot, name: Ops Bot }
    groups:
      - { path: ops, members: { ops-bot: owner } }
      - { path: ops/tools }
      - { path: elsewhere }
    projects:
      - { path: ops/sync }
      - { path: ops/report }
      - { path: ops/tools/old }
      - { path: elsewhere/app }
    tokens:
      - { project: ops/sync, name: sync-bot, scopes: [api], access_level: developer, expires_at: +12d, created_at: -350d, last_used_at: -1d }
      - { project: ops/sync, name: nightly, scopes: [read_api], access_level: reporter, expires_at: -3d, created_at: -300d, last_used_at: -4d }
      - { user: ops-bot, name: reports, scopes: [read_api], expires_at: +9d, created_at: -300d, last_used_at: -2d }
      - { user: ops-bot, name: old-cli, scopes: [api], expires_at: +5d, created_at: -360d, last_used_at: -200d }
      - { user: ops-bot, name: far-away, scopes: [api], expires_at: +200d, created_at: -10d }
      - { project: ops/tools/old, name: old-tool, scopes: [api], access_level: maintainer, expires_at: +14d, created_at: -350d, last_used_at: -60d }
      - { project: ops/tools/old, name: stale, scopes: [api], access_level: maintainer, expires_at: +3d, created_at: -350d }
      - { group: ops/tools, name: group-bot, scopes: [read_api], access_level: reporter, expires_at: +15d, created_at: -350d, last_used_at: -1d }
      - { project: elsewhere/app, name: outside, scopes: [api], access_level: maintainer, expires_at: +2d, created_at: -350d }
    triggers:
      - { project: ops/sync, description: Deploy from Zendesk, owner: ops-bot, expires_at: +7d, created_at: -100d }
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
      - { id: 9002, description: old macro sync, user: admin@example.com, created_at: -500d, last_used: -20d }
"#;

/// The `check:` section of these tests: 21 days, the bot, the `ops` group (its pipeline
/// triggers too) and Zendesk Global discovered; with `report`, the report issue in
/// `ops/report`.
pub(crate) fn check_settings(report: bool) -> CheckSettings {
    CheckSettings {
        within: Duration::from_days(21),
        discover: Discover {
            gitlab_users: names(&["ops-bot"]),
            gitlab_groups: names(&["ops"]),
            zendesk: names(&["global"]),
            // This estate's instance lets trigger tokens expire.
            gitlab_pipeline_triggers: true,
            gitlab_deploy_tokens: false,
        },
        report: report.then(|| ReportTarget {
            gitlab: "gitlab.com".into(),
            project: "ops/report".into(),
            labels: names(&["token-checker"]),
        }),
    }
}

pub(crate) const MANIFEST: &str = r#"
tokens:
  - id: sync
    gitlab_project_access_token: { gitlab: gitlab.com, project: ops/sync, name: sync-bot, scopes: [api], access_level: developer }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: ops/sync, key: SYNC_TOKEN, masked: true }
  - id: nightly
    gitlab_project_access_token: { gitlab: gitlab.com, project: ops/sync, name: nightly, scopes: [read_api], access_level: reporter }
    consumers:
      - manual: { instructions: Paste it into the nightly job's settings }
  - id: bot
    gitlab_personal_access_token: { gitlab: gitlab.com, user: ops-bot, name: reports, scopes: [read_api] }
    rotation: { mode: manual }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: ops/sync, key: BOT_TOKEN, masked: true, protected: true }
  - id: legacy
    zendesk_api_token: { zendesk: global, token_id: 9001, email: export-bot@example.com }
    consumers:
      - zendesk_webhook: { zendesk: global, webhook: Export, auth: basic_auth, username: export-bot@example.com/token }
"#;

/// A manifest whose only token never expires.
const UNRELATED: &str = r#"
tokens:
  - id: shared-secret
    generated_secret: { length: 32 }
    consumers:
      - manual: { instructions: Paste it into the receiver }
"#;

/// [`SEED`] with [`MANIFEST`] and the check section with a report target.
pub(crate) fn scenario() -> Scenario {
    Scenario::seeded(SEED)
        .check(check_settings(true))
        .manifest("estate.yaml", MANIFEST)
        .start()
}

/// Runs `check` with `args` and expects exit `code`; stdout.
fn check(sc: &Scenario, args: &[&str], code: i32) -> String {
    sc.run(&[&["check"], args].concat(), code).stdout
}

/// Every issue of the sandbox: (iid, state, title, description).
fn issues(sc: &Scenario) -> Vec<(u64, String, String, String)> {
    sc.with_gitlab(|g| {
        g.issues
            .values()
            .map(|i| {
                (
                    i.iid,
                    i.state.clone(),
                    i.title.clone(),
                    i.description.clone().unwrap_or_default(),
                )
            })
            .collect()
    })
}

/// The task line of the entry whose key contains `needle`.
fn line_of<'a>(body: &'a str, needle: &str) -> &'a str {
    body.lines()
        .find(|l| l.starts_with("- [") && l.contains(needle))
        .unwrap_or_else(|| panic!("no entry for {needle} in\n{body}"))
}

fn tick(sc: &Scenario, needle: &str) {
    sc.with_gitlab(|g| {
        let issue = g.issues.values_mut().next().unwrap();
        let body = issue.description.clone().unwrap();
        let line = line_of(&body, needle).to_string();
        let ticked = line.replacen("- [ ] ", "- [x] ", 1);
        issue.description = Some(body.replace(&line, &ticked));
    });
}

#[test]
fn text_report_lists_each_kind_with_its_suggestion_and_exits_two() {
    let sc = scenario();
    let out = check(&sc, &[], 2);
    assert_filtered_snapshot!(sc.filters(), "check_text", out);
    let entry = |name: &str| {
        out.split("\n\n")
            .find(|block| block.contains(&format!("`{name}`")))
            .unwrap_or_else(|| panic!("{name} missing from\n{out}"))
            .to_string()
    };
    assert!(entry("sync-bot").contains("action: rotate (the scheduled `tokenops apply` does it)"));
    assert!(entry("reports").contains("action: rotate (manual mode)"));
    assert!(entry("nightly").contains("action: recreate"));
    assert!(entry("old-cli").contains("action: revoke"));
    assert!(entry("stale").contains("action: revoke"));
    assert!(entry("old-tool").contains("action: declare"));
    assert!(entry("group-bot").contains("action: declare"));
    assert!(entry("Deploy from Zendesk").contains("pipeline trigger token"));
    let legacy = entry("old macro sync");
    assert!(legacy.contains("migrate to OAuth"), "{legacy}");
    assert!(legacy.contains("2026-10-27") && legacy.contains("2027-04-30"));
    assert!(legacy.contains("deactivated on 2026-12-08"), "{legacy}");
    assert!(entry("API token 9001").contains("declared as `legacy`"));
    assert!(!out.contains("far-away"), "outside the window:\n{out}");
    assert!(!out.contains("`outside`"), "outside the scopes:\n{out}");
}

#[test]
fn json_report_has_every_field_per_entry() {
    let sc = scenario();
    let out = check(&sc, &["--format", "json"], 2);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = doc["entries"].as_array().unwrap();
    let sync = entries
        .iter()
        .find(|e| e["name"] == "sync-bot")
        .expect("sync-bot");
    assert_eq!(sync["declared_by"]["id"], "sync");
    // 2026-12-10 00:00 UTC from 2026-11-28 09:00 UTC: 11 whole days, as the plan says.
    assert_eq!(sync["days_left"], 11);
    assert_eq!(sync["expires_at"], "2026-12-10");
    assert_eq!(sync["owner"], "project ops/sync");
    assert_eq!(sync["suggestion"]["rotate"]["auto"], true);
    assert!(
        sync["consumers"][0]
            .as_str()
            .unwrap()
            .contains("SYNC_TOKEN")
    );
    let stale = entries.iter().find(|e| e["name"] == "stale").unwrap();
    assert_eq!(stale["suggestion"], "revoke");
    assert!(stale["declared_by"].is_null());
}

#[test]
fn nothing_within_a_short_window_exits_zero_and_writes_no_issue() {
    let sc = Scenario::seeded(SEED)
        .check(check_settings(true))
        .manifest("other.yaml", UNRELATED)
        .start();
    let out = check(&sc, &["--within", "1d", "--report-issue"], 0);
    assert!(out.starts_with("OK: 0 of"), "{out}");
    assert!(issues(&sc).is_empty());
}

#[test]
fn report_issue_snapshot_then_update_keeps_ticks_adds_and_resolves() {
    let sc = scenario();
    check(&sc, &["--report-issue"], 2);
    let all = issues(&sc);
    assert_eq!(all.len(), 1);
    let (iid, state, title, body) = all[0].clone();
    assert_eq!(state, "opened");
    assert_eq!(
        title,
        "tokenops: 9 tokens need action within 21 days (10 listed)"
    );
    assert!(body.starts_with("<!-- tokenops:check -->\n"));
    assert_filtered_snapshot!(sc.filters(), "check_issue_body", body);
    let labels = sc.with_gitlab(|g| g.issues.values().next().unwrap().labels.clone());
    assert_eq!(labels, vec!["token-checker".to_string()]);

    // People tick two boxes; one of those tokens is then revoked, and a new one appears.
    tick(&sc, "access_token/old-tool");
    tick(&sc, "access_token/stale");
    sc.with_gitlab(|g| {
        let stale = g.tokens.values_mut().find(|t| t.name == "stale").unwrap();
        stale.revoked = true;
    });
    let bot = sc.block_on(sc.gl(
        Method::POST,
        &sc.admin(),
        "/projects/ops%2Fsync/access_tokens",
        Some(serde_json::json!({
            "name": "brand-new", "scopes": ["api"], "access_level": 30,
            "expires_at": "2026-12-02"
        })),
    ));
    assert_eq!(bot.status, 201);

    check(&sc, &["--report-issue"], 2);
    let all = issues(&sc);
    assert_eq!(all.len(), 1, "the same issue is updated");
    let (iid2, _, title2, body2) = all[0].clone();
    assert_eq!(iid2, iid);
    assert_eq!(
        title2,
        "tokenops: 9 tokens need action within 21 days (10 listed)"
    );
    assert!(line_of(&body2, "access_token/old-tool").starts_with("- [x] "));
    assert!(line_of(&body2, "access_token/brand-new").starts_with("- [ ] "));
    assert!(line_of(&body2, "access_token/sync-bot").starts_with("- [ ] "));
    let resolved = body2
        .split("### Resolved since the last run")
        .nth(1)
        .expect("a resolved section");
    let stale = line_of(resolved, "access_token/stale");
    assert!(stale.starts_with("- [x] ~~"), "{stale}");
    assert!(stale.contains("resolved 2026-11-28"), "{stale}");
    let tokens = body2.split("### Resolved").next().unwrap();
    assert!(!tokens.contains("access_token/stale"));
}

#[test]
fn many_runs_keep_one_issue_and_one_issue_write_per_run() {
    let sc = scenario();
    // GitLab.com allows 200 issue creations a minute; a much tighter budget shows that a
    // run never creates more than one.
    sc.sandbox.faults().set(
        "POST /api/v4/projects/:id/issues",
        FaultSpec {
            budget_per_minute: Some(1),
            ..FaultSpec::default()
        },
    );
    for _ in 0..5 {
        check(&sc, &["--report-issue"], 2);
    }
    let stats = sc.sandbox.requests();
    assert_eq!(stats.count("POST /api/v4/projects/:id/issues"), 1);
    assert_eq!(stats.count("PUT /api/v4/projects/:id/issues/:issue_iid"), 4);
    assert_eq!(
        stats.count_status("POST /api/v4/projects/:id/issues", 429),
        0
    );
    assert_eq!(issues(&sc).len(), 1);
    // An issue someone closed is not reused: the next run opens a fresh one.
    sc.with_gitlab(|g| g.issues.values_mut().next().unwrap().state = "closed".into());
    sc.sandbox
        .clock()
        .advance(jiff::SignedDuration::from_mins(2));
    check(&sc, &["--report-issue"], 2);
    let all = issues(&sc);
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().filter(|i| i.1 == "opened").count(), 1);
}

#[test]
fn open_issue_says_so_when_nothing_expires_any_more() {
    let sc = scenario();
    check(&sc, &["--report-issue"], 2);
    sc.write("none/other.yaml", UNRELATED);
    check(
        &sc,
        &["--report-issue", "--within", "1d", "--manifests", "none"],
        0,
    );
    let all = issues(&sc);
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].2,
        "tokenops: no tokens need action within 1 day (2 listed)"
    );
    assert!(all[0].3.contains("**Nothing expires within 1 day**"));
    assert!(all[0].3.contains("### Resolved since the last run"));
}

#[test]
fn report_issue_without_a_report_target_is_an_error_naming_the_setting() {
    let sc = Scenario::seeded(SEED)
        .check(check_settings(false))
        .manifest("estate.yaml", MANIFEST)
        .start();
    let stderr = sc.run(&["check", "--report-issue"], 1).stderr;
    assert!(stderr.contains("check.report"), "{stderr}");
}

#[test]
fn zendesk_oauth_tokens_of_the_listed_instances_are_checked() {
    let seed = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
    oauth_clients:
      - { identifier: escalations, name: Escalations }
      - { identifier: chat_bridge, name: Chat bridge }
    oauth_tokens:
      - { client: escalations, scopes: [tickets:read], expires_at: +6d }
      - { client: chat_bridge, scopes: [read], expires_at: +10d }
      - { client: chat_bridge, scopes: [read], expires_at: +90d }
"#;
    let manifest = r#"
tokens:
  - id: escalations
    zendesk_oauth_token: { zendesk: global, client: escalations, scopes: [tickets:read] }
    consumers:
      - manual: { instructions: Paste it into the escalation service }
"#;
    let sc = Scenario::seeded(seed)
        .check(CheckSettings {
            discover: Discover {
                zendesk: names(&["global"]),
                ..Discover::default()
            },
            ..CheckSettings::default()
        })
        .manifest("zd.yaml", manifest)
        .start();
    let out = check(&sc, &["--format", "json"], 2);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = doc["entries"].as_array().unwrap();
    let oauth: Vec<_> = entries
        .iter()
        .filter(|e| e["kind"] == "zendesk_oauth_token")
        .collect();
    assert_eq!(oauth.len(), 2, "{out}");
    let declared = oauth.iter().find(|e| e["name"] == "escalations").unwrap();
    assert_eq!(declared["declared_by"]["id"], "escalations");
    assert_eq!(declared["days_left"], 5);
    assert_eq!(declared["suggestion"]["rotate"]["auto"], true);
    let chat = oauth.iter().find(|e| e["name"] == "chat_bridge").unwrap();
    assert!(chat["declared_by"].is_null());
    assert_eq!(chat["days_left"], 9);
}

#[test]
fn the_shipped_example_checks_and_reports_against_its_sandbox_counterpart() {
    let sc = Scenario::example().start();
    let out = sc
        .cmd(&["check", "--report-issue", "--format", "json"])
        .expect(Exit::Any);
    assert!(
        matches!(out.code, Some(0 | 2)),
        "{}\n{}",
        out.stderr,
        out.stdout
    );
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let entries = doc["entries"].as_array().unwrap();
    let urgent = entries
        .iter()
        .filter(|e| e["within_window"] == true)
        .count();
    assert_eq!(out.code, Some(if urgent > 0 { 2 } else { 0 }));
    // Every legacy Zendesk API token the example declares is listed with the migration advice.
    let legacy: Vec<_> = entries
        .iter()
        .filter(|e| e["kind"] == "zendesk_api_token")
        .collect();
    assert!(!legacy.is_empty());
    assert!(legacy.iter().all(|e| e["suggestion"] == "migrate_to_oauth"));
    let issues = sc.with_gitlab(|g| g.issues.len());
    assert_eq!(issues, usize::from(urgent > 0));
}
