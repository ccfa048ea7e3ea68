//! Benchmark of `apply` with the shipped defaults (`--parallel` 8, 16 requests in flight,
//! 2,000 requests per minute): 500 due project access tokens with 3 CI/CD variable consumers
//! each, against the sandbox with 20 ms latency on every request.
//!
//! Two runs, each on a fresh estate:
//! * under the sandbox's 2,000 requests per minute (GitLab.com's limit, 429 past it), the
//!   shipped defaults as they are: wall time against the budget's floor, answered 429s;
//! * on an instance without a rate limit, the client's budget lifted too: wall time against
//!   the latency floor.
//!
//! Prints the requests spent against the protocol's minimum, counted per token kind and
//! consumer kind (see `MINIMUM`), a per-token breakdown by route from the sandbox's request
//! log, and what making the ledger durable costs (the share of wall time a write was in
//! progress, and the share tokens spent waiting for their own flushes on the critical path).
//!
//! The latency floor: discovery needs (lists + probes) / concurrency round trips; then each
//! token takes its sequential requests (list the token's records, rotate, then per consumer
//! write, read back and introspect), `parallel` tokens at a time. The budget's floor: with
//! 2,000 requests per minute, request n goes no earlier than minute (n - 1) / 2,000.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokenops::cli::apply::DEFAULT_PARALLEL;
use tokenops::clients::{Clients, RunContext};
use tokenops::gitlab::GitLabClient;
use tokenops::http::{ClientSettings, InstanceAccess};
use tokenops::manifest::LoadOptions;
use tokenops::ops::apply::{ApplyOptions, TokenOutcome};
use tokenops::sandbox::{FaultSpec, Sandbox, SandboxOptions, Seed};

const TOKENS: usize = 500;
const CONSUMERS: usize = 3;
const LATENCY: Duration = Duration::from_millis(20);
const BUDGET: u32 = 2000;
/// The shipped requests in flight per GitLab instance.
const CONCURRENCY: usize = 16;

fn seed() -> String {
    let mut s = String::from(
        "gitlab:\n  - name: bench\n    admin: admin\n    users:\n      - { username: admin, name: Admin, admin: true }\n    groups:\n      - { path: bench }\n    projects:\n",
    );
    for i in 0..TOKENS {
        let _ = writeln!(s, "      - {{ path: bench/p{i} }}");
    }
    s.push_str("    tokens:\n");
    for i in 0..TOKENS {
        let _ = writeln!(
            s,
            "      - {{ ref: t{i}, project: bench/p{i}, name: app-{i}, scopes: [api], access_level: developer, expires_at: +5d, created_at: -360d }}"
        );
    }
    s.push_str("    variables:\n");
    for i in 0..TOKENS {
        for c in 0..CONSUMERS {
            let _ = writeln!(
                s,
                "      - {{ project: bench/p{i}, key: TOKEN_{c}, value: {{ value_of: t{i} }}, masked: true }}"
            );
        }
    }
    s
}

fn manifest() -> String {
    let mut s = String::from("tokens:\n");
    for i in 0..TOKENS {
        let _ = writeln!(
            s,
            "  - id: t{i}\n    gitlab_project_access_token: {{ gitlab: bench, project: bench/p{i}, name: app-{i}, scopes: [api], access_level: developer }}\n    consumers:"
        );
        for c in 0..CONSUMERS {
            let _ = writeln!(
                s,
                "      - gitlab_ci_variable: {{ gitlab: bench, project: bench/p{i}, key: TOKEN_{c}, masked: true }}"
            );
        }
    }
    s
}

/// The protocol's minimum, per due token of this benchmark (a project access token rotated
/// with the `rotate` strategy, its consumers CI/CD variables of its own project):
/// * the token: its project's token list 1 (the live record to rotate), rotate 1;
/// * its consumers: their project's variable list 1 (shared by the three), and per variable a
///   write 1 (the answer carries the stored value, so it is also the read-back that verifies
///   it; the new value's identity is in the rotate answer, so nothing is introspected).
const MINIMUM_PER_TOKEN: usize = 2 + 1 + CONSUMERS;

struct Measured {
    wall: Duration,
    requests: u64,
    too_many: u64,
    flushes: u64,
    flush_time: Duration,
    flush_wait: Duration,
    /// Route to requests per token (one entry per token; tokens without any are zeros).
    per_token: BTreeMap<String, Vec<u64>>,
    /// Requests whose path names no project, by route.
    unattributed: BTreeMap<String, u64>,
}

fn run(runtime: &tokio::runtime::Runtime, budgeted: bool) -> Measured {
    // The sandbox runs on real time, so its per-minute budget and RateLimit-Reset are real.
    let start = jiff::Timestamp::now();
    let seed = Seed::from_yaml_str(&seed(), "bench seed").expect("seed");
    let handle = runtime
        .block_on(Sandbox::start(seed, SandboxOptions::at(start)))
        .expect("sandbox");
    let clock = handle.clock().clone();
    let began_clock = Instant::now();
    let follower = runtime.spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let elapsed = jiff::SignedDuration::try_from(began_clock.elapsed()).unwrap_or_default();
            clock.set(start.checked_add(elapsed).unwrap_or(start));
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (identity, recipient) = tokenops::ops::apply::escrow::generate_identity();
    std::fs::write(
        dir.path().join("tokenops.yaml"),
        format!(
            "version: 1\ngitlab:\n  - {{ name: bench, url: https://gitlab.example.com, token_env: BENCH_TOKEN }}\nstate: {{ backend: local, path: .tokenops/state.json }}\nescrow: {{ recipient: {recipient} }}\n"
        ),
    )
    .expect("config");
    std::fs::create_dir_all(dir.path().join("manifests")).expect("dir");
    std::fs::write(dir.path().join("manifests/bench.yaml"), manifest()).expect("manifest");
    let load = LoadOptions {
        config: dir.path().join("tokenops.yaml"),
        manifests: dir.path().join("manifests"),
    };
    let desired = tokenops::manifest::load(&load).expect("manifests load");

    // The shipped client settings; without a rate limit the client's budget is lifted too.
    let mut settings = ClientSettings::gitlab();
    if !budgeted {
        settings.requests_per_minute = 1_000_000;
    }
    let access = InstanceAccess {
        name: "bench".to_string(),
        url: handle.gitlab_url("bench"),
        credential: handle.gitlab_admin_token("bench"),
        email: None,
    };
    let client = GitLabClient::new(&access, settings).expect("client");
    let mut clients = Clients::default();
    clients.gitlab.insert("bench".to_string(), client);
    let ctx = RunContext {
        now: handle.clock().now(),
        clients,
    };
    handle.faults().set(
        "*",
        FaultSpec {
            latency: LATENCY,
            budget_per_minute: budgeted.then_some(BUDGET),
            ..FaultSpec::default()
        },
    );
    let options = ApplyOptions {
        config: load.config.clone(),
        ledger: tokenops::ledger::LedgerSource::Local(dir.path().join(".tokenops/state.json")),
        plan_file: None,
        lock_timeout: Duration::ZERO,
        parallel: DEFAULT_PARALLEL,
        escrow_identity: Some(SecretString::from(
            secrecy::ExposeSecret::expose_secret(&identity).to_string(),
        )),
        crash_at: None,
        holder: "bench".to_string(),
        provide: None,
        zendesk_client_secrets: Default::default(),
        selection: Default::default(),
        summary_format: Default::default(),
    };
    handle.clear_requests();
    let mut sink = Vec::new();
    let began = Instant::now();
    let (_, report) = runtime
        .block_on(tokenops::ops::apply::run(
            &options, &desired, &ctx, &mut sink,
        ))
        .expect("apply");
    let wall = began.elapsed();
    let done = report.count(TokenOutcome::Done);
    assert_eq!(done, TOKENS, "{}", String::from_utf8_lossy(&sink));

    let stats = handle.requests();
    let projects: BTreeMap<u64, usize> = handle.with_state(|w| {
        w.gitlab["bench"]
            .projects
            .values()
            .filter_map(|p| {
                let i = p
                    .path_with_namespace
                    .strip_prefix("bench/p")?
                    .parse()
                    .ok()?;
                Some((p.id, i))
            })
            .collect()
    });
    let mut per_token: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut unattributed = BTreeMap::new();
    for entry in &stats.entries {
        match token_of(&entry.path, &projects) {
            Some(i) => {
                per_token
                    .entry(entry.route.clone())
                    .or_insert_with(|| vec![0; TOKENS])[i] += 1
            }
            None => *unattributed.entry(entry.route.clone()).or_default() += 1,
        }
    }
    follower.abort();
    runtime.block_on(handle.shutdown());
    Measured {
        wall,
        requests: stats.total,
        too_many: stats.by_status.get(&429).copied().unwrap_or(0),
        flushes: report.flushes,
        flush_time: report.flush_time,
        flush_wait: report.flush_wait,
        per_token,
        unattributed,
    }
}

/// The token a request was for: the benchmark's token `i` lives in project `bench/p{i}`.
fn token_of(path: &str, projects: &BTreeMap<u64, usize>) -> Option<usize> {
    let rest = path.split("/projects/").nth(1)?;
    let key = rest.split('/').next()?;
    let key = key.replace("%2F", "/").replace("%2f", "/");
    match key.strip_prefix("bench/p") {
        Some(i) => i.parse().ok(),
        None => key
            .parse::<u64>()
            .ok()
            .and_then(|id| projects.get(&id).copied()),
    }
}

fn report(label: &str, m: &Measured, floor: f64, floor_label: &str) {
    let minimum = TOKENS * MINIMUM_PER_TOKEN;
    println!("{label}");
    println!(
        "  requests            {} ({:.1} per token); protocol minimum {minimum} ({MINIMUM_PER_TOKEN} per \
         token: token list 1, rotate 1, variable list 1, one write per variable): ratio {:.2} \
         (target <= 1.25)",
        m.requests,
        m.requests as f64 / TOKENS as f64,
        m.requests as f64 / minimum as f64
    );
    println!("  answered 429        {}", m.too_many);
    println!(
        "  wall time           {:.2} s; {floor_label} {floor:.2} s: ratio {:.2}",
        m.wall.as_secs_f64(),
        m.wall.as_secs_f64() / floor
    );
    let waves = (TOKENS as f64 / DEFAULT_PARALLEL.min(CONCURRENCY) as f64).ceil();
    let flush_share = m.flush_time.as_secs_f64() / m.wall.as_secs_f64();
    let wait_per_token = m.flush_wait.as_secs_f64() / TOKENS as f64;
    let critical = wait_per_token * waves;
    println!(
        "  ledger flushes      {} writes, {:.3} s = {:.1}% of wall time (target < 10%)",
        m.flushes,
        m.flush_time.as_secs_f64(),
        flush_share * 100.0
    );
    println!(
        "  flush waits         {:.1} ms per token, x {waves} waves = {critical:.3} s = {:.1}% of \
         wall time on the critical path (target < 10%)",
        wait_per_token * 1000.0,
        critical / m.wall.as_secs_f64() * 100.0
    );
    println!("  per token, by route (min / mean / max over the {TOKENS} tokens):");
    for (route, counts) in &m.per_token {
        let min = counts.iter().min().copied().unwrap_or(0);
        let max = counts.iter().max().copied().unwrap_or(0);
        let mean = counts.iter().sum::<u64>() as f64 / TOKENS as f64;
        println!("    {min:>3} / {mean:>5.2} / {max:>3}  {route}");
    }
    for (route, n) in &m.unattributed {
        println!(
            "    {n:>6} in all ({:.2} per token), not tied to one project: {route}",
            *n as f64 / TOKENS as f64
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "apply benchmark: {TOKENS} due tokens x {CONSUMERS} CI/CD variable consumers, {} ms \
         latency, shipped defaults (parallel {DEFAULT_PARALLEL}, {CONCURRENCY} requests in \
         flight, {BUDGET} requests per minute)",
        LATENCY.as_millis()
    );
    let budgeted = run(&runtime, true);
    let budget_floor =
        (budgeted.requests.saturating_sub(1) / BUDGET as u64) as f64 * 60.0 + LATENCY.as_secs_f64();
    report(
        &format!("under the platform's {BUDGET} requests per minute:"),
        &budgeted,
        budget_floor,
        "the budget's floor (target <= 1.1)",
    );
    let free = run(&runtime, false);
    // Discovery: one token list and one variable list per project, one probe per consumer.
    let discovery_requests = (2 * TOKENS + TOKENS * CONSUMERS) as f64;
    // Per token, sequentially: list records, rotate, and per consumer write + read + introspect.
    let per_token = (2 + 3 * CONSUMERS) as f64;
    let waves = (TOKENS as f64 / DEFAULT_PARALLEL.min(CONCURRENCY) as f64).ceil();
    let lat = LATENCY.as_secs_f64();
    let latency_floor =
        (discovery_requests / CONCURRENCY as f64).ceil() * lat + waves * per_token * lat;
    report(
        "without a rate limit (the client's budget lifted too):",
        &free,
        latency_floor,
        &format!(
            "the latency floor ({per_token} sequential requests per token, {waves} waves, + \
             discovery; target <= 1.5)"
        ),
    );
}
