//! A ledger write that fails mid-run (here: the file-size limit of the process, which fails
//! a write the way a full disk does) ends with the per-token summary, then one error that
//! names the ledger, says what the ledger on disk still holds and what to do, and leaves no
//! temporary file behind. No consumer is left holding a value a rotation replaced: a value
//! already obtained reaches its consumers even when the ledger cannot record it. The next
//! apply, once the cause is gone, finishes what was left.

use std::os::unix::process::CommandExt;
use std::process::Command;

use secrecy::{ExposeSecret, SecretString};

use crate::scenario::Scenario;

/// A GitLab example scenario whose escrow recipient is one this test holds the identity of,
/// so that it can run the binary itself (with a file-size limit).
pub fn own_escrow() -> (Scenario, SecretString) {
    let mut sc = Scenario::gitlab_example().start();
    let (identity, recipient) = tokenops::ops::apply::escrow::generate_identity();
    sc.set_config(|c| c.escrow.as_mut().expect("escrow on").recipient = recipient);
    (sc, identity)
}

/// `tokenops apply --auto-approve` against `sc`, with writes larger than `limit` bytes
/// failing (EFBIG) as on a full disk.
pub fn apply_with_file_limit(
    sc: &Scenario,
    identity: &SecretString,
    limit: u64,
) -> std::process::Output {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("tokenops"));
    cmd.current_dir(sc.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove(tokenops::cli::apply::CRASH_ENV)
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            sc.sandbox.gitlab_url("gitlab.com"),
        )
        .env("TOKENOPS_GITLAB_GITLAB_COM_TOKEN", sc.admin())
        .env("TOKENOPS_ESCROW_IDENTITY", identity.expose_secret())
        .env(tokenops::cli::env::NOW_VAR, sc.now().to_string())
        .args(["apply", "--auto-approve", "--parallel", "1"]);
    // The test may itself run in a CI job; tokenops would then refuse the local ledger.
    for var in crate::scenario::CI_VARIABLES {
        cmd.env_remove(var);
    }
    // SAFETY: between fork and exec only async-signal-safe calls are made (signal, setrlimit).
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let rlim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rlim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("run tokenops apply")
}

fn leftovers(sc: &Scenario) -> Vec<String> {
    std::fs::read_dir(sc.path().join(".tokenops"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs apply with the file-size `limit` and checks what holds whatever the limit: exit 0
/// or 1, no panic, no secret, no temporary file, a readable ledger, no consumer on a
/// replaced value, and convergence on the next run. Returns stdout and stderr.
fn apply_failing_at(limit: u64) -> (Option<i32>, String, String) {
    let (sc, identity) = own_escrow();
    let live_before = variables_on_live_values(&sc);
    let out = apply_with_file_limit(&sc, &identity, limit);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let all = format!("{stdout}\n{stderr}");
    sc.assert_no_secret_in("apply with a failing ledger", &all);
    assert!(!all.contains(identity.expose_secret()), "{all}");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "limit {limit}: {all}"
    );
    assert!(!all.contains("panicked"), "{all}");
    assert!(!all.contains("cannot read the ledger"), "{all}");
    assert_eq!(leftovers(&sc), Vec::<String>::new(), "limit {limit}");
    // What is on disk is still a ledger the next run can read.
    let text = sc.ledger();
    if !text.is_empty() {
        tokenops::ledger::document::parse(text.as_bytes(), "state.json")
            .unwrap_or_else(|e| panic!("limit {limit}: the ledger on disk is damaged: {e}"));
    }
    assert_still_on_live_values(&sc, &live_before, limit, &all);
    // Once the cause is gone, the next apply finishes what was left.
    sc.cmd(&["apply", "--auto-approve"])
        .env("TOKENOPS_ESCROW_IDENTITY", identity.expose_secret())
        .expect(0);
    crate::apply::assert_converged(&sc);
    assert!(!sc.ledger().contains("\"pending\""), "{}", sc.ledger());
    (out.status.code(), stdout, stderr)
}

/// The token variables that hold a value GitLab accepts.
fn variables_on_live_values(sc: &Scenario) -> Vec<String> {
    let now = sc.now();
    sc.sandbox.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        gl.variables
            .iter()
            .filter(|v| v.key.ends_with("_TOKEN"))
            .filter(|v| {
                gl.token_by_value(v.value.reveal())
                    .is_some_and(|t| t.active(now))
            })
            .map(|v| format!("{} ({})", v.key, v.environment_scope))
            .collect()
    })
}

/// A failed ledger write never leaves a consumer on the value a rotation just replaced: every
/// variable that held a live value before the run still does.
fn assert_still_on_live_values(sc: &Scenario, before: &[String], limit: u64, output: &str) {
    let after = variables_on_live_values(sc);
    for v in before {
        assert!(
            after.contains(v),
            "limit {limit}: {v} holds a dead value after the run\n{output}"
        );
    }
}

#[test]
fn a_failed_first_ledger_write_changes_nothing_and_says_what_to_do() {
    // 300 bytes: the very first write fails, before any platform call.
    let (code, stdout, stderr) = apply_failing_at(300);
    let all = format!("{stdout}\n{stderr}");
    assert_eq!(code, Some(1), "{all}");
    assert!(all.contains("cannot write the ledger"), "{all}");
    assert!(all.contains(".tokenops/state.json"), "{all}");
    assert!(all.contains("run apply again"), "{all}");
}

#[test]
fn a_ledger_write_failing_mid_run_still_reports_every_token_and_strands_no_consumer() {
    // The ledger grows as values are escrowed and shrinks as rotations finish, so across
    // these limits writes fail at every point of the run (one token at a time, so each limit
    // fails at the same point every time): before a platform call, after a value was
    // obtained, at the end. Whatever the point, `apply_failing_at` checks that no consumer
    // is left on a replaced value and that the next run converges.
    let mut rescued = 0;
    for limit in (500..=3_000).step_by(50) {
        let (code, stdout, stderr) = apply_failing_at(limit);
        let all = format!("{stdout}\n{stderr}");
        if code != Some(1) || !stdout.contains("Summary:") {
            continue;
        }
        // The per-token summary comes first, every token of the run in it...
        for id in [
            "bridge-hook-secret",
            "gl-ops-bot-automation",
            "ops-group-triage",
            "triage-hook-secret",
            "zd-global-gitlab-sync",
        ] {
            assert!(
                stdout.contains(&format!(" {id}: ")),
                "limit {limit}: {id}\n{all}"
            );
        }
        // ...then the ledger's error, once.
        assert!(
            all.matches("error: cannot write the ledger").count() <= 1,
            "{all}"
        );
        if stdout.contains("the ledger on disk does not show this rotation") {
            // A value obtained while the ledger could not be written reached its consumers.
            assert!(
                stderr.contains("cannot write the ledger"),
                "limit {limit}: {all}"
            );
            assert!(stderr.contains("run apply again"), "limit {limit}: {all}");
            rescued += 1;
        }
    }
    assert!(
        rescued > 0,
        "no limit failed the write of an obtained value and the run's last write"
    );
}
