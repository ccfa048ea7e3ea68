//! The crash proofs again on the `http` ledger backend (GitLab's Terraform state with its
//! lock): a killed apply leaves the lock held, the next apply refuses naming the holder and the
//! lock id, `tokenops unlock ID` releases exactly that lock, and the apply after it finishes
//! the rotation. Every Zendesk crash point and every GitLab step boundary are covered.

use super::zendesk::{
    ZENDESK_CRASH_POINTS, crash_and_recover, crash_cases, due_example, held_lock,
};
use crate::scenario::{Exit, STATE_PROJECT, Scenario, State};

/// The example on the `http` backend: the ledger in the report project's Terraform state.
fn on_http() -> Scenario {
    due_example(State::Http(STATE_PROJECT.into()))
}

fn lock_held(sc: &Scenario) -> bool {
    sc.with_gitlab(|gl| gl.tf_states.values().any(|s| s.lock.is_some()))
}

#[test]
fn crash_at_every_step_boundary_on_the_http_backend() {
    let mut covered = 0;
    let gitlab_steps = [
        "intent",
        "obtained",
        "staged",
        "written",
        "distributed",
        "verified",
    ];
    let mut cases: Vec<(&str, &str)> = crash_cases();
    for token in ["gl-ops-bot-automation", "bridge-hook-secret"] {
        for step in gitlab_steps {
            cases.push((token, step));
        }
    }
    for step in gitlab_steps.iter().copied().chain(["retired"]) {
        cases.push(("trigger-reports-from-triage", step));
    }
    for (token, step) in cases {
        let label = format!("{token}:{step}");
        let sc = on_http();
        super::make_trigger_consumer_stale(&sc);
        crash_and_recover(&sc, &label, &Scenario::http_ledger);
        assert!(!lock_held(&sc), "{label}: the lock is released at the end");
        covered += 1;
    }
    println!("crash points covered (http ledger): {covered}");
    assert_eq!(covered, ZENDESK_CRASH_POINTS + 12 + 7);
}

#[test]
fn a_held_lock_names_its_holder_and_unlock_releases_only_that_lock() {
    let sc = on_http();
    sc.cmd(&["apply", "--auto-approve"])
        .env(
            "TOKENOPS_TEST_CRASH_AT",
            "zd-global-oauth-escalations:staged",
        )
        .expect(Exit::Killed);
    assert!(lock_held(&sc), "a killed run leaves the lock held");
    let stderr = sc.cmd(&["apply", "--auto-approve"]).expect(1).stderr;
    assert!(
        stderr.contains("locked by tokenops-admin"),
        "the holder is named: {stderr}"
    );
    assert!(stderr.contains("DELETE"), "the release is named: {stderr}");
    assert_eq!(
        stderr.matches("locked by").count(),
        1,
        "the cause is said once: {stderr}"
    );
    let id = held_lock(&stderr).expect("a lock id");

    let wrong_err = sc.run(&["unlock", "0123456789abcdef"], 1).stderr;
    assert!(
        wrong_err.contains(&id),
        "names the real holder: {wrong_err}"
    );
    assert!(lock_held(&sc), "a wrong id releases nothing");

    sc.run(&["unlock", &id], 0);
    assert!(!lock_held(&sc));
    sc.cmd(&["apply", "--auto-approve"]).expect(0);
    super::zendesk::assert_zendesk_converged(&sc);
}

#[test]
fn unlock_on_a_local_ledger_explains_there_is_nothing_to_release() {
    let sc = due_example(State::Local);
    let stderr = sc.run(&["unlock", "abc"], 1).stderr;
    assert!(stderr.contains("local file"), "{stderr}");
}

#[test]
fn a_lost_zendesk_answer_on_the_http_backend() {
    for route in super::zendesk::DROPPED {
        let sc = on_http();
        super::zendesk::drop_and_recover(&sc, route, &Scenario::http_ledger);
        assert!(!lock_held(&sc), "{route}: the lock is released");
    }
}

#[test]
fn plan_on_a_state_never_written_reads_an_empty_ledger() {
    // GitLab answers 404 for a state nobody locked or wrote yet: a project's first plan.
    let sc = Scenario::example()
        .state(State::Http(STATE_PROJECT.into()))
        .start();
    sc.run(&["plan"], 0);
    assert!(
        sc.requests().entries.iter().any(|e| {
            e.route.contains("terraform/state") && e.method == "GET" && e.status == 404
        }),
        "the state was never written, so GitLab answered 404"
    );
    assert!(sc.http_ledger().is_empty(), "plan writes nothing");
}

#[test]
fn a_state_in_a_project_the_credential_cannot_see_is_an_error_naming_it() {
    let sc = Scenario::example()
        .state(State::Http("support/ops/no-such-project".into()))
        .start();
    let out = sc.run(&["plan"], 1);
    assert!(out.stderr.contains("Project Not Found"), "{}", out.stderr);
    assert!(
        out.stderr.contains("support/ops/no-such-project"),
        "{}",
        out.stderr
    );
}
