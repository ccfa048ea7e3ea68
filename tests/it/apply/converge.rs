//! The GitLab part of the demo scenario (due, expired, stale consumer) converges: plan →
//! apply PLANFILE → plan shows nothing, and no value the sandbox issued appears anywhere.

use super::{
    assert_converged, assert_no_repeated_rotate, assert_plan_empty, make_trigger_consumer_stale,
};
use crate::scenario::{Exit, Scenario};

#[test]
fn gitlab_demo_converges_from_a_saved_plan() {
    let sc = Scenario::gitlab_example().start();
    make_trigger_consumer_stale(&sc);
    let plan = sc.run(&["plan", "--out", "plan.json", "--detailed-exitcode"], 2);
    assert!(plan.stdout.contains("ops-group-triage"), "{}", plan.stdout);

    let apply = sc.cmd(&["apply", "--auto-approve", "plan.json"]).expect(0);
    let stdout = &apply.stdout;
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

    assert_converged(&sc);
    assert_no_repeated_rotate(&sc);
    assert_plan_empty(&sc);

    let ledger = sc.ledger();
    assert!(!ledger.contains("\"pending\""), "{ledger}");
    assert!(
        !ledger.contains("AGE ENCRYPTED"),
        "the escrow is dropped at finish"
    );

    let again = sc.cmd(&["apply", "--auto-approve"]).expect(0);
    assert!(
        again.stdout.contains("Nothing to apply"),
        "{}",
        again.stdout
    );
    sc.read("plan.json");
}

#[test]
fn apply_refuses_to_rotate_without_an_escrow_key() {
    let sc = Scenario::gitlab_example().escrow(false).start();
    let out = sc.cmd(&["apply", "--auto-approve"]).expect(1);
    let err = &out.stderr;
    assert!(err.contains("no escrow key is configured"), "{err}");
    assert!(err.contains("recipient"), "{err}");
    let rotates = sc
        .requests()
        .entries
        .iter()
        .filter(|e| e.method == "POST")
        .count();
    assert_eq!(rotates, 0, "nothing was created or rotated");
}

#[test]
fn a_saved_plan_is_refused_once_live_state_moved() {
    let sc = Scenario::gitlab_example().start();
    sc.cmd(&["plan", "--out", "plan.json"]).expect(0);
    // Someone revokes a token by hand after the plan was reviewed.
    sc.with_gitlab(|gl| {
        let t = gl
            .tokens
            .values_mut()
            .find(|t| t.name == "bridge-deploy")
            .expect("bridge-deploy");
        t.revoked = true;
    });
    let out = sc.cmd(&["apply", "--auto-approve", "plan.json"]).expect(1);
    assert!(out.stderr.contains("is stale"), "{}", out.stderr);
    assert!(out.stderr.contains("tokenops plan --out"), "{}", out.stderr);
}

#[test]
fn apply_needs_auto_approve_without_a_terminal() {
    let sc = Scenario::gitlab_example().start();
    let out = sc.cmd(&["apply"]).expect(Exit::Code(1));
    assert!(out.stderr.contains("--auto-approve"));
    assert!(sc.ledger().is_empty(), "nothing was touched");
}

/// A saved plan is bound to the manifests it was made from: a consumer setting changed after
/// `plan --out` (unreviewed) makes `apply PLANFILE` refuse instead of writing it.
#[test]
fn a_saved_plan_is_refused_when_the_manifests_changed_since() {
    let sc = Scenario::gitlab_example().start();
    sc.run(&["plan", "--out", "plan.json", "--detailed-exitcode"], 2);
    let manifest = sc.path().join("manifests/gitlab.yaml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let changed = text.replace(
        "key: TRIAGE_TOKEN, masked: true, protected: true",
        "key: TRIAGE_TOKEN, masked: true, protected: false",
    );
    assert_ne!(text, changed, "the test edits a real setting");
    std::fs::write(&manifest, changed).expect("write manifest");
    let apply = sc.cmd(&["apply", "--auto-approve", "plan.json"]).expect(1);
    assert!(
        apply.stderr.contains("is stale") && apply.stderr.contains("manifests"),
        "{}",
        apply.stderr
    );
    assert!(!sc.ledger().contains("\"pending\""), "nothing was started");
}
