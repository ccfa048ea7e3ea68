//! Benchmark of `tokenops plan` against the sandbox, run as the shipped binary with its
//! default settings: 500 projects, 2,000 declared tokens and 6,000 consumers, 20 ms latency on
//! every request. Prints the request count against the minimum the plan needs, wall time
//! against the latency floor, the speed-up over one request at a time (`--concurrency 1`),
//! behaviour under GitLab.com's 2,000 requests/minute budget, and peak memory.
//!
//! Run with `cargo bench --bench plan` (TOKENOPS_BENCH_PROJECTS changes the estate size).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use tokenops::ledger::{Ledger, LedgerToken};
use tokenops::manifest::{LoadOptions, TokenKind};
use tokenops::sandbox::state::gitlab::TokenOwner;
use tokenops::sandbox::{FaultSpec, Sandbox, SandboxHandle, SandboxOptions, Seed};

const TOKENS_PER_PROJECT: usize = 4;
const LATENCY: Duration = Duration::from_millis(20);

fn seed(projects: usize) -> String {
    let mut s = String::from(
        "gitlab:\n  - name: gitlab.com\n    admin: tokenops-admin\n    users:\n      \
         - { username: tokenops-admin, name: tokenops, admin: true }\n    groups:\n      \
         - { path: bench }\n    projects:\n",
    );
    for p in 0..projects {
        let _ = writeln!(s, "      - {{ path: bench/p{p} }}");
    }
    s.push_str("    tokens:\n");
    for p in 0..projects {
        for t in 0..TOKENS_PER_PROJECT {
            let _ = writeln!(
                s,
                "      - {{ ref: t{p}-{t}, project: bench/p{p}, name: token-{t}, scopes: [api], \
                 access_level: developer, expires_at: +200d, created_at: -10d }}"
            );
        }
    }
    s.push_str("    hooks:\n");
    for p in 0..projects {
        for t in 0..TOKENS_PER_PROJECT {
            let _ = writeln!(
                s,
                "      - {{ project: bench/p{p}, url: \"https://hooks.example.com/p{p}/{t}\", \
                 token: {{ value_of: t{p}-{t} }} }}"
            );
        }
    }
    s.push_str("    variables:\n");
    for p in 0..projects {
        for t in 0..TOKENS_PER_PROJECT {
            for suffix in ["A", "B"] {
                let _ = writeln!(
                    s,
                    "      - {{ project: bench/p{p}, key: T{t}_{suffix}, value: {{ value_of: \
                     t{p}-{t} }}, masked: true }}"
                );
            }
        }
    }
    s
}

fn manifests(dir: &Path, projects: usize) {
    std::fs::write(
        dir.join("tokenops.yaml"),
        "version: 1\ngitlab:\n  - { name: gitlab.com, url: \"https://gitlab.example.com\", \
         token_env: GITLAB_TOKEN }\nstate: { backend: local, path: state.json }\n",
    )
    .unwrap();
    let files = 50.min(projects.max(1));
    let per_file = projects.div_ceil(files);
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    for f in 0..files {
        let mut text = String::from("tokens:\n");
        for p in (f * per_file)..((f + 1) * per_file).min(projects) {
            for t in 0..TOKENS_PER_PROJECT {
                let _ = write!(
                    text,
                    "  - id: p{p}-t{t}\n    gitlab_project_access_token: {{ gitlab: gitlab.com, \
                     project: bench/p{p}, name: token-{t}, scopes: [api], access_level: developer \
                     }}\n    consumers:\n      - gitlab_ci_variable: {{ gitlab: gitlab.com, \
                     project: bench/p{p}, key: T{t}_A, masked: true }}\n      - \
                     gitlab_ci_variable: {{ gitlab: gitlab.com, project: bench/p{p}, key: \
                     T{t}_B, masked: true }}\n      - gitlab_webhook: {{ gitlab: gitlab.com, \
                     project: bench/p{p}, url: \"https://hooks.example.com/p{p}/{t}\" }}\n"
                );
            }
        }
        std::fs::write(dir.join("manifests").join(format!("f{f}.yaml")), text).unwrap();
    }
}

/// The steady state: a ledger that knows the fingerprint of every current value and of what
/// each write-only consumer holds, as after tokenops has managed the estate once.
fn steady_ledger(dir: &Path, sandbox: &SandboxHandle) {
    let desired = tokenops::manifest::load(&LoadOptions {
        config: dir.join("tokenops.yaml"),
        manifests: dir.join("manifests"),
    })
    .expect("bench manifests validate");
    let mut ledger = Ledger {
        fingerprint_key: "bench-key".into(),
        ..Ledger::default()
    };
    let values: std::collections::HashMap<(String, String), String> = sandbox.with_state(|w| {
        let g = &w.gitlab["gitlab.com"];
        g.tokens
            .values()
            .filter(|t| !t.revoked)
            .filter_map(|t| {
                let TokenOwner::Project(id) = t.owner else {
                    return None;
                };
                let project = g.projects.get(&id)?;
                Some((
                    (project.path_with_namespace.clone(), t.name.clone()),
                    t.value.reveal().to_string(),
                ))
            })
            .collect()
    });
    for token in &desired.tokens {
        let TokenKind::GitlabProjectAccessToken(t) = &token.spec.kind else {
            continue;
        };
        let value = SecretString::from(values[&(t.project.clone(), t.name.clone())].clone());
        let fp = ledger.fingerprint(&value).unwrap();
        let mut record = LedgerToken {
            fingerprint: Some(fp.clone()),
            ..LedgerToken::default()
        };
        for consumer in &token.spec.consumers {
            if let Some(key) = consumer.key() {
                record.consumers.insert(key.0, fp.clone());
            }
        }
        ledger.tokens.insert(token.spec.id.clone(), record);
    }
    std::fs::write(dir.join("state.json"), serde_json::to_vec(&ledger).unwrap()).unwrap();
}

struct Run {
    wall: Duration,
    requests: u64,
    too_many: u64,
    max_rss_kib: i64,
}

fn run_plan(dir: &Path, sandbox: &SandboxHandle, args: &[&str]) -> Run {
    sandbox.clear_requests();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokenops"));
    cmd.current_dir(dir)
        .args(["plan", "--format", "json"])
        .args(args)
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            sandbox.gitlab_url("gitlab.com"),
        )
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_TOKEN",
            sandbox.gitlab_admin_token("gitlab.com").expose_secret(),
        )
        .env("TOKENOPS_NOW", sandbox.clock().now().to_string())
        .stdout(std::process::Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("tokenops runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child process.
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    // Already reaped by wait4; this only satisfies the Child bookkeeping.
    let _ = child.wait();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "plan failed"
    );
    let stats = sandbox.requests();
    Run {
        wall,
        requests: stats.total,
        too_many: stats.by_status.get(&429).copied().unwrap_or(0),
        max_rss_kib: usage.ru_maxrss,
    }
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let projects: usize = std::env::var("TOKENOPS_BENCH_PROJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Real time, so that the sandbox's RateLimit-Reset and the client's clock agree.
    let now = jiff::Timestamp::now();
    let seed = Seed::from_yaml_str(&seed(projects), "<bench>").unwrap();
    let sandbox = rt
        .block_on(Sandbox::start(seed, SandboxOptions::at(now)))
        .unwrap();
    // The sandbox clock follows real time, so its per-minute budget is a real one.
    let clock = sandbox.clock().clone();
    let started = Instant::now();
    rt.spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let elapsed = jiff::SignedDuration::try_from(started.elapsed()).unwrap_or_default();
            clock.set(now.checked_add(elapsed).unwrap_or(now));
        }
    });
    sandbox.faults().set(
        "*",
        FaultSpec {
            latency: LATENCY,
            ..FaultSpec::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    manifests(dir.path(), projects);
    steady_ledger(dir.path(), &sandbox);

    let tokens = projects * TOKENS_PER_PROJECT;
    println!(
        "estate: {projects} projects, {tokens} declared tokens, {} consumers, {} ms latency",
        tokens * 3,
        LATENCY.as_millis()
    );
    // The plan needs, per project, one page each of access tokens, CI/CD variables and hooks
    // (every list is under 100 items); with every value fingerprinted in the ledger, no
    // consumer value needs asking the platform about.
    let minimum = (projects * 3) as u64;

    let fast = run_plan(dir.path(), &sandbox, &[]);
    let floor = LATENCY.as_secs_f64() * fast.requests as f64 / 16.0;
    println!(
        "steady state, shipped defaults (16 in flight): {} requests (minimum {minimum}: ratio {:.3}); {:.2} s \
         wall, latency floor {:.2} s (ratio {:.2}); peak RSS {:.1} MiB",
        fast.requests,
        fast.requests as f64 / minimum as f64,
        fast.wall.as_secs_f64(),
        floor,
        fast.wall.as_secs_f64() / floor,
        mib(fast.max_rss_kib)
    );
    let slow = run_plan(dir.path(), &sandbox, &["--concurrency", "1"]);
    println!(
        "steady state, concurrency 1 (one request at a time, like the old weekly script): {} \
         requests, {:.2} s wall; the shipped defaults are {:.1}x faster (target >= 10x)",
        slow.requests,
        slow.wall.as_secs_f64(),
        slow.wall.as_secs_f64() / fast.wall.as_secs_f64()
    );

    // First adoption: no ledger yet, so every readable consumer value is introspected once.
    std::fs::remove_file(dir.path().join("state.json")).unwrap();
    sandbox.faults().set(
        "*",
        FaultSpec {
            latency: LATENCY,
            budget_per_minute: Some(2000),
            ..FaultSpec::default()
        },
    );
    let budget = run_plan(dir.path(), &sandbox, &[]);
    let first_minimum = minimum + (tokens * 2) as u64;
    // With 2,000 requests per clock minute, request n goes no earlier than minute
    // floor((n - 1) / 2000); add one latency for its answer.
    let budget_floor =
        (budget.requests.saturating_sub(1) / 2000) as f64 * 60.0 + LATENCY.as_secs_f64();
    println!(
        "first run (no ledger) under a 2,000/min budget, default client settings: {} requests \
         (minimum {first_minimum}), {} answered 429; {:.1} s wall, budget floor {:.1} s (ratio \
         {:.3}); peak RSS {:.1} MiB",
        budget.requests,
        budget.too_many,
        budget.wall.as_secs_f64(),
        budget_floor,
        budget.wall.as_secs_f64() / budget_floor,
        mib(budget.max_rss_kib)
    );
    rt.block_on(sandbox.shutdown());
}
