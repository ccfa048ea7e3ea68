//! Crash anywhere, lose nothing: the apply process is killed (SIGKILL, at a test-only fault
//! point) at every step boundary of every token kind's rotation, and each rotate or create
//! call has its connection dropped after the sandbox applied it. After each, the next apply
//! must leave every consumer holding a value that authenticates, no family revoked, no value
//! lost, and nothing left to plan.

use tokenops::sandbox::FaultSpec;

use super::{
    assert_converged, assert_no_repeated_rotate, assert_plan_empty, make_trigger_consumer_stale,
};
use crate::scenario::{Exit, Scenario};

const STEPS: [&str; 6] = [
    "intent",
    "obtained",
    "staged",
    "written",
    "distributed",
    "verified",
];

/// Applies until it converges (at most twice), then checks everything; every output and the
/// ledger are leak-checked on the way.
fn finish_and_check(sc: &Scenario, label: &str) {
    let mut last = sc.apply(&[]);
    if !last.success() {
        last = sc.apply(&[]);
    }
    assert!(
        last.success(),
        "{label}: apply after the crash did not converge:\n{}\n{}",
        last.stdout,
        last.stderr
    );
    assert_converged(sc);
    assert_no_repeated_rotate(sc);
    assert_plan_empty(sc);
    let ledger = sc.ledger();
    assert!(!ledger.contains("\"pending\""), "{label}: {ledger}");
}

#[test]
fn crash_at_every_step_boundary_loses_nothing() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("gl-ops-bot-automation", STEPS.to_vec()),
        ("zd-global-gitlab-sync", STEPS.to_vec()),
        ("ops-group-triage", STEPS.to_vec()),
        (
            "trigger-reports-from-triage",
            STEPS.iter().copied().chain(["retired"]).collect(),
        ),
        ("bridge-hook-secret", STEPS.to_vec()),
    ];
    let mut covered = 0;
    for (token, steps) in cases {
        for step in steps {
            let label = format!("{token}:{step}");
            let sc = Scenario::gitlab_example().start();
            make_trigger_consumer_stale(&sc);
            sc.cmd(&["apply", "--auto-approve"])
                .env("TOKENOPS_TEST_CRASH_AT", &label)
                .expect(Exit::Killed);
            finish_and_check(&sc, &label);
            covered += 1;
        }
    }

    let dropped = [
        ("POST /api/v4/personal_access_tokens/:id/rotate", "lost"),
        (
            "POST /api/v4/projects/:id/access_tokens/:token_id/rotate",
            "lost",
        ),
        ("POST /api/v4/groups/:id/access_tokens", "lost"),
        ("POST /api/v4/projects/:id/triggers", "read back"),
    ];
    for (route, note) in dropped {
        let sc = Scenario::gitlab_example().start();
        make_trigger_consumer_stale(&sc);
        sc.faults().set(
            route,
            FaultSpec {
                drop_after_apply: 1.0,
                times: Some(1),
                ..FaultSpec::default()
            },
        );
        let first = sc.apply(&[]);
        let stdout = &first.stdout;
        assert!(
            stdout.contains(note),
            "{route}: the summary says what happened:\n{stdout}"
        );
        let dropped_calls = sc
            .requests()
            .entries
            .iter()
            .filter(|e| e.route == route && e.status == 0)
            .count();
        assert_eq!(dropped_calls, 1, "{route}: the connection was dropped once");
        finish_and_check(&sc, route);
        covered += 1;
    }
    println!("crash points covered: {covered}");
    assert_eq!(covered, 35);
}

/// A value escrowed before a crash whose record was revoked before the next run (or a ledger
/// restored from an older copy) is never written anywhere: the resume proves it first.
#[test]
fn a_dead_escrowed_value_is_not_distributed_on_resume() {
    let sc = Scenario::gitlab_example().start();
    sc.cmd(&["apply", "--auto-approve"])
        .env("TOKENOPS_TEST_CRASH_AT", "gl-ops-bot-automation:staged")
        .expect(Exit::Killed);
    let ledger: serde_json::Value = serde_json::from_str(&sc.ledger()).expect("ledger JSON");
    let pending = &ledger["tokens"]["gl-ops-bot-automation"]["pending"];
    let new_id: u64 = pending["new_platform_id"]
        .as_str()
        .expect("the new record is in the ledger")
        .parse()
        .expect("numeric id");
    // Someone revokes the new token before the next run.
    sc.with_gitlab(|g| {
        g.tokens.get_mut(&new_id).expect("new token").revoked = true;
    });
    let held = |sc: &Scenario| {
        sc.with_gitlab(|g| {
            g.variables
                .iter()
                .find(|v| v.key == "OPS_BOT_TOKEN")
                .map(|v| v.value.clone())
        })
    };
    let variable_before = held(&sc);
    let out = sc.apply(&[]);
    assert!(!out.success(), "{}", out.stdout);
    assert!(
        out.stdout.contains("no longer authenticates"),
        "the summary says why: {}",
        out.stdout
    );
    let variable_after = held(&sc);
    assert!(
        variable_before == variable_after,
        "the dead value was not written to the consumer"
    );
    let ledger = sc.ledger();
    let ledger: serde_json::Value = serde_json::from_str(&ledger).expect("ledger JSON");
    assert!(
        ledger["tokens"]["gl-ops-bot-automation"]["pending"].is_null(),
        "the unfinished rotation was dropped"
    );
}
