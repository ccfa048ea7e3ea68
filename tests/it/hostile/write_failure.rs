//! A ledger write that fails mid-run (here: the file-size limit of the process, which fails
//! a write the way a full disk does) ends with an error that names the ledger, says what the
//! ledger on disk still holds and what to do, and leaves no temporary file behind.

use std::os::unix::process::CommandExt;
use std::process::Command;

use secrecy::ExposeSecret;

use crate::harness::SandboxRun;

/// `tokenops apply --auto-approve` against `run`, with writes larger than `limit` bytes
/// failing (EFBIG) as on a full disk.
pub fn apply_with_file_limit(run: &SandboxRun, limit: u64) -> std::process::Output {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("tokenops"));
    cmd.current_dir(run.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            run.handle.gitlab_url("gitlab.com"),
        )
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_TOKEN",
            run.handle.gitlab_admin_token("gitlab.com").expose_secret(),
        )
        .env("TOKENOPS_ESCROW_IDENTITY", &run.identity)
        .args(["--now", &run.now, "apply", "--auto-approve"]);
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

fn leftovers(run: &SandboxRun) -> Vec<String> {
    std::fs::read_dir(run.dir.path().join(".tokenops"))
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
        let run = SandboxRun::gitlab_demo();
        let out = apply_with_file_limit(&run, limit);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let all = format!("{stdout}\n{stderr}");
        assert_eq!(out.status.code(), Some(1), "limit {limit}: {all}");
        assert!(!all.contains("panicked"), "{all}");
        assert!(
            all.contains("cannot write the ledger"),
            "limit {limit}: {all}"
        );
        assert!(all.contains(".tokenops/state.json"), "{all}");
        assert!(all.contains("run apply again"), "{all}");
        assert!(!all.contains("cannot read the ledger"), "{all}");
        assert_eq!(leftovers(&run), Vec::<String>::new(), "limit {limit}");
        run.handle.issued_values().iter().for_each(|v| {
            assert!(!all.contains(v.expose_secret()), "a value leaked: {all}");
        });
        // What is on disk is still a ledger the next run can read.
        let text = run.ledger_text();
        if !text.is_empty() {
            tokenops::ledger::document::parse(text.as_bytes(), "state.json")
                .unwrap_or_else(|e| panic!("limit {limit}: the ledger on disk is damaged: {e}"));
        }
        // Once the cause is gone, the next apply finishes what was left.
        let again = run.apply(&[]);
        assert!(
            again.status.success(),
            "limit {limit}, the next apply: {}",
            String::from_utf8_lossy(&again.stdout)
        );
        crate::apply::assert_converged(&run);
        assert!(
            !run.ledger_text().contains("\"pending\""),
            "{}",
            run.ledger_text()
        );
    }
}
