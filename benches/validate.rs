//! Benchmark of `tokenops validate` on a large estate: 10,000 tokens with 30,000 consumers in
//! 200 manifest files. Prints wall time and peak memory (VmHWM). Target: under 1 s and under
//! 150 MiB. Run with `cargo bench --bench validate`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use tokenops::manifest::LoadOptions;
use tokenops::ops::{self, Outcome};

const FILES: usize = 200;
const TOKENS_PER_FILE: usize = 50;

const CONFIG: &str = "version: 1
gitlab:
  - name: gitlab.com
    url: https://gitlab.com
    token_env: GITLAB_TOKEN
zendesk:
  - name: global
    url: https://example.zendesk.com
    client_id_env: ZENDESK_GLOBAL_CLIENT_ID
    client_secret_env: ZENDESK_GLOBAL_CLIENT_SECRET
  - name: us-government
    url: https://example-federal.zendesk.com
    client_id_env: ZENDESK_USGOV_CLIENT_ID
    client_secret_env: ZENDESK_USGOV_CLIENT_SECRET
defaults:
  rotation: { rotate_before: 21d, lifetime: 365d, strategy: rotate, mode: auto }
";

fn token(out: &mut String, n: usize) {
    let id = format!("token-{n:05}");
    let _ = writeln!(
        out,
        "  - id: {id}\n    description: Benchmark token number {n}"
    );
    let _ = match n % 4 {
        0 => writeln!(
            out,
            "    gitlab_project_access_token:\n      gitlab: gitlab.com\n      project: support/ops/p{n}\n      name: bot-{n}\n      scopes: [api, read_repository]\n      access_level: developer\n    rotation: {{ rotate_before: 30d }}"
        ),
        1 => writeln!(
            out,
            "    gitlab_personal_access_token:\n      gitlab: gitlab.com\n      user: support-ops-bot\n      name: automation-{n}\n      scopes: [read_api]"
        ),
        2 => writeln!(
            out,
            "    zendesk_oauth_token:\n      zendesk: global\n      client: tokenops_{n}\n      scopes: [tickets:read, tickets:write]\n    rotation: {{ rotate_before: 7d }}"
        ),
        _ => writeln!(
            out,
            "    generated_secret:\n      length: 48\n      alphabet: alphanumeric\n    rotation: {{ lifetime: 90d, rotate_before: 14d }}"
        ),
    };
    let _ = writeln!(
        out,
        "    consumers:
      - gitlab_ci_variable:
          gitlab: gitlab.com
          project: support/ops/p{n}
          key: TOKEN_{n}
          masked: true
          protected: true
      - zendesk_app_setting:
          zendesk: us-government
          app: App {n}
          setting: api_token
      - gitlab_webhook:
          gitlab: gitlab.com
          group: support/ops
          url: https://hooks.example.com/{n}"
    );
}

fn generate(dir: &Path) {
    std::fs::write(dir.join("tokenops.yaml"), CONFIG).expect("write config");
    for f in 0..FILES {
        let sub = dir.join("manifests").join(format!("team-{:02}", f % 20));
        std::fs::create_dir_all(&sub).expect("create dir");
        let mut text = String::from("tokens:\n");
        for t in 0..TOKENS_PER_FILE {
            token(&mut text, f * TOKENS_PER_FILE + t);
        }
        std::fs::write(sub.join(format!("file-{f:03}.yaml")), text).expect("write manifest");
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    generate(tmp.path());
    if let Ok(keep) = std::env::var("TOKENOPS_BENCH_KEEP") {
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::create_dir_all(&keep).expect("create keep dir");
        let _ = std::process::Command::new("cp")
            .arg("-r")
            .arg(tmp.path().join("manifests"))
            .arg(tmp.path().join("tokenops.yaml"))
            .arg(&keep)
            .status();
    }
    let bytes: u64 = walk_size(&tmp.path().join("manifests"));
    // Start the peak-memory figure afresh so it measures validation, not the generator.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let options = ops::validate::Options {
        load: LoadOptions {
            config: tmp.path().join("tokenops.yaml"),
            manifests: tmp.path().join("manifests"),
        },
        quiet: false,
    };
    let mut report = Vec::new();
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let outcome = ops::validate::run(&options, &mut report).expect("validate");
    let wall = start.elapsed();
    let cpu = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let report = String::from_utf8_lossy(&report);
    assert_eq!(outcome, Outcome::Success, "{report}");
    println!(
        "validate: {FILES} files, {} tokens, {} consumers, {:.1} MiB of YAML",
        FILES * TOKENS_PER_FILE,
        FILES * TOKENS_PER_FILE * 3,
        bytes as f64 / 1048576.0
    );
    println!("  report: {}", report.trim());
    println!("  wall time: {:.3} s (target < 1 s)", wall.as_secs_f64());
    if let Some(cpu) = cpu {
        println!("  CPU time (all threads): {cpu:.3} s");
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let one_minute = load.split_whitespace().next().unwrap_or("?");
        println!("  machine load average while measuring: {one_minute}");
    }
    match status_kib("VmHWM:") {
        Some(kib) => println!(
            "  peak memory (VmHWM{}): {:.1} MiB (target < 150 MiB)",
            if reset {
                ", reset before validating"
            } else {
                ", whole process"
            },
            kib as f64 / 1024.0
        ),
        None => println!("  peak memory: not available (no /proc/self/status)"),
    }
}

/// User + system CPU time of this process, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn walk_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            total += walk_size(&path);
        } else {
            total += entry.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    total
}
