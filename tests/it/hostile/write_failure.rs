//! A ledger write that fails mid-run (here: the file-size limit of the process, which fails
//! a write the way a full disk does) ends with an error that names the ledger, says what the
//! ledger on disk still holds and what to do, and leaves no temporary file behind; the next
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
        .args(["apply", "--auto-approve"]);
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

#[test]
fn a_failed_ledger_write_says_what_to_do_and_leaves_no_temporary_file() {
    // 300 bytes: the very first write fails; 3,000: a write after tokens were rotated.
    for limit in [300, 3_000] {
        let (sc, identity) = own_escrow();
        let out = apply_with_file_limit(&sc, &identity, limit);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let all = format!("{stdout}\n{stderr}");
        sc.assert_no_secret_in("apply with a failing ledger", &all);
        assert!(!all.contains(identity.expose_secret()), "{all}");
        assert_eq!(out.status.code(), Some(1), "limit {limit}: {all}");
        assert!(!all.contains("panicked"), "{all}");
        assert!(
            all.contains("cannot write the ledger"),
            "limit {limit}: {all}"
        );
        assert!(all.contains(".tokenops/state.json"), "{all}");
        assert!(all.contains("run apply again"), "{all}");
        assert!(!all.contains("cannot read the ledger"), "{all}");
        assert_eq!(leftovers(&sc), Vec::<String>::new(), "limit {limit}");
        // What is on disk is still a ledger the next run can read.
        let text = sc.ledger();
        if !text.is_empty() {
            tokenops::ledger::document::parse(text.as_bytes(), "state.json")
                .unwrap_or_else(|e| panic!("limit {limit}: the ledger on disk is damaged: {e}"));
        }
        // Once the cause is gone, the next apply finishes what was left.
        sc.cmd(&["apply", "--auto-approve"])
            .env("TOKENOPS_ESCROW_IDENTITY", identity.expose_secret())
            .expect(0);
        crate::apply::assert_converged(&sc);
        assert!(!sc.ledger().contains("\"pending\""), "{}", sc.ledger());
    }
}
