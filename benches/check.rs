//! Benchmark of the weekly `tokenops check --report-issue`, run as the shipped binary with its
//! default settings, against the team script it replaces, on an estate shaped like the one
//! the check was first measured on: 2 groups (each with a subgroup), 1,001 projects, 5,000
//! project access tokens of which 10% expire within 21 days (one per two projects), a few
//! revoked and expired tokens, group tokens, 100 pipeline triggers (the instance does not let
//! them expire), 40 personal tokens of the listed user, people with personal tokens of their
//! own, and a group outside the scope. Every request takes 20 ms and the sandbox allows 2,000
//! requests per minute (GitLab.com's limit), answering 429 past it.
//!
//! Runs, each against a fresh per-minute budget:
//! * the old script's work, as plain sequential requests (one page each): the listed user's
//!   personal tokens, every project's access tokens, then one issue;
//! * `tokenops check --report-issue` with an administrator's credential;
//! * the same with a group owner's credential (GitLab.com: no administrator), the personal
//!   tokens of other users being out of its reach.
//!
//! Prints for each: requests (by route), answered 429s, wall time, tokens found; for tokenops
//! also the fewest requests the API allows for that credential (counted from the sandbox's
//! state, see `fewest`) and the speed-up over the script.
//!
//! Run with `cargo bench --bench check` (TOKENOPS_BENCH_PROJECTS changes the estate size).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use tokenops::sandbox::state::gitlab::TokenOwner;
use tokenops::sandbox::{FaultSpec, Sandbox, SandboxHandle, SandboxOptions, Seed};

const TOKENS_PER_PROJECT: usize = 5;
const LATENCY: Duration = Duration::from_millis(20);
const BUDGET: u32 = 2000;
const GROUPS: [&str; 2] = ["support", "ops"];
const REPORT_PROJECT: &str = "support/tokenops";
const OUTSIDE_PROJECTS: usize = 50;
const PEOPLE: usize = 20;
const WITHIN_DAYS: i64 = 21;

fn project_path(p: usize) -> String {
    let g = GROUPS[p % 2];
    if p % 4 < 2 {
        format!("{g}/p{p}")
    } else {
        format!("{g}/team/p{p}")
    }
}

/// The estate: `projects` projects in scope (the report's project among them).
fn seed(projects: usize) -> String {
    let mut s = String::from(
        "gitlab:\n  - name: gitlab.com\n    admin: tokenops-admin\n    users:\n      \
         - { username: tokenops-admin, name: tokenops, admin: true }\n      \
         - { username: ops-bot, name: Ops Bot }\n      \
         - { username: scanner, name: Scanner }\n",
    );
    for u in 0..PEOPLE {
        let _ = writeln!(s, "      - {{ username: person{u}, name: Person {u} }}");
    }
    s.push_str("    groups:\n");
    for g in GROUPS {
        let _ = writeln!(
            s,
            "      - {{ path: {g}, members: {{ ops-bot: owner, scanner: owner }} }}"
        );
        let _ = writeln!(s, "      - {{ path: {g}/team }}");
    }
    s.push_str("      - { path: other }\n    projects:\n");
    let generated = projects - 1;
    let _ = writeln!(s, "      - {{ path: {REPORT_PROJECT} }}");
    for p in 0..generated {
        let _ = writeln!(s, "      - {{ path: {} }}", project_path(p));
    }
    for o in 0..OUTSIDE_PROJECTS {
        let _ = writeln!(s, "      - {{ path: other/x{o} }}");
    }
    s.push_str("    tokens:\n");
    let total = generated * TOKENS_PER_PROJECT;
    for i in 0..total {
        let (p, t) = (i / TOKENS_PER_PROJECT, i % TOKENS_PER_PROJECT);
        // One token in every second project expires within the window; the rest later in
        // the year.
        let days = if p % 2 == 0 && t == 0 {
            1 + (p * 7) % 20
        } else {
            30 + (p * 13 + t * 37) % 335
        };
        let _ = writeln!(
            s,
            "      - {{ project: {}, name: token-{t}, scopes: [api], access_level: developer, \
             expires_at: +{days}d, created_at: -{}d, last_used_at: -1d }}",
            project_path(p),
            365 - days.min(364)
        );
    }
    // Old tokens nobody cleaned up: revoked ones, and expired ones.
    for p in (0..generated).step_by(25) {
        let _ = writeln!(
            s,
            "      - {{ project: {}, name: old, scopes: [api], access_level: developer, \
             expires_at: +100d, created_at: -300d, revoked: true }}",
            project_path(p)
        );
        let _ = writeln!(
            s,
            "      - {{ project: {}, name: expired, scopes: [api], access_level: developer, \
             expires_at: -12d, created_at: -377d }}",
            project_path(p)
        );
    }
    for g in GROUPS {
        let _ = writeln!(
            s,
            "      - {{ group: {g}/team, name: team-bot, scopes: [read_api], access_level: \
             reporter, expires_at: +9d, created_at: -356d }}"
        );
        let _ = writeln!(
            s,
            "      - {{ group: {g}, name: group-bot, scopes: [read_api], access_level: \
             reporter, expires_at: +200d, created_at: -165d }}"
        );
    }
    for o in 0..OUTSIDE_PROJECTS {
        for t in 0..4 {
            let days = if t == 0 && o % 2 == 0 {
                3 + o % 15
            } else {
                60 + o * 3 + t
            };
            let _ = writeln!(
                s,
                "      - {{ project: other/x{o}, name: svc-{t}, scopes: [api], access_level: \
                 developer, expires_at: +{days}d, created_at: -10d }}"
            );
        }
    }
    s.push_str(
        "      - { user: scanner, name: scan, scopes: [api], expires_at: +300d, \
         created_at: -10d }\n",
    );
    for t in 0..40 {
        let days = 1 + (t * 37) % 365;
        let _ = writeln!(
            s,
            "      - {{ user: ops-bot, name: pat-{t}, scopes: [api], expires_at: +{days}d, \
             created_at: -10d }}"
        );
    }
    for u in 0..PEOPLE {
        for t in 0..2 {
            let days = 5 + (u * 29 + t * 170) % 360;
            let _ = writeln!(
                s,
                "      - {{ user: person{u}, name: laptop-{t}, scopes: [read_api], expires_at: \
                 +{days}d, created_at: -10d }}"
            );
        }
    }
    s.push_str("    triggers:\n");
    for p in (0..generated).step_by(10) {
        let _ = writeln!(
            s,
            "      - {{ project: {}, description: deploy-{p}, owner: ops-bot }}",
            project_path(p)
        );
    }
    s
}

fn write_project(dir: &Path, users: &str) {
    std::fs::write(
        dir.join("tokenops.yaml"),
        format!(
            "version: 1\ngitlab:\n  - {{ name: gitlab.com, url: \"https://gitlab.example.com\", \
             token_env: GITLAB_TOKEN }}\ncheck:\n  within: {WITHIN_DAYS}d\n  discover: {{ \
             gitlab_users: [{users}], gitlab_groups: [support, ops] }}\n  report: {{ gitlab: \
             gitlab.com, project: {REPORT_PROJECT}, labels: [token-checker] }}\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::write(
        dir.join("manifests/none.yaml"),
        "tokens:\n  - id: shared\n    generated_secret: { length: 32 }\n    consumers:\n      \
         - manual: { instructions: none }\n",
    )
    .unwrap();
}

/// The credential of `username`'s first personal token in the sandbox.
fn credential_of(sandbox: &SandboxHandle, username: &str) -> SecretString {
    sandbox.with_state(|w| {
        let g = &w.gitlab["gitlab.com"];
        let id = g
            .users
            .values()
            .find(|u| u.username == username)
            .unwrap()
            .id;
        let t = g
            .tokens
            .values()
            .find(|t| t.owner == TokenOwner::Personal && t.user_id == id && !t.revoked)
            .unwrap();
        SecretString::from(t.value.reveal().to_string())
    })
}

/// A fresh per-minute budget (the count starts again) with the latency, and an empty log.
fn fresh_budget(sandbox: &SandboxHandle) {
    sandbox.faults().set(
        "*",
        FaultSpec {
            latency: LATENCY,
            budget_per_minute: Some(BUDGET),
            ..FaultSpec::default()
        },
    );
    sandbox.clear_requests();
}

struct Run {
    wall: Duration,
    requests: u64,
    too_many: u64,
    found: usize,
    routes: Vec<(String, u64)>,
}

fn finish(sandbox: &SandboxHandle, wall: Duration, found: usize) -> Run {
    let stats = sandbox.requests();
    Run {
        wall,
        requests: stats.total,
        too_many: stats.by_status.get(&429).copied().unwrap_or(0),
        found,
        routes: stats.by_route.into_iter().collect(),
    }
}

/// `tokenops check --report-issue --format json` with `credential`, as shipped.
fn tokenops_check(dir: &Path, sandbox: &SandboxHandle, credential: &SecretString) -> Run {
    fresh_budget(sandbox);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tokenops"))
        .current_dir(dir)
        .args(["check", "--report-issue", "--format", "json"])
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            sandbox.gitlab_url("gitlab.com"),
        )
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_TOKEN",
            credential.expose_secret(),
        )
        .env("TOKENOPS_NOW", sandbox.clock().now().to_string())
        .output()
        .expect("tokenops runs");
    let wall = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(2),
        "check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = doc["entries"].as_array().map_or(0, Vec::len);
    finish(sandbox, wall, found)
}

/// The old script's work as plain sequential requests: the listed user's personal tokens,
/// every project's access tokens (one page each), then one issue listing what expires.
async fn old_script(
    sandbox: &SandboxHandle,
    credential: &SecretString,
    today: jiff::civil::Date,
) -> usize {
    let http = reqwest::Client::new();
    let api = format!("{}/api/v4", sandbox.gitlab_url("gitlab.com"));
    let get = |path: String| {
        let req = http
            .get(format!("{api}{path}"))
            .header("private-token", credential.expose_secret());
        async move {
            let resp = req.send().await.unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            let next = resp
                .headers()
                .get("x-next-page")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_string);
            (resp.json::<Vec<serde_json::Value>>().await.unwrap(), next)
        }
    };
    let last_day = today
        .checked_add(jiff::Span::new().days(WITHIN_DAYS))
        .unwrap();
    let expiring = |tokens: &[serde_json::Value]| {
        tokens
            .iter()
            .filter(|t| t["active"].as_bool() == Some(true))
            .filter(|t| {
                t["expires_at"]
                    .as_str()
                    .and_then(|d| d.parse::<jiff::civil::Date>().ok())
                    .is_some_and(|d| d <= last_day)
            })
            .count()
    };
    let mut found = 0;
    let (users, _) = get("/users?username=ops-bot".to_string()).await;
    let id = users[0]["id"].as_u64().unwrap();
    let (tokens, _) = get(format!("/personal_access_tokens?user_id={id}&per_page=100")).await;
    found += expiring(&tokens);
    for group in GROUPS {
        let mut page = Some("1".to_string());
        while let Some(n) = page {
            let (projects, next) = get(format!(
                "/groups/{group}/projects?include_subgroups=true&per_page=100&page={n}"
            ))
            .await;
            for project in projects {
                let pid = project["id"].as_u64().unwrap();
                let (tokens, _) = get(format!("/projects/{pid}/access_tokens?per_page=100")).await;
                found += expiring(&tokens);
            }
            page = next;
        }
    }
    let issue = http
        .post(format!(
            "{api}/projects/{}/issues",
            tokenops::http::encode_segment(REPORT_PROJECT)
        ))
        .header("private-token", credential.expose_secret())
        .json(&serde_json::json!({
            "title": format!("{found} tokens expire within {WITHIN_DAYS} days"),
            "description": "Token Checker report",
        }))
        .send()
        .await
        .unwrap();
    assert!(issue.status().is_success(), "{}", issue.status());
    found
}

/// The fewest requests the API allows for the check with this credential, counted from the
/// sandbox's state:
/// * always: who the credential is (`GET /user`), each listed group's projects (a page per
///   100) and subgroups (one page), each listed user's id (one lookup), and the report issue
///   (find it, then write it: 2);
/// * per owner (any credential): one filtered list per project, subgroup and listed group,
///   and one per listed user;
/// * instance-wide (administrators only): the active tokens expiring by the filter day (a
///   page per 100) and the cheaper way to place their owners: one lookup per owner, or the
///   bot users' pages (a page per 100 users matching `_bot`) plus one lookup per owner who
///   is not among them.
fn fewest(sandbox: &SandboxHandle, admin: bool, users: &[&str], before: jiff::civil::Date) -> u64 {
    sandbox.with_state(|w| {
        let g = &w.gitlab["gitlab.com"];
        let pages = |n: usize| n.div_ceil(100).max(1) as u64;
        let in_scope = |path: &str| GROUPS.iter().any(|gr| path.starts_with(&format!("{gr}/")));
        let projects: Vec<_> = g
            .projects
            .values()
            .filter(|p| in_scope(&p.path_with_namespace))
            .collect();
        let per_group = |gr: &str| {
            projects
                .iter()
                .filter(|p| p.path_with_namespace.starts_with(&format!("{gr}/")))
                .count()
        };
        let subgroups = g
            .groups
            .values()
            .filter(|sg| in_scope(&sg.full_path))
            .count();
        let common = 1
            + GROUPS
                .iter()
                .map(|gr| pages(per_group(gr)) + 1)
                .sum::<u64>()
            + users.len() as u64
            + 2;
        let per_owner = (projects.len() + subgroups + GROUPS.len() + users.len()) as u64;
        if !admin {
            return common + per_owner;
        }
        let listed: Vec<u64> = g
            .users
            .values()
            .filter(|u| users.contains(&u.username.as_str()))
            .map(|u| u.id)
            .collect();
        let now = sandbox.clock().now();
        let expiring: Vec<_> = g
            .tokens
            .values()
            .filter(|t| t.active(now) && t.expires_at.is_some_and(|e| e < before))
            .collect();
        let owners: std::collections::BTreeSet<u64> = expiring
            .iter()
            .map(|t| t.user_id)
            .filter(|id| !listed.contains(id))
            .collect();
        let bots: Vec<u64> = g
            .users
            .values()
            .filter(|u| {
                u.username.to_lowercase().contains("_bot") || u.name.to_lowercase().contains("_bot")
            })
            .map(|u| u.id)
            .collect();
        let not_bots = owners.iter().filter(|id| !bots.contains(id)).count() as u64;
        let placing = (owners.len() as u64).min(pages(bots.len()) + not_bots);
        let instance_wide = pages(expiring.len()) + placing;
        common + per_owner.min(instance_wide)
    })
}

fn w_today(sandbox: &SandboxHandle) -> jiff::civil::Date {
    tokenops::time::utc_date(sandbox.clock().now())
}

fn show(label: &str, run: &Run, fewest: Option<u64>, script: Option<&Run>) {
    println!(
        "{label}: {} requests, {} answered 429, {:.2} s wall, {} tokens found",
        run.requests,
        run.too_many,
        run.wall.as_secs_f64(),
        run.found
    );
    if let Some(fewest) = fewest {
        println!(
            "    fewest the API allows for this credential: {fewest} (ratio {:.3}, target <= 1.05)",
            run.requests as f64 / fewest as f64
        );
    }
    if let Some(script) = script {
        println!(
            "    {:.1}x faster than the script (target >= 10x)",
            script.wall.as_secs_f64() / run.wall.as_secs_f64()
        );
    }
    let minute = 60.0 * ((run.requests.saturating_sub(1)) / BUDGET as u64) as f64;
    if minute > 0.0 {
        println!(
            "    the budget binds: floor {minute:.0} s, ratio {:.2} (target <= 1.1)",
            run.wall.as_secs_f64() / minute
        );
    }
    for (route, n) in &run.routes {
        println!("    {n:>6}  {route}");
    }
}

fn main() {
    let projects: usize = std::env::var("TOKENOPS_BENCH_PROJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1001)
        .max(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The sandbox runs on real time, so that the platform's RateLimit-Reset and the client's
    // clock agree as they would against GitLab.
    let now = Timestamp::now();
    let seed = Seed::from_yaml_str(&seed(projects), "<bench>").unwrap();
    let loaded = Instant::now();
    let sandbox = rt
        .block_on(Sandbox::start(seed, SandboxOptions::at(now)))
        .unwrap();
    let clock = sandbox.clock().clone();
    rt.spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let elapsed = jiff::SignedDuration::try_from(loaded.elapsed()).unwrap_or_default();
            clock.set(now.checked_add(elapsed).unwrap_or(now));
        }
    });
    let admin_dir = tempfile::tempdir().unwrap();
    write_project(admin_dir.path(), "ops-bot");
    let owner_dir = tempfile::tempdir().unwrap();
    write_project(owner_dir.path(), "");
    let today = w_today(&sandbox);
    let before = today
        .checked_add(jiff::Span::new().days(WITHIN_DAYS + 1))
        .unwrap();
    println!(
        "estate: 2 groups, {projects} projects, {} project tokens (one in every second project \
         expiring within {WITHIN_DAYS} days), {} triggers, 40 personal tokens of the listed \
         user, {PEOPLE} people, {OUTSIDE_PROJECTS} projects outside the scope; {} ms per \
         request, {BUDGET} requests per minute",
        (projects - 1) * TOKENS_PER_PROJECT,
        (projects - 1).div_ceil(10),
        LATENCY.as_millis()
    );

    let admin = sandbox.gitlab_admin_token("gitlab.com");
    fresh_budget(&sandbox);
    let started = Instant::now();
    let found = rt.block_on(old_script(&sandbox, &admin, today));
    let script = finish(&sandbox, started.elapsed(), found);
    show(
        "old script (sequential, one page per project, no filters)",
        &script,
        None,
        None,
    );

    let run = tokenops_check(admin_dir.path(), &sandbox, &admin);
    let least = fewest(&sandbox, true, &["ops-bot"], before);
    show(
        "tokenops check --report-issue, administrator",
        &run,
        Some(least),
        Some(&script),
    );

    let owner = credential_of(&sandbox, "scanner");
    let run = tokenops_check(owner_dir.path(), &sandbox, &owner);
    let least = fewest(&sandbox, false, &[], before);
    show(
        "tokenops check --report-issue, group owner (no users listed)",
        &run,
        Some(least),
        Some(&script),
    );
    rt.block_on(sandbox.shutdown());
}
