//! The `command` consumer: apply runs the write command with the value on stdin and the
//! verify command after it; plan never runs either. A write that times out, a verify that
//! fails, a command that prints the value and a program missing from PATH each end in a
//! clear per-token result with the value kept in escrow, and the next apply with a working
//! command converges.

use std::os::unix::fs::PermissionsExt;

use crate::scenario::{GITLAB_MANIFEST, Scenario};

const MANUAL: &str = "- manual: { instructions: Update the ops-bot token in the team vault. }";

/// Receivers as scripts in the project's `bin/`: `store` keeps a digest of the value it is
/// given, `check` compares one, the others misbehave.
const SCRIPTS: [(&str, &str); 5] = [
    (
        "store",
        "#!/bin/sh\nsha256sum > held.sha\necho write >> writes.log\n",
    ),
    (
        "check",
        "#!/bin/sh\n[ \"$(sha256sum)\" = \"$(cat held.sha)\" ]\n",
    ),
    ("slow", "#!/bin/sh\nexec sleep 30\n"),
    (
        "chatty",
        "#!/bin/sh\necho \"received $(cat) for the vault\"\nexit 1\n",
    ),
    (
        "refuse",
        "#!/bin/sh\necho 'the vault says no' >&2\nexit 3\n",
    ),
];

fn command(write: &str, verify: Option<&str>, extra: &str) -> String {
    let verify = verify
        .map(|v| format!(", verify: [{v}]"))
        .unwrap_or_default();
    format!("- command: {{ name: team-vault, write: [{write}]{verify}{extra} }}")
}

/// The GitLab example with the ops-bot token's vault step as `command`.
fn scenario(consumer: &str) -> Scenario {
    let sc = Scenario::gitlab_example()
        .manifest("gitlab.yaml", &GITLAB_MANIFEST.replace(MANUAL, consumer))
        .start();
    for (name, text) in SCRIPTS {
        let path = sc.write(&format!("bin/{name}"), text);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    sc
}

fn line_of<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(&format!(" {id}: ")))
        .unwrap_or_else(|| panic!("no summary line for {id}:\n{out}"))
}

fn sha256(value: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn ops_bot_value(sc: &Scenario) -> String {
    sc.with_gitlab(|gl| {
        gl.variables
            .iter()
            .find(|v| v.key == "OPS_BOT_TOKEN")
            .expect("OPS_BOT_TOKEN")
            .value
            .reveal()
            .to_string()
    })
}

/// The receiver holds the digest of what the ops-bot variable holds, and that value works.
fn assert_vault_holds_the_live_value(sc: &Scenario) {
    let value = ops_bot_value(sc);
    let now = sc.now();
    assert!(sc.with_gitlab(|gl| gl.authenticates(&value, now).is_some()));
    let held = std::fs::read_to_string(sc.path().join("held.sha")).expect("held.sha");
    assert!(
        held.starts_with(&sha256(&value)),
        "the vault holds another value"
    );
}

#[test]
fn command_consumer_writes_and_verifies_on_apply_and_plan_never_runs_it() {
    let sc = scenario(&command("bin/store", Some("bin/check"), ", timeout: 10s"));
    let plan = sc.run(&["plan"], 0);
    assert!(
        plan.stdout
            .contains("~ write command team-vault (`bin/store`)"),
        "{}",
        plan.stdout
    );
    assert!(!sc.path().join("held.sha").exists(), "plan ran a command");
    let apply = sc.run(&["apply", "--auto-approve"], 0);
    assert!(line_of(&apply.stdout, "gl-ops-bot-automation").starts_with("done"));
    assert_vault_holds_the_live_value(&sc);
    let again = sc.run(&["plan", "--detailed-exitcode"], 0);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
}

/// A failing command leaves the token pending with `why` in its line; the value is kept and
/// the next apply with a working command converges.
fn fails_then_converges(consumer: &str, why: &[&str]) {
    fails_then_converges_after(consumer, why, |_| {});
}

/// [`fails_then_converges`], with `after_failure` looking at the receiver in between.
fn fails_then_converges_after(consumer: &str, why: &[&str], after_failure: impl Fn(&Scenario)) {
    let sc = scenario(consumer);
    let apply = sc.run(&["apply", "--auto-approve"], 1);
    let line = line_of(&apply.stdout, "gl-ops-bot-automation");
    assert!(line.starts_with("pending"), "{line}");
    for w in why {
        assert!(line.contains(w), "{w:?} missing from: {line}");
    }
    assert!(
        sc.ledger().contains("\"pending\""),
        "the value is kept in escrow"
    );
    after_failure(&sc);
    std::fs::write(
        sc.path().join("manifests/gitlab.yaml"),
        GITLAB_MANIFEST.replace(MANUAL, &command("bin/store", Some("bin/check"), "")),
    )
    .expect("manifest");
    let fixed = sc.run(&["apply", "--auto-approve"], 0);
    assert!(
        line_of(&fixed.stdout, "gl-ops-bot-automation").starts_with("done"),
        "{}",
        fixed.stdout
    );
    assert_vault_holds_the_live_value(&sc);
    sc.run(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn command_write_that_times_out_is_killed_and_the_value_kept() {
    fails_then_converges(
        &command("bin/slow", None, ", timeout: 1s, idempotent: false"),
        &["command team-vault", "timed out after 1s", "not retried"],
    );
}

#[test]
fn command_verify_that_fails_leaves_the_token_pending() {
    // Not idempotent: after the failed verify, the write is not run a second time.
    fails_then_converges_after(
        &command("bin/store", Some("bin/refuse"), ""),
        &["verify command", "exit code 3", "the vault says no"],
        |sc| {
            let log = std::fs::read_to_string(sc.path().join("writes.log")).expect("writes.log");
            assert_eq!(log.lines().count(), 1, "a non-idempotent write ran again");
        },
    );
}

#[test]
fn command_output_is_shown_with_the_value_removed() {
    // The chatty receiver prints the value and fails; the leak check of every run proves
    // the value absent from all output, and the rest of what it said is shown.
    fails_then_converges(
        &command("bin/chatty", None, ", idempotent: true"),
        &[
            "the write failed after 3 attempts",
            "received [value removed] for the vault",
        ],
    );
}

#[test]
fn command_missing_from_path_names_the_program() {
    fails_then_converges(
        &command("no-such-vault-cli, put", None, ", idempotent: true"),
        &[
            "`no-such-vault-cli` was not found",
            "install it or give its full path",
        ],
    );
}
