//! The check scan's request economy against the sandbox: server-side filters on every list,
//! and the administrator's shortcut (one instance-wide list, one lookup per bot owner) that
//! replaces the per-project token lists when it is cheaper; the report is the same either way.

use std::fmt::Write as _;

use tokenops::manifest::{CheckSettings, Discover};

use crate::scenario::{Scenario, names};

/// `projects` projects under `ops` (the first `expiring` with a token expiring in 5 days, the
/// others in 200), a subgroup with a group token expiring in 3 days, and a project outside.
fn seed(projects: usize, expiring: usize) -> String {
    let mut s = String::from(
        "gitlab:\n  - name: gitlab.com\n    admin: tokenops-admin\n    users:\n      \
         - { username: tokenops-admin, name: tokenops, admin: true }\n    groups:\n      \
         - { path: ops }\n      - { path: ops/team }\n      - { path: other }\n    projects:\n",
    );
    for p in 0..projects {
        let _ = writeln!(s, "      - {{ path: ops/team/p{p} }}");
    }
    s.push_str("      - { path: other/x }\n    tokens:\n");
    for p in 0..projects {
        let days = if p < expiring { 5 } else { 200 };
        let _ = writeln!(
            s,
            "      - {{ project: ops/team/p{p}, name: t{p}, scopes: [api], access_level: developer, \
             expires_at: +{days}d, created_at: -10d, last_used_at: -1d }}"
        );
    }
    s.push_str(
        "      - { group: ops/team, name: team-bot, scopes: [api], access_level: reporter, \
         expires_at: +3d, created_at: -10d, last_used_at: -1d }\n      \
         - { project: other/x, name: outside, scopes: [api], access_level: developer, \
         expires_at: +2d, created_at: -10d }\n",
    );
    s
}

const MANIFEST: &str = r#"
tokens:
  - id: shared
    generated_secret: { length: 32 }
    consumers:
      - manual: { instructions: Paste it into the receiver }
"#;

/// Runs `check --format json`; the (kind, owner, name, suggestion) of each entry, sorted.
fn entries(sc: &Scenario) -> Vec<(String, String, String, String)> {
    let out = sc.run(&["check", "--format", "json"], 2);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut list: Vec<_> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["owner"].as_str().unwrap().to_string(),
                e["name"].as_str().unwrap().to_string(),
                e["suggestion"].to_string(),
            )
        })
        .collect();
    list.sort();
    list
}

/// `seed(projects, expiring)` with the `ops` group discovered.
fn scenario(projects: usize, expiring: usize) -> Scenario {
    Scenario::seeded(&seed(projects, expiring))
        .check(CheckSettings {
            discover: Discover {
                gitlab_groups: names(&["ops"]),
                ..Discover::default()
            },
            ..CheckSettings::default()
        })
        .manifest("m.yaml", MANIFEST)
        .start()
}

#[test]
fn the_admin_shortcut_replaces_per_project_lists_and_finds_the_same_tokens() {
    let sc = scenario(12, 3);
    let found = entries(&sc);
    let stats = sc.requests();
    assert_eq!(stats.count("GET /api/v4/projects/:id/access_tokens"), 0);
    // One lookup per distinct owner of an expiring token: 3 project bots, the subgroup's bot
    // and the bot of the project outside the scope (which is then ignored).
    assert_eq!(
        stats.count("GET /api/v4/users/:id"),
        5,
        "{:?}",
        stats.by_route
    );
    assert_eq!(
        found,
        vec![
            (
                "gitlab_group_access_token".into(),
                "group ops/team".into(),
                "team-bot".into(),
                "\"declare\"".into()
            ),
            (
                "gitlab_project_access_token".into(),
                "project ops/team/p0".into(),
                "t0".into(),
                "\"declare\"".into()
            ),
            (
                "gitlab_project_access_token".into(),
                "project ops/team/p1".into(),
                "t1".into(),
                "\"declare\"".into()
            ),
            (
                "gitlab_project_access_token".into(),
                "project ops/team/p2".into(),
                "t2".into(),
                "\"declare\"".into()
            ),
        ]
    );
}

#[test]
fn when_lookups_would_cost_more_the_scan_lists_each_project_with_filters() {
    // 5 of 6 projects expiring: looking up 7 owners saves nothing over 7 lists.
    let sc = scenario(6, 5);
    let found = entries(&sc);
    let stats = sc.requests();
    assert_eq!(stats.count("GET /api/v4/projects/:id/access_tokens"), 6);
    assert_eq!(stats.count("GET /api/v4/users/:id"), 0);
    assert_eq!(found.len(), 6, "{found:?}");
}
