//! Sandbox benchmark: simple GET throughput on loopback with 64 concurrent clients, and the
//! time to parse and load a seed of 2,000 projects and 10,000 tokens. Prints its figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use tokenops::sandbox::{Sandbox, SandboxOptions, Seed};

const CLIENTS: usize = 64;
const RUN_FOR: Duration = Duration::from_secs(5);
const PROJECTS: usize = 2_000;
const TOKENS_PER_PROJECT: usize = 5;

fn now() -> jiff::Timestamp {
    "2026-11-28T09:00:00Z".parse().expect("constant time")
}

fn big_seed() -> String {
    let mut y = String::with_capacity(2 << 20);
    y.push_str("gitlab:\n  - name: gitlab.com\n    admin: root\n    users: [{ username: root, admin: true }]\n    groups:\n      - { path: big }\n");
    for g in 0..20 {
        y.push_str(&format!("      - {{ path: big/g{g:02} }}\n"));
    }
    y.push_str("    projects:\n");
    for p in 0..PROJECTS {
        y.push_str(&format!("      - {{ path: big/g{:02}/p{p:04} }}\n", p % 20));
    }
    y.push_str("    tokens:\n");
    for p in 0..PROJECTS {
        for t in 0..TOKENS_PER_PROJECT {
            y.push_str(&format!(
                "      - {{ project: big/g{:02}/p{p:04}, name: bot-{t}, scopes: [api], access_level: developer, expires_at: +{}d }}\n",
                p % 20,
                10 + (p * 7 + t) % 300
            ));
        }
    }
    y
}

async fn seed_load() {
    let text = big_seed();
    let started = Instant::now();
    let seed = Seed::from_yaml_str(&text, "<bench seed>").expect("bench seed parses");
    let parsed = started.elapsed();
    let sb = Sandbox::start(seed, SandboxOptions::at(now()))
        .await
        .expect("sandbox starts");
    let total = started.elapsed();
    let tokens = sb.with_state(|w| w.gitlab["gitlab.com"].tokens.len());
    println!(
        "seed load: {PROJECTS} projects, {tokens} tokens ({} KiB of YAML): parse {:.0} ms, parse + load + listen {:.0} ms",
        text.len() / 1024,
        parsed.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3
    );
    sb.shutdown().await;
}

async fn throughput() {
    let sb = Sandbox::start(Seed::default_demo(), SandboxOptions::at(now()))
        .await
        .expect("sandbox starts");
    let url = format!(
        "{}/api/v4/personal_access_tokens/self",
        sb.gitlab_url("gitlab.com")
    );
    let token = sb
        .gitlab_admin_token("gitlab.com")
        .expose_secret()
        .to_string();
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + RUN_FOR;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url, token, done, failed) = (
            client.clone(),
            url.clone(),
            token.clone(),
            done.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match client
                    .get(&url)
                    .header("PRIVATE-TOKEN", &token)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = done.load(Ordering::Relaxed);
    println!(
        "throughput: {CLIENTS} clients, GET /personal_access_tokens/self for {:.1} s: {ok} ok, {} failed, {:.0} requests/s",
        secs,
        failed.load(Ordering::Relaxed),
        ok as f64 / secs
    );
    println!("request log: {} entries", sb.requests().total);
    sb.shutdown().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        seed_load().await;
        throughput().await;
    });
}
