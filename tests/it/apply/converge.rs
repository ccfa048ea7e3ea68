//! The GitLab part of the demo scenario (due, expired, stale consumer) converges: plan →
//! apply PLANFILE → plan shows nothing, and no value the sandbox issued appears anywhere.

use super::{
    assert_converged, assert_no_repeated_rotate, assert_plan_empty, make_trigger_consumer_stale,
};
use crate::harness::{GITLAB_MANIFEST, SandboxRun};

/// Every secret value the sandbox issued or holds (tokens, triggers, hook secrets, variables).
pub fn every_secret(run: &SandboxRun) -> Vec<String> {
    let mut values: Vec<String> = run
        .handle
        .issued_values()
        .iter()
        .map(|v| secrecy::ExposeSecret::expose_secret(v).to_string())
        .collect();
    run.handle.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        values.extend(gl.variables.iter().map(|v| v.value.reveal().to_string()));
        values.extend(
            gl.hooks
                .values()
                .filter_map(|h| h.token.as_ref().map(|t| t.reveal().to_string())),
        );
    });
    values.retain(|v| v.len() >= 8);
    values
}

/// No secret appears in any of `texts`.
pub fn assert_no_leak(run: &SandboxRun, texts: &[(&str, String)]) {
    let secrets = every_secret(run);
    assert!(secrets.len() > 10, "the sandbox issued values to look for");
    for (name, text) in texts {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret value appears in clear in {name}"
            );
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn gitlab_demo_converges_from_a_saved_plan() {
    let run = SandboxRun::gitlab_demo();
    make_trigger_consumer_stale(&run);
    let plan = run
        .cmd(&["plan", "--out", "plan.json", "--detailed-exitcode"])
        .output()
        .expect("plan");
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stderr));
    let plan_out = text(&plan.stdout);
    assert!(plan_out.contains("ops-group-triage"), "{plan_out}");

    let apply = run.apply(&["plan.json"]);
    let stdout = text(&apply.stdout);
    assert!(
        apply.status.success(),
        "apply failed:\n{stdout}\n{}",
        text(&apply.stderr)
    );
    for id in [
        "gl-ops-bot-automation",
        "zd-global-gitlab-sync",
        "ops-group-triage",
        "trigger-reports-from-triage",
        "bridge-hook-secret",
        "triage-hook-secret",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("done") && l.contains(id)),
            "{id} not done:\n{stdout}"
        );
    }
    assert!(stdout.contains("Manual steps left to a person"), "{stdout}");
    assert!(stdout.contains("Update the ops-bot token"), "{stdout}");

    assert_converged(&run);
    assert_no_repeated_rotate(&run);
    assert_plan_empty(&run);

    let ledger = run.ledger_text();
    assert!(!ledger.contains("\"pending\""), "{ledger}");
    assert!(
        !ledger.contains("AGE ENCRYPTED"),
        "the escrow is dropped at finish"
    );

    let again = run.apply(&[]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("Nothing to apply"),
        "{}",
        text(&again.stdout)
    );

    let plan_file = std::fs::read_to_string(run.dir.path().join("plan.json")).expect("plan file");
    assert_no_leak(
        &run,
        &[
            ("plan stdout", plan_out),
            ("plan stderr", text(&plan.stderr)),
            ("apply stdout", stdout),
            ("apply stderr", text(&apply.stderr)),
            ("second apply", text(&again.stdout) + &text(&again.stderr)),
            ("plan file", plan_file),
            ("ledger", ledger),
        ],
    );
}

#[test]
fn apply_refuses_to_rotate_without_an_escrow_key() {
    let run = SandboxRun::with(GITLAB_MANIFEST, false);
    let out = run.apply(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no escrow key is configured"), "{err}");
    assert!(err.contains("recipient"), "{err}");
    let rotates = run
        .handle
        .requests()
        .entries
        .iter()
        .filter(|e| e.method == "POST")
        .count();
    assert_eq!(rotates, 0, "nothing was created or rotated");
}

#[test]
fn a_saved_plan_is_refused_once_live_state_moved() {
    let run = SandboxRun::gitlab_demo();
    let plan = run
        .cmd(&["plan", "--out", "plan.json"])
        .output()
        .expect("plan");
    assert!(plan.status.success());
    // Someone revokes a token by hand after the plan was reviewed.
    run.handle.with_state(|w| {
        let gl = w.gitlab.get_mut("gitlab.com").expect("gitlab.com");
        let t = gl
            .tokens
            .values_mut()
            .find(|t| t.name == "bridge-deploy")
            .expect("bridge-deploy");
        t.revoked = true;
    });
    let out = run.apply(&["plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("is stale"), "{err}");
    assert!(err.contains("tokenops plan --out"), "{err}");
}

#[test]
fn apply_needs_auto_approve_without_a_terminal() {
    let run = SandboxRun::gitlab_demo();
    let out = run.cmd(&["apply"]).output().expect("apply");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--auto-approve"));
    assert!(run.ledger_text().is_empty(), "nothing was touched");
}
