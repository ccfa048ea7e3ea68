//! The crash proofs again on the `http` ledger backend (GitLab's Terraform state with its
//! lock): a killed apply leaves the lock held, the next apply refuses naming the holder and the
//! lock id, `tokenops unlock ID` releases exactly that lock, and the apply after it finishes
//! the rotation. Every Zendesk crash point and every GitLab step boundary are covered.

use super::zendesk::{
    ZENDESK_CRASH_POINTS, crash_and_recover, crash_cases, example_run, held_lock, zd_cmd,
};
use crate::harness::SandboxRun;

const STATE_PROJECT: &str = "support/ops/tokenops";

/// Switches the example run's ledger to the Terraform state of the report project.
pub fn on_http_backend(run: &SandboxRun) {
    let address = format!(
        "{}/api/v4/projects/support%2Fops%2Ftokenops/terraform/state/tokenops",
        run.handle.gitlab_url("gitlab.com")
    );
    let path = run.dir.path().join("tokenops.yaml");
    let config = std::fs::read_to_string(&path).expect("config");
    let config = config.replace(
        "state:\n  backend: local\n  path: .tokenops/state.json",
        &format!("state:\n  backend: http\n  address: \"{address}\""),
    );
    assert!(config.contains("backend: http"), "{config}");
    std::fs::write(path, config).expect("config");
}

/// The ledger document as the Terraform state holds it.
pub fn state_text(run: &SandboxRun) -> String {
    run.handle.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        let project = gl
            .projects
            .values()
            .find(|p| p.path_with_namespace == STATE_PROJECT)
            .expect("state project")
            .id;
        gl.tf_states
            .get(&(project, "tokenops".to_string()))
            .and_then(|s| s.data.clone())
            .map(|d| String::from_utf8_lossy(&d).to_string())
            .unwrap_or_default()
    })
}

fn lock_held(run: &SandboxRun) -> bool {
    run.handle.with_state(|w| {
        w.gitlab["gitlab.com"]
            .tf_states
            .values()
            .any(|s| s.lock.is_some())
    })
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
        let run = example_run();
        on_http_backend(&run);
        super::make_trigger_consumer_stale(&run);
        crash_and_recover(&run, &label, &state_text);
        assert!(!lock_held(&run), "{label}: the lock is released at the end");
        covered += 1;
    }
    println!("crash points covered (http ledger): {covered}");
    assert_eq!(covered, ZENDESK_CRASH_POINTS + 12 + 7);
}

#[test]
fn a_held_lock_names_its_holder_and_unlock_releases_only_that_lock() {
    let run = example_run();
    on_http_backend(&run);
    let crashed = zd_cmd(&run, &["apply", "--auto-approve"])
        .env(
            "TOKENOPS_TEST_CRASH_AT",
            "zd-global-oauth-escalations:staged",
        )
        .output()
        .expect("apply");
    assert!(!crashed.status.success());
    assert!(lock_held(&run), "a killed run leaves the lock held");
    let refused = zd_cmd(&run, &["apply", "--auto-approve"])
        .output()
        .expect("apply");
    let stderr = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success());
    assert!(
        stderr.contains("locked by tokenops-admin"),
        "the holder is named: {stderr}"
    );
    assert!(stderr.contains("DELETE"), "the release is named: {stderr}");
    let id = held_lock(&stderr).expect("a lock id");

    let wrong = zd_cmd(&run, &["unlock", "0123456789abcdef"])
        .output()
        .expect("unlock");
    let wrong_err = String::from_utf8_lossy(&wrong.stderr).to_string();
    assert!(!wrong.status.success(), "{wrong_err}");
    assert!(
        wrong_err.contains(&id),
        "names the real holder: {wrong_err}"
    );
    assert!(lock_held(&run), "a wrong id releases nothing");

    let ok = zd_cmd(&run, &["unlock", &id]).output().expect("unlock");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(!lock_held(&run));
    let done = zd_cmd(&run, &["apply", "--auto-approve"])
        .output()
        .expect("apply");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stdout)
    );
    super::zendesk::assert_zendesk_converged(&run);
}

#[test]
fn unlock_on_a_local_ledger_explains_there_is_nothing_to_release() {
    let run = example_run();
    let out = zd_cmd(&run, &["unlock", "abc"]).output().expect("unlock");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(stderr.contains("local file"), "{stderr}");
}

#[test]
fn a_lost_zendesk_answer_on_the_http_backend() {
    for route in super::zendesk::DROPPED {
        let run = example_run();
        on_http_backend(&run);
        super::zendesk::drop_and_recover(&run, route, &state_text);
        assert!(!lock_held(&run), "{route}: the lock is released");
    }
}
