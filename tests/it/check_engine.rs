//! The pure half of `tokenops check`, without HTTP: classification of declared, undeclared,
//! expired and legacy tokens over a hand-built inventory, and the issue body's tick handling.

use jiff::Timestamp;

use tokenops::inventory::{DiscoveredToken, Inventory, LiveRecord, LiveToken};
use tokenops::manifest::{Desired, LoadOptions};
use tokenops::ops::check::issue::compose;
use tokenops::ops::check::{Entry, Report, Suggestion, classify, key};

const CONFIG: &str = "version: 1\ngitlab:\n  - { name: gitlab.com, url: \"https://gitlab.example.com\", token_env: GITLAB_TOKEN }\nzendesk:\n  - { name: global, url: \"https://example.zendesk.com\", oauth_token_env: ZD }\n";

const MANIFEST: &str = r#"
tokens:
  - id: sync
    gitlab_project_access_token: { gitlab: gitlab.com, project: ops/sync, name: sync-bot, scopes: [api] }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: ops/sync, key: SYNC_TOKEN, masked: true }
  - id: far
    gitlab_project_access_token: { gitlab: gitlab.com, project: ops/sync, name: far, scopes: [api] }
  - id: gone
    gitlab_personal_access_token: { gitlab: gitlab.com, user: ops-bot, name: gone, scopes: [api] }
  - id: legacy
    zendesk_api_token: { zendesk: global, token_id: 9001, email: bot@example.com }
    consumers:
      - manual: { instructions: Update the export job }
"#;

fn desired() -> (tempfile::TempDir, Desired) {
    desired_with(MANIFEST)
}

fn desired_with(manifest: &str) -> (tempfile::TempDir, Desired) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenops.yaml"), CONFIG).unwrap();
    std::fs::create_dir_all(dir.path().join("manifests")).unwrap();
    std::fs::write(dir.path().join("manifests/a.yaml"), manifest).unwrap();
    let desired = tokenops::manifest::load(&LoadOptions {
        config: dir.path().join("tokenops.yaml"),
        manifests: dir.path().join("manifests"),
    })
    .unwrap();
    (dir, desired)
}

fn now() -> Timestamp {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

fn record(id: &str, name: &str, expires: Option<&str>, used: Option<&str>) -> LiveRecord {
    LiveRecord {
        platform_id: id.into(),
        name: name.into(),
        expires_at: expires.map(|d| d.parse().unwrap()),
        active: true,
        last_used_at: used.map(|t| t.parse().unwrap()),
        ..LiveRecord::default()
    }
}

fn inventory() -> Inventory {
    let mut inv = Inventory::default();
    inv.tokens.insert(
        "sync".into(),
        LiveToken::Found(record("1", "sync-bot", Some("2026-12-08"), None)),
    );
    inv.tokens.insert(
        "far".into(),
        LiveToken::Found(record("2", "far", Some("2027-06-01"), None)),
    );
    inv.tokens.insert("gone".into(), LiveToken::Missing);
    inv.tokens.insert(
        "legacy".into(),
        LiveToken::Found(record("9001", "export", None, Some("2026-11-20T00:00:00Z"))),
    );
    let found = |kind: &str, owner: &str, r: LiveRecord| DiscoveredToken {
        platform: "gitlab.com".into(),
        kind: kind.into(),
        owner: owner.into(),
        record: r,
        declared_by: None,
    };
    inv.discovered = vec![
        found(
            "gitlab_project_access_token",
            "ops/tools",
            record(
                "3",
                "busy",
                Some("2026-12-01"),
                Some("2026-11-27T00:00:00Z"),
            ),
        ),
        found(
            "gitlab_project_access_token",
            "ops/tools",
            record(
                "4",
                "idle",
                Some("2026-12-02"),
                Some("2026-01-01T00:00:00Z"),
            ),
        ),
        found(
            "gitlab_project_access_token",
            "ops/tools",
            record("5", "later", Some("2027-03-01"), None),
        ),
        DiscoveredToken {
            platform: "global".into(),
            kind: "zendesk_api_token".into(),
            owner: "global".into(),
            record: record("9002", "macro sync", None, None),
            declared_by: None,
        },
    ];
    inv
}

fn by_name<'a>(report: &'a Report, name: &str) -> &'a Entry {
    report
        .entries
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} missing: {report:#?}"))
}

#[test]
fn each_token_gets_the_right_suggestion() {
    let (_dir, desired) = desired();
    let report = classify(&desired, &inventory(), now(), 21);
    let sync = by_name(&report, "sync-bot");
    assert_eq!(sync.suggestion, Suggestion::Rotate { auto: true });
    assert_eq!(sync.days_left, Some(9));
    assert_eq!(sync.declared_by.as_ref().unwrap().id, "sync");
    assert!(sync.consumers[0].contains("SYNC_TOKEN"));
    assert_eq!(by_name(&report, "gone").suggestion, Suggestion::Recreate);
    assert_eq!(by_name(&report, "busy").suggestion, Suggestion::Declare);
    assert_eq!(by_name(&report, "idle").suggestion, Suggestion::Revoke);
    let legacy = by_name(&report, "API token 9001");
    assert_eq!(legacy.suggestion, Suggestion::MigrateToOauth);
    assert_eq!(legacy.expires_at, Some("2026-12-20".parse().unwrap()));
    // Deactivated 30 days after its last use: 22 days from now, just outside 21.
    assert!(!legacy.within_window);
    assert!(
        classify(&desired, &inventory(), now(), 22)
            .entries
            .iter()
            .any(|e| e.name == "API token 9001" && e.within_window)
    );
    assert!(legacy.why.contains("2027-04-30") && legacy.why.contains("2026-10-27"));
    assert_eq!(legacy.consumers.len(), 1);
    let never_used = by_name(&report, "macro sync");
    assert_eq!(never_used.suggestion, Suggestion::MigrateToOauth);
    assert!(never_used.why.contains("never used"));
    assert!(
        report
            .entries
            .iter()
            .all(|e| e.name != "far" && e.name != "later")
    );
    assert_eq!(report.urgent(), 4);
    assert_eq!(report.entries.len(), 6);
    // Soonest first; the window edge is inclusive.
    assert_eq!(report.entries[0].name, "gone");
    let report = classify(&desired, &inventory(), now(), 3);
    assert!(by_name(&report, "busy").within_window);
    assert!(report.entries.iter().all(|e| e.name != "sync-bot"));
}

#[test]
fn a_token_past_its_expiry_day_is_recreated_not_rotated() {
    let (_dir, desired) = desired();
    let mut inv = inventory();
    inv.tokens.insert(
        "sync".into(),
        LiveToken::Found(LiveRecord {
            active: false,
            ..record("1", "sync-bot", Some("2026-11-28"), None)
        }),
    );
    let report = classify(&desired, &inv, now(), 21);
    let sync = by_name(&report, "sync-bot");
    assert_eq!(sync.suggestion, Suggestion::Recreate);
    assert!(sync.why.contains("expired"));
}

#[test]
fn ticks_follow_keys_not_positions_and_resolved_entries_stay_ticked() {
    let (_dir, desired) = desired();
    let report = classify(&desired, &inventory(), now(), 21);
    let first = compose(&report, None);
    assert!(first.starts_with("<!-- tokenops:check -->\n"));
    assert_eq!(first.matches("- [ ] ").count(), report.entries.len());
    // A person ticks "busy" and "idle", and reorders nothing else.
    let ticked: String = first
        .lines()
        .map(|l| {
            if l.starts_with("- [ ] ") && (l.contains("/busy -->") || l.contains("/idle -->")) {
                l.replacen("- [ ] ", "- [x] ", 1)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    // Next run: "idle" was revoked, a new token appeared and sorts first.
    let mut inv = inventory();
    inv.discovered.retain(|d| d.record.name != "idle");
    inv.discovered.push(DiscoveredToken {
        platform: "gitlab.com".into(),
        kind: "gitlab_group_access_token".into(),
        owner: "ops".into(),
        record: record("6", "new", Some("2026-11-29"), Some("2026-11-27T00:00:00Z")),
        declared_by: None,
    });
    let report2 = classify(&desired, &inv, now(), 21);
    let second = compose(&report2, Some(&ticked));
    let line = |body: &str, needle: &str| {
        body.lines()
            .find(|l| l.starts_with("- [") && l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing in\n{body}"))
            .to_string()
    };
    assert!(line(&second, "/busy -->").starts_with("- [x] "));
    assert!(line(&second, "/new -->").starts_with("- [ ] "));
    assert!(line(&second, "/sync-bot -->").starts_with("- [ ] "));
    let resolved = second
        .split("### Resolved since the last run")
        .nth(1)
        .unwrap();
    assert!(line(resolved, "/idle -->").starts_with("- [x] ~~"));
    // A third run keeps the resolved entry as it was, without piling up strike-throughs.
    let third = compose(&report2, Some(&second));
    let resolved3 = third
        .split("### Resolved since the last run")
        .nth(1)
        .unwrap();
    assert_eq!(line(resolved3, "/idle -->"), line(resolved, "/idle -->"));
    // A resolved entry that comes back starts unticked.
    let back = compose(&report, Some(&third));
    assert!(line(&back, "/idle -->").starts_with("- [ ] "));
}

#[test]
fn keys_are_stable_and_safe_inside_an_html_comment() {
    assert_eq!(
        key(&[
            "gitlab.com",
            "project",
            "ops/sync",
            "access_token",
            "sync-bot"
        ]),
        "gitlab.com/project/ops/sync/access_token/sync-bot"
    );
    let odd = key(&["gitlab.com", "project", "a", "trigger", "x --> <b> y"]);
    assert!(
        !odd.contains("-->") && !odd.contains('<') && !odd.contains(' '),
        "{odd}"
    );
    assert!(!key(&["a", "b--c"]).contains("--"));
}

#[test]
fn a_huge_estate_still_fits_in_one_issue() {
    let entry = |n: usize| Entry {
        key: key(&[
            "gitlab.com",
            "project",
            &format!("p{n}"),
            "access_token",
            "t",
        ]),
        kind: "gitlab_project_access_token".into(),
        platform: "gitlab.com".into(),
        owner: format!("project p{n}"),
        name: "t".into(),
        platform_id: Some(n.to_string()),
        declared_by: None,
        consumers: vec!["x".repeat(300)],
        expires_at: Some("2026-12-01".parse().unwrap()),
        days_left: Some(3),
        deactivated: false,
        last_used_at: None,
        suggestion: Suggestion::Revoke,
        why: "no manifest declares it and it was never used".into(),
        within_window: true,
    };
    let report = Report {
        checked_at: now(),
        within_days: 21,
        entries: (0..5000).map(entry).collect(),
    };
    let body = compose(&report, None);
    assert!(body.len() < 1_048_576, "{}", body.len());
    assert!(body.contains("<!-- token:gitlab.com/project/p0/access_token/t -->"));
    assert!(!body.contains("xxxxxxxx"), "details are dropped first");
    let report = Report {
        entries: (0..20_000).map(entry).collect(),
        ..report
    };
    let body = compose(&report, None);
    assert!(body.len() < 1_048_576, "{}", body.len());
    assert!(body.contains("more entries do not fit in one issue"));
}

#[test]
fn a_short_lived_token_before_its_renewal_is_listed_without_counting_as_needing_action() {
    // A 36-hour token is always within a 21-day window; until the scheduled apply reaches its
    // renewal it asks nothing of a person, and once the renewal is overdue it does.
    let (_dir, desired) = desired_with(
        r#"
tokens:
  - id: read
    zendesk_oauth_token: { zendesk: global, client: tokenops, scopes: [read], grant: client_credentials }
    rotation: { lifetime: 36h, rotate_before: 12h }
    consumers:
      - manual: { instructions: Nothing }
"#,
    );
    let report_at = |hours_left: i64| {
        let at = now() + jiff::SignedDuration::from_hours(hours_left);
        let mut inv = Inventory::default();
        inv.tokens.insert(
            "read".into(),
            LiveToken::Found(LiveRecord {
                platform_id: "7".into(),
                name: "tokenops".into(),
                expires_at: Some(tokenops::time::utc_date(at)),
                expires_at_time: Some(at),
                active: true,
                ..LiveRecord::default()
            }),
        );
        classify(&desired, &inv, now(), 21)
    };
    let early = report_at(30);
    assert_eq!(early.entries.len(), 1, "{early:?}");
    assert!(!early.entries[0].within_window, "{early:?}");
    assert_eq!(early.urgent(), 0);
    let overdue = report_at(6);
    assert!(overdue.entries[0].within_window, "{overdue:?}");
    assert_eq!(overdue.urgent(), 1);
}
