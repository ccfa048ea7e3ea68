//! Exit codes scripts can trust: a usage error (unknown flag, bad value, missing argument)
//! exits 1 like any other error, so that 2 keeps meaning only "changes pending" (plan
//! --detailed-exitcode) or "tokens expiring" (check). `--help` and `--version` succeed.

use crate::scenario::plain_command as tokenops;

fn code_and_stderr(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tokenops(dir.path())
        .args(args)
        .output()
        .expect("run tokenops");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_mistyped_flag_exits_1_not_the_expiring_code() {
    // The check job allows exit 2 (tokens expiring); a typo there must fail the job.
    let (code, stderr) = code_and_stderr(&["check", "--report-isue"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--report-isue"), "names the flag: {stderr}");
    assert!(
        stderr.contains("--report-issue"),
        "suggests the fix: {stderr}"
    );
}

#[test]
fn usage_errors_exit_1() {
    for args in [
        &["plan", "--format", "yaml"][..],
        &["plan", "--detailed-exitcod"],
        &["apply", "--lock-timeout", "soon"],
        &["unlock"],
        &["no-such-command"],
        &[],
    ] {
        let (code, stderr) = code_and_stderr(args);
        assert_eq!(code, Some(1), "tokenops {}: {stderr}", args.join(" "));
        assert!(!stderr.is_empty(), "tokenops {} explains", args.join(" "));
    }
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = tokenops(dir.path()).args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "tokenops {}", args.join(" "));
        assert!(!out.stdout.is_empty(), "tokenops {} prints", args.join(" "));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let help = tokenops(dir.path()).arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("usage error"),
        "the exit codes are in --help: {text}"
    );
}
