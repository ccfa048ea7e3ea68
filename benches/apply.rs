//! Benchmark of `apply`: 500 due project access tokens with 3 CI/CD variable consumers each,
//! against the sandbox with 20 ms latency on every request. Prints the wall time, the latency
//! floor the protocol implies, their ratio, and what making the ledger durable (the intent
//! and escrow flushes) costs: the share of wall time a write was in progress (the disk busy,
//! mostly overlapped with network waits), and the share of wall time tokens spent waiting for
//! their own flushes on the critical path.
//!
//! The floor: discovery needs (lists + probes) / concurrency round trips; then each token takes
//! its sequential requests (list the token's records, rotate, then per consumer write, read
//! back and introspect), with `parallel` tokens at a time.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokenops::clients::Clients;
use tokenops::clients::RunContext;
use tokenops::gitlab::GitLabClient;
use tokenops::http::{ClientSettings, InstanceAccess};
use tokenops::manifest::LoadOptions;
use tokenops::ops::apply::{ApplyOptions, TokenOutcome};
use tokenops::sandbox::{FaultSpec, Sandbox, SandboxOptions, Seed};

const TOKENS: usize = 500;
const CONSUMERS: usize = 3;
const LATENCY: Duration = Duration::from_millis(20);
const PARALLEL: usize = 64;
const CONCURRENCY: usize = 64;

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

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start: jiff::Timestamp = "2026-11-28T09:00:00Z".parse().expect("time");
    let seed = Seed::from_yaml_str(&seed(), "bench seed").expect("seed");
    let handle = runtime
        .block_on(Sandbox::start(seed, SandboxOptions::at(start)))
        .expect("sandbox");
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

    let mut settings = ClientSettings::gitlab();
    settings.concurrency = CONCURRENCY;
    settings.requests_per_minute = 1_000_000;
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
            ..FaultSpec::default()
        },
    );
    let options = ApplyOptions {
        config: load.config.clone(),
        ledger: tokenops::ledger::LedgerSource::Local(dir.path().join(".tokenops/state.json")),
        plan_file: None,
        lock_timeout: Duration::ZERO,
        parallel: PARALLEL,
        escrow_identity: Some(SecretString::from(
            secrecy::ExposeSecret::expose_secret(&identity).to_string(),
        )),
        crash_at: None,
        holder: "bench".to_string(),
        provide: None,
        zendesk_client_secrets: Default::default(),
        selection: Default::default(),
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
    // Discovery: one token list and one variable list per project, one probe per consumer.
    let discovery_requests = (2 * TOKENS + TOKENS * CONSUMERS) as f64;
    // Per token, sequentially: list records, rotate, and per consumer write + read + introspect.
    let per_token = (2 + 3 * CONSUMERS) as f64;
    let waves = (TOKENS as f64 / PARALLEL.min(CONCURRENCY) as f64).ceil();
    let lat = LATENCY.as_secs_f64();
    let floor = (discovery_requests / CONCURRENCY as f64).ceil() * lat + waves * per_token * lat;
    let ratio = wall.as_secs_f64() / floor;
    let flush_share = report.flush_time.as_secs_f64() / wall.as_secs_f64();
    // What the flushes add to the critical path: each token waits for its own durable
    // writes (intent, escrow) in turn, and tokens run in waves of `parallel`.
    let wait_per_token = report.flush_wait.as_secs_f64() / TOKENS as f64;
    let critical = wait_per_token * waves;
    let critical_share = critical / wall.as_secs_f64();
    println!(
        "apply benchmark: {TOKENS} due tokens x {CONSUMERS} consumers, {} ms latency",
        LATENCY.as_millis()
    );
    println!("  parallel tokens {PARALLEL}, requests in flight per instance {CONCURRENCY}");
    println!("  requests            {}", stats.total);
    println!("  wall time           {:.2} s", wall.as_secs_f64());
    println!(
        "  latency floor       {floor:.2} s ({per_token} sequential requests per token, {waves} waves, + discovery)"
    );
    println!("  ratio               {ratio:.2} (target <= 1.5)");
    println!(
        "  ledger flushes      {} writes, {:.3} s = {:.1}% of wall time (target < 10%)",
        report.flushes,
        report.flush_time.as_secs_f64(),
        flush_share * 100.0
    );
    println!(
        "  flush waits         {:.1} ms per token, x {waves} waves = {critical:.3} s = {:.1}% of wall time on the critical path (target < 10%)",
        wait_per_token * 1000.0,
        critical_share * 100.0
    );
}
