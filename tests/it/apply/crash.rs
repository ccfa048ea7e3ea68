//! Crash anywhere, lose nothing: the apply process is killed (SIGKILL, at a test-only fault
//! point) at every step boundary of every token kind's rotation, and each rotate or create
//! call has its connection dropped after the sandbox applied it. After each, the next apply
//! must leave every consumer holding a value that authenticates, no family revoked, no value
//! lost, and nothing left to plan.

use std::os::unix::process::ExitStatusExt;

use tokenops::sandbox::FaultSpec;

use super::converge::assert_no_leak;
use super::{
    assert_converged, assert_no_repeated_rotate, assert_plan_empty, make_trigger_consumer_stale,
};
use crate::harness::SandboxRun;

const STEPS: [&str; 6] = [
    "intent",
    "obtained",
    "staged",
    "written",
    "distributed",
    "verified",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn finish_and_check(run: &SandboxRun, label: &str, mut outputs: Vec<(String, String)>) {
    let mut last = None;
    for _ in 0..2 {
        let out = run.apply(&[]);
        let ok = out.status.success();
        outputs.push((
            format!("{label}: apply"),
            text(&out.stdout) + &text(&out.stderr),
        ));
        last = Some(out);
        if ok {
            break;
        }
    }
    let out = last.expect("ran");
    assert!(
        out.status.success(),
        "{label}: apply after the crash did not converge:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_converged(run);
    assert_no_repeated_rotate(run);
    assert_plan_empty(run);
    let ledger = run.ledger_text();
    assert!(!ledger.contains("\"pending\""), "{label}: {ledger}");
    outputs.push((format!("{label}: ledger"), ledger));
    let texts: Vec<(&str, String)> = outputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.clone()))
        .collect();
    assert_no_leak(run, &texts);
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
            let run = SandboxRun::gitlab_demo();
            make_trigger_consumer_stale(&run);
            let crashed = run
                .cmd(&["apply", "--auto-approve"])
                .env("TOKENOPS_TEST_CRASH_AT", &label)
                .output()
                .expect("apply");
            assert_eq!(
                crashed.status.signal(),
                Some(libc_sigkill()),
                "{label}: the fault point was not reached:\n{}",
                text(&crashed.stdout)
            );
            finish_and_check(
                &run,
                &label,
                vec![(
                    label.clone(),
                    text(&crashed.stdout) + &text(&crashed.stderr),
                )],
            );
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
        let run = SandboxRun::gitlab_demo();
        make_trigger_consumer_stale(&run);
        run.handle.faults().set(
            route,
            FaultSpec {
                drop_after_apply: 1.0,
                times: Some(1),
                ..FaultSpec::default()
            },
        );
        let first = run.apply(&[]);
        let stdout = text(&first.stdout);
        assert!(
            stdout.contains(note),
            "{route}: the summary says what happened:\n{stdout}"
        );
        let dropped_calls = run
            .handle
            .requests()
            .entries
            .iter()
            .filter(|e| e.route == route && e.status == 0)
            .count();
        assert_eq!(dropped_calls, 1, "{route}: the connection was dropped once");
        finish_and_check(
            &run,
            route,
            vec![(route.to_string(), stdout + &text(&first.stderr))],
        );
        covered += 1;
    }
    println!("crash points covered: {covered}");
    assert_eq!(covered, 35);
}

fn libc_sigkill() -> i32 {
    9
}
