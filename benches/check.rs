//! Benchmark of the discovery `tokenops check` makes: 2 groups (each with a subgroup),
//! 1,000 projects, 5,000 project access tokens, 100 pipeline triggers and 40 personal tokens,
//! 20 ms latency on every request. Prints the request count and wall time of the check scan
//! (server-side `state=active&expires_before` filters, the administrator's instance-wide
//! shortcut for project and group tokens, concurrent requests) and of a sequential
//! scan that lists every project's tokens and triggers one request at a time with no filters
//! (what a weekly script does), and their ratio.
//!
//! Run with `cargo bench --bench check` (TOKENOPS_BENCH_PROJECTS changes the estate size).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokenops::clients::Clients;
use tokenops::gitlab::{GitLabClient, Owner, TokenFilter};
use tokenops::http::{ClientSettings, InstanceAccess};
use tokenops::manifest::LoadOptions;
use tokenops::sandbox::{FaultSpec, Sandbox, SandboxHandle, SandboxOptions, Seed};

const TOKENS_PER_PROJECT: usize = 5;
const LATENCY: Duration = Duration::from_millis(20);
const GROUPS: [&str; 2] = ["support", "ops"];

fn seed(projects: usize) -> String {
    let mut s = String::from(
        "gitlab:\n  - name: gitlab.com\n    admin: tokenops-admin\n    users:\n      \
         - { username: tokenops-admin, name: tokenops, admin: true }\n      \
         - { username: ops-bot, name: Ops Bot }\n      \
         - { username: scanner, name: Scanner }\n    groups:\n",
    );
    for g in GROUPS {
        let _ = writeln!(
            s,
            "      - {{ path: {g}, members: {{ ops-bot: owner, scanner: owner }} }}"
        );
        let _ = writeln!(s, "      - {{ path: {g}/team }}");
    }
    s.push_str("    projects:\n");
    let path = |p: usize| {
        let g = GROUPS[p % 2];
        if p % 4 < 2 {
            format!("{g}/p{p}")
        } else {
            format!("{g}/team/p{p}")
        }
    };
    for p in 0..projects {
        let _ = writeln!(s, "      - {{ path: {} }}", path(p));
    }
    s.push_str("    tokens:\n");
    for p in 0..projects {
        for t in 0..TOKENS_PER_PROJECT {
            // Expiries spread over the year: about 6% fall inside a 21-day window.
            let days = 1 + (p * 7 + t * 73) % 365;
            let _ = writeln!(
                s,
                "      - {{ project: {}, name: token-{t}, scopes: [api], access_level: developer, \
                 expires_at: +{days}d, created_at: -10d }}",
                path(p)
            );
        }
    }
    s.push_str(
        "      - { user: scanner, name: scan, scopes: [read_api], expires_at: +300d, \
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
    s.push_str("    triggers:\n");
    for p in (0..projects).step_by(10) {
        let _ = writeln!(
            s,
            "      - {{ project: {}, description: deploy-{p}, owner: ops-bot }}",
            path(p)
        );
    }
    s
}

fn client(sandbox: &SandboxHandle, concurrency: usize, admin: bool) -> GitLabClient {
    let credential = if admin {
        sandbox.gitlab_admin_token("gitlab.com")
    } else {
        // A group owner who is no administrator, as on GitLab.com.
        sandbox.with_state(|w| {
            let g = &w.gitlab["gitlab.com"];
            let t = g.tokens.values().find(|t| t.name == "scan").unwrap();
            SecretString::from(t.value.reveal().to_string())
        })
    };
    let access = InstanceAccess {
        name: "gitlab.com".to_string(),
        url: sandbox.gitlab_url("gitlab.com"),
        credential,
        email: None,
    };
    let mut settings = ClientSettings::gitlab();
    settings.concurrency = concurrency;
    // Both scans get the same unlimited budget: the comparison is about requests and latency.
    settings.requests_per_minute = 1_000_000;
    GitLabClient::new(&access, settings).unwrap()
}

/// One list per project per token type, one request at a time, no server-side filters.
async fn sequential(client: &GitLabClient) -> usize {
    let mut found = 0;
    let me = client.user_by_username("ops-bot").await.unwrap().unwrap();
    let filter = TokenFilter {
        user_id: Some(me.id),
        ..TokenFilter::default()
    };
    found += client.list_personal_tokens(&filter).await.unwrap().len();
    for g in GROUPS {
        for project in client.group_projects(g, true).await.unwrap() {
            let path = project.path_with_namespace;
            found += client
                .list_access_tokens(&Owner::Project(path.clone()), None)
                .await
                .unwrap()
                .len();
            found += client.list_triggers(&path).await.unwrap().len();
        }
        found += client
            .list_access_tokens(&Owner::Group(g.to_string()), None)
            .await
            .unwrap()
            .len();
        for sub in client.descendant_groups(g).await.unwrap() {
            found += client
                .list_access_tokens(&Owner::Group(sub.full_path), None)
                .await
                .unwrap()
                .len();
        }
    }
    found
}

fn main() {
    let projects: usize = std::env::var("TOKENOPS_BENCH_PROJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let now: jiff::Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
    let seed = Seed::from_yaml_str(&seed(projects), "<bench>").unwrap();
    let sandbox = rt
        .block_on(Sandbox::start(seed, SandboxOptions::at(now)))
        .unwrap();
    sandbox.faults().set(
        "*",
        FaultSpec {
            latency: LATENCY,
            ..FaultSpec::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tokenops.yaml"),
        "version: 1\ngitlab:\n  - { name: gitlab.com, url: \"https://gitlab.example.com\", \
         token_env: GITLAB_TOKEN }\ncheck:\n  within: 21d\n  discover: { gitlab_users: \
         [ops-bot], gitlab_groups: [support, ops] }\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("manifests")).unwrap();
    std::fs::write(
        dir.path().join("manifests/none.yaml"),
        "tokens:\n  - id: shared\n    generated_secret: { length: 32 }\n    consumers:\n      \
         - manual: { instructions: none }\n",
    )
    .unwrap();
    let desired = tokenops::manifest::load(&LoadOptions {
        config: dir.path().join("tokenops.yaml"),
        manifests: dir.path().join("manifests"),
    })
    .unwrap();
    println!(
        "estate: 2 groups, {projects} projects, {} project tokens, {} triggers, 40 personal \
         tokens; {} ms latency per request",
        projects * TOKENS_PER_PROJECT,
        projects.div_ceil(10),
        LATENCY.as_millis()
    );

    let mut clients = Clients::default();
    clients
        .gitlab
        .insert("gitlab.com".to_string(), client(&sandbox, 16, true));
    sandbox.clear_requests();
    let started = Instant::now();
    let inventory = rt
        .block_on(tokenops::ops::check::gather(&desired, &clients, now, 21))
        .unwrap();
    let check_time = started.elapsed();
    let check_stats = sandbox.requests();
    let report = tokenops::ops::check::classify(&desired, &inventory, now, 21);
    println!(
        "check scan:      {:>6} requests, {:>8.2} s wall, {} token records listed, {} within 21 days",
        check_stats.total,
        check_time.as_secs_f64(),
        inventory.discovered.len(),
        report.urgent()
    );
    for (route, n) in &check_stats.by_route {
        println!("    {n:>6}  {route}");
    }

    // The same scan with a non-administrator's credential (GitLab.com): one filtered list per
    // project and subgroup. Personal tokens of other users are out of its reach, so the
    // scope lists groups only.
    let mut scoped = desired.clone();
    scoped.config.check.discover.gitlab_users.clear();
    let mut clients = Clients::default();
    clients
        .gitlab
        .insert("gitlab.com".to_string(), client(&sandbox, 16, false));
    sandbox.clear_requests();
    let started = Instant::now();
    let inventory = rt
        .block_on(tokenops::ops::check::gather(&scoped, &clients, now, 21))
        .unwrap();
    let plain_time = started.elapsed();
    let plain_stats = sandbox.requests();
    println!(
        "check scan, non-admin (groups only): {:>6} requests, {:>8.2} s wall, {} token records listed",
        plain_stats.total,
        plain_time.as_secs_f64(),
        inventory.discovered.len(),
    );

    let seq_client = client(&sandbox, 1, true);
    sandbox.clear_requests();
    let started = Instant::now();
    let listed = rt.block_on(sequential(&seq_client));
    let seq_time = started.elapsed();
    let seq_stats = sandbox.requests();
    println!(
        "sequential scan: {:>6} requests, {:>8.2} s wall, {listed} token records listed",
        seq_stats.total,
        seq_time.as_secs_f64()
    );
    println!(
        "ratio: {:.1}x faster, {:.2}x the requests ({} vs {}); one list per project per type \
         (access tokens, triggers) would be {}",
        seq_time.as_secs_f64() / check_time.as_secs_f64(),
        check_stats.total as f64 / seq_stats.total as f64,
        check_stats.total,
        seq_stats.total,
        projects * 2
    );
    println!(
        "ratio, non-admin: {:.1}x faster, {:.2}x the requests ({} vs {})",
        seq_time.as_secs_f64() / plain_time.as_secs_f64(),
        plain_stats.total as f64 / seq_stats.total as f64,
        plain_stats.total,
        seq_stats.total,
    );
}
