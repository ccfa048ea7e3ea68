//! The check scan's request economy against the sandbox: server-side filters on every list;
//! for an administrator, one instance-wide list whose owners are placed by lookups or by the
//! bot users' pages, whichever is fewer, instead of one list per project when that is
//! cheaper (decided from the first page's count); pipeline triggers only when the instance
//! lets them expire; and the run's waiting limit. The report is the same whichever way.

use std::fmt::Write as _;

use tokenops::cli::env::override_var;
use tokenops::http::Platform;
use tokenops::manifest::{CheckSettings, Discover};
use tokenops::sandbox::FaultSpec;

use crate::scenario::{Scenario, names};

/// `projects` projects under `ops/team` (the first `expiring` with a token expiring in 5 days,
/// the others in 200), a group token of `ops/team` expiring in 3 days, `outside` tokens
/// expiring in 2 days in a project outside the scopes, a personal token of `ops-bot`
/// expiring in 4 days, a pipeline trigger of the first project expiring in 6 days, and
/// deploy tokens of the first project (8 days) and of `ops/team` (300 days).
fn seed(projects: usize, expiring: usize, outside: usize) -> String {
    let mut s = String::from(
        "gitlab:\n  - name: gitlab.com\n    admin: tokenops-admin\n    users:\n      \
         - { username: tokenops-admin, name: tokenops, admin: true }\n      \
         - { username: ops-bot, name: Ops Bot }\n      \
         - { username: scanner, name: Scanner }\n    groups:\n      \
         - { path: ops, members: { scanner: owner, ops-bot: owner } }\n      \
         - { path: ops/team }\n      - { path: other }\n    projects:\n",
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
    for o in 0..outside {
        let _ = writeln!(
            s,
            "      - {{ project: other/x, name: outside-{o}, scopes: [api], access_level: developer, \
             expires_at: +2d, created_at: -10d }}"
        );
    }
    s.push_str(
        "      - { group: ops/team, name: team-bot, scopes: [api], access_level: reporter, \
         expires_at: +3d, created_at: -10d, last_used_at: -1d }\n      \
         - { user: ops-bot, name: cli, scopes: [api], expires_at: +4d, created_at: -10d, \
         last_used_at: -1d }\n      \
         - { user: scanner, name: scan, scopes: [read_api], expires_at: +300d, created_at: -10d }\n",
    );
    if projects > 0 {
        s.push_str(
            "    triggers:\n      - { project: ops/team/p0, description: deploy, owner: ops-bot, \
             expires_at: +6d, created_at: -10d }\n",
        );
        s.push_str(
            "    deploy_tokens:\n      - { project: ops/team/p0, name: registry, username: ci-pull, \
             scopes: [read_registry], expires_at: +8d, created_at: -10d }\n      \
             - { group: ops/team, name: packages, scopes: [read_package_registry], \
             expires_at: +300d }\n",
        );
    }
    s
}

const MANIFEST: &str = r#"
tokens:
  - id: shared
    generated_secret: { length: 32 }
    consumers:
      - manual: { instructions: Paste it into the receiver }
"#;

/// `seed(projects, expiring, outside)` with `discover`.
fn scenario(projects: usize, expiring: usize, outside: usize, discover: Discover) -> Scenario {
    Scenario::seeded(&seed(projects, expiring, outside))
        .check(CheckSettings {
            discover,
            ..CheckSettings::default()
        })
        .manifest("m.yaml", MANIFEST)
        .start()
}

/// The `ops` group discovered.
fn ops() -> Discover {
    Discover {
        gitlab_groups: names(&["ops"]),
        ..Discover::default()
    }
}

/// Runs `check --format json` (with the personal token named `token` instead of the
/// administrator's when given); the (kind, owner, name, suggestion) of each entry, sorted.
fn entries_as(sc: &Scenario, token: Option<&str>) -> Vec<(String, String, String, String)> {
    let mut run = sc.cmd(&["check", "--format", "json"]);
    if let Some(token) = token {
        run = run.env(
            &override_var(Platform::GitLab, "gitlab.com", "TOKEN"),
            sc.token_value(token),
        );
    }
    let out = run.expect(2);
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

/// The route the expiry watch asks about the run's GitLab credential on.
const CREDENTIAL_SELF: &str = "GET /api/v4/personal_access_tokens/self";

fn entries(sc: &Scenario) -> Vec<(String, String, String, String)> {
    entries_as(sc, None)
}

fn entry(kind: &str, owner: &str, name: &str) -> (String, String, String, String) {
    (kind.into(), owner.into(), name.into(), "\"declare\"".into())
}

/// What the scan finds in `seed(12, 3, _)` under `ops`.
fn twelve_three() -> Vec<(String, String, String, String)> {
    vec![
        entry("gitlab_group_access_token", "group ops/team", "team-bot"),
        entry("gitlab_project_access_token", "project ops/team/p0", "t0"),
        entry("gitlab_project_access_token", "project ops/team/p1", "t1"),
        entry("gitlab_project_access_token", "project ops/team/p2", "t2"),
    ]
}

#[test]
fn an_administrator_reads_project_tokens_instance_wide_and_places_owners_by_the_bot_users() {
    let sc = scenario(12, 3, 0, ops());
    let found = entries(&sc);
    let stats = sc.requests();
    assert_eq!(stats.count("GET /api/v4/projects/:id/access_tokens"), 0);
    assert_eq!(stats.count("GET /api/v4/groups/:id/access_tokens"), 0);
    assert_eq!(stats.count("GET /api/v4/personal_access_tokens"), 1);
    // Six owners to place (3 project bots, the subgroup's, the outside project's, and
    // ops-bot, a person): one page of bot users instead of six lookups, and a lookup for the
    // one owner those pages do not name.
    assert_eq!(stats.count("GET /api/v4/users"), 1);
    assert_eq!(stats.count("GET /api/v4/users/:id"), 1);
    // Who am I, the group's projects and subgroups, the token list, the bot users, ops-bot,
    // and the expiry of the credential the run signs in with.
    assert_eq!(stats.count(CREDENTIAL_SELF), 1);
    assert_eq!(stats.total, 7, "{:?}", stats.by_route);
    assert_eq!(found, twelve_three());
}

#[test]
fn the_listed_users_personal_tokens_come_from_the_same_instance_wide_list() {
    let discover = Discover {
        gitlab_users: names(&["ops-bot"]),
        ..ops()
    };
    let sc = scenario(12, 3, 0, discover);
    let found = entries(&sc);
    let stats = sc.requests();
    // The user name lookup and the bot users; no list of ops-bot's own.
    assert_eq!(stats.count("GET /api/v4/users"), 2);
    assert_eq!(stats.count("GET /api/v4/personal_access_tokens"), 1);
    // And the expiry of the credential the run signs in with.
    assert_eq!(stats.total, 7, "{:?}", stats.by_route);
    let mut expected = twelve_three();
    expected.push(entry("gitlab_personal_access_token", "user ops-bot", "cli"));
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn two_owners_to_place_are_looked_up_one_by_one() {
    // Only the subgroup's bot and the outside project's expire: two lookups beat a page of
    // bot users plus nothing.
    let sc = scenario(12, 0, 0, ops());
    let found = entries(&sc);
    let stats = sc.requests();
    assert_eq!(stats.count("GET /api/v4/users/:id"), 2);
    assert_eq!(stats.count("GET /api/v4/users"), 0);
    assert_eq!(stats.count("GET /api/v4/projects/:id/access_tokens"), 0);
    assert_eq!(
        found,
        vec![entry(
            "gitlab_group_access_token",
            "group ops/team",
            "team-bot"
        )]
    );
}

#[test]
fn when_the_instance_wide_list_costs_more_its_first_page_says_so_and_each_owner_is_listed() {
    // 400 expiring tokens elsewhere on the instance: five pages, against four lists in scope
    // (two projects, the subgroup and the group). Only the first page is spent on finding out.
    let sc = scenario(2, 2, 400, ops());
    let found = entries(&sc);
    let stats = sc.requests();
    assert_eq!(stats.count("GET /api/v4/personal_access_tokens"), 1);
    assert_eq!(stats.count("GET /api/v4/projects/:id/access_tokens"), 2);
    assert_eq!(stats.count("GET /api/v4/groups/:id/access_tokens"), 2);
    assert_eq!(stats.count("GET /api/v4/users/:id"), 0);
    assert_eq!(
        found,
        vec![
            entry("gitlab_group_access_token", "group ops/team", "team-bot"),
            entry("gitlab_project_access_token", "project ops/team/p0", "t0"),
            entry("gitlab_project_access_token", "project ops/team/p1", "t1"),
        ]
    );
}

#[test]
fn a_group_owner_lists_each_project_with_filters_and_finds_the_same_tokens() {
    let sc = scenario(12, 3, 0, ops());
    let found = entries_as(&sc, Some("scan"));
    let stats = sc.requests();
    assert_eq!(stats.count("GET /api/v4/personal_access_tokens"), 0);
    assert_eq!(stats.count("GET /api/v4/projects/:id/access_tokens"), 12);
    assert_eq!(stats.count("GET /api/v4/groups/:id/access_tokens"), 2);
    assert_eq!(stats.count("GET /api/v4/projects/:id/triggers"), 0);
    // On gitlab.com an Owner of a top-level group also reads its credentials inventory once
    // (here it manages no enterprise user).
    assert_eq!(
        stats.count("GET /api/v4/groups/:id/manage/personal_access_tokens"),
        1
    );
    // Who am I, projects, subgroups, the inventory, one list per project and group, and the
    // expiry of the credential the run signs in with.
    assert_eq!(stats.count(CREDENTIAL_SELF), 1);
    assert_eq!(stats.total, 3 + 1 + 14 + 1, "{:?}", stats.by_route);
    assert_eq!(found, twelve_three());
}

#[test]
fn pipeline_triggers_are_listed_only_where_the_instance_lets_them_expire() {
    let mut sc = scenario(12, 3, 0, ops());
    assert_eq!(entries(&sc), twelve_three());
    assert_eq!(sc.requests().count("GET /api/v4/projects/:id/triggers"), 0);
    sc.sandbox.clear_requests();
    sc.set_config(|c| c.check.discover.gitlab_pipeline_triggers = true);
    let found = entries(&sc);
    assert_eq!(sc.requests().count("GET /api/v4/projects/:id/triggers"), 12);
    assert!(
        found.iter().any(
            |(kind, owner, name, _)| kind == "gitlab_pipeline_trigger_token"
                && owner == "project ops/team/p0"
                && name == "deploy"
        ),
        "{found:?}"
    );
}

#[test]
fn deploy_tokens_are_listed_only_when_asked_one_list_per_project_and_group() {
    let mut sc = scenario(12, 3, 0, ops());
    assert_eq!(entries(&sc), twelve_three());
    assert_eq!(
        sc.requests()
            .count("GET /api/v4/projects/:id/deploy_tokens"),
        0
    );
    sc.sandbox.clear_requests();
    sc.set_config(|c| c.check.discover.gitlab_deploy_tokens = true);
    let found = entries(&sc);
    let stats = sc.requests();
    assert_eq!(stats.count("GET /api/v4/projects/:id/deploy_tokens"), 12);
    assert_eq!(stats.count("GET /api/v4/groups/:id/deploy_tokens"), 2);
    let mut expected = twelve_three();
    expected.push(entry(
        "gitlab_deploy_token",
        "project ops/team/p0",
        "registry",
    ));
    expected.sort();
    assert_eq!(found, expected, "the one expiring within the window");
}

/// `ops` manages three enterprise users: `ops-bot` (listed; a token expiring in 4 days),
/// `ent-a` (5 days) and `ent-b` (300 days); `scanner` owns `ops`.
const ENTERPRISE: &str = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
      - { username: scanner, name: Scanner }
      - { username: ops-bot, name: Ops Bot, enterprise_of: ops }
      - { username: ent-a, name: A, enterprise_of: ops }
      - { username: ent-b, name: B, enterprise_of: ops }
    groups:
      - { path: ops, members: { scanner: owner } }
    projects:
      - { path: ops/p }
    tokens:
      - { user: scanner, name: scan, scopes: [read_api], expires_at: +300d }
      - { user: ops-bot, name: cli, scopes: [api], expires_at: +4d, last_used_at: -1d }
      - { user: ent-a, name: laptop, scopes: [api], expires_at: +5d, last_used_at: -2d }
      - { user: ent-b, name: old, scopes: [api], expires_at: +300d }
"#;

#[test]
fn a_group_owner_on_gitlab_com_reads_every_enterprise_users_tokens_from_the_inventory() {
    let sc = Scenario::seeded(ENTERPRISE)
        .check(CheckSettings {
            discover: Discover {
                gitlab_users: names(&["ops-bot"]),
                ..ops()
            },
            ..CheckSettings::default()
        })
        .manifest("m.yaml", MANIFEST)
        .start();
    let found = entries_as(&sc, Some("scan"));
    let stats = sc.requests();
    assert_eq!(
        stats.count("GET /api/v4/groups/:id/manage/personal_access_tokens"),
        1
    );
    // The listed user's tokens come from the inventory, not from a list of their own (which
    // only an administrator or the user may read).
    assert_eq!(stats.count("GET /api/v4/personal_access_tokens"), 0);
    // ent-a's name: the inventory gives user ids only.
    assert_eq!(stats.count("GET /api/v4/users/:id"), 1);
    let personal: Vec<_> = found
        .iter()
        .filter(|(kind, ..)| kind == "gitlab_personal_access_token")
        .map(|(_, owner, name, _)| (owner.as_str(), name.as_str()))
        .collect();
    assert_eq!(
        personal,
        [("user ent-a", "laptop"), ("user ops-bot", "cli")]
    );
}

#[test]
fn without_the_inventory_the_scan_does_what_it_did_before() {
    let sc = Scenario::seeded(ENTERPRISE)
        .check(CheckSettings {
            discover: ops(),
            ..CheckSettings::default()
        })
        .manifest("m.yaml", MANIFEST)
        .start();
    // The inventory is not enabled for this group (GitLab answers 404).
    sc.faults().set(
        "GET /api/v4/groups/:id/manage/personal_access_tokens",
        FaultSpec {
            error_rate: 1.0,
            statuses: vec![404],
            ..FaultSpec::default()
        },
    );
    let mut run = sc.cmd(&["check", "--format", "json"]);
    run = run.env(
        &override_var(Platform::GitLab, "gitlab.com", "TOKEN"),
        sc.token_value("scan"),
    );
    let out = run.expect(0);
    assert!(!out.stdout.contains("laptop"), "{}", out.stdout);
    // An administrator never asks for it: every token is read instance-wide.
    sc.sandbox.clear_requests();
    sc.faults().set(
        "GET /api/v4/groups/:id/manage/personal_access_tokens",
        FaultSpec::default(),
    );
    sc.cmd(&["check", "--format", "json"]).expect(0);
    assert_eq!(
        sc.requests()
            .count("GET /api/v4/groups/:id/manage/personal_access_tokens"),
        0
    );
}

#[test]
fn a_run_that_would_wait_past_max_wait_fails_at_once_naming_the_flag() {
    let sc = scenario(2, 1, 0, ops());
    // Every request is refused with `Retry-After: 60`.
    sc.faults().set(
        "*",
        FaultSpec {
            error_rate: 1.0,
            statuses: vec![429],
            ..FaultSpec::default()
        },
    );
    let started = std::time::Instant::now();
    let out = sc.cmd(&["check", "--max-wait", "10s"]).expect(1);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let stderr = out.stderr;
    assert!(
        stderr.contains("GitLab gitlab.com: GET group ops")
            && stderr.contains("gave up after")
            && stderr.contains("would pass its limit of 10s")
            && stderr.contains("--max-wait"),
        "{stderr}"
    );
}
