//! Only one apply at a time: a second one fails fast naming the holder, and two applies
//! started together never rotate the same token twice.

use super::{assert_converged, assert_no_repeated_rotate, make_trigger_consumer_stale};
use crate::harness::SandboxRun;

#[test]
fn a_second_apply_fails_fast_naming_the_holder() {
    let run = SandboxRun::gitlab_demo();
    let path = run.dir.path().join(".tokenops/state.json");
    let held = tokenops::ledger::local::LocalLedger::lock(
        &path,
        "pid 4242 on ci-runner-7",
        std::time::Duration::ZERO,
    )
    .expect("lock");
    let out = run.apply(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pid 4242 on ci-runner-7"), "{err}");
    assert!(err.contains("--lock-timeout"), "{err}");
    drop(held);
}

#[test]
fn two_concurrent_applies_never_rotate_a_token_twice() {
    let run = SandboxRun::gitlab_demo();
    make_trigger_consumer_stale(&run);
    let mut a = run.cmd(&["apply", "--auto-approve", "--lock-timeout", "60"]);
    let mut b = run.cmd(&["apply", "--auto-approve", "--lock-timeout", "60"]);
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(move || a.output().expect("apply a"));
        let hb = s.spawn(move || b.output().expect("apply b"));
        (ha.join().expect("a"), hb.join().expect("b"))
    });
    assert!(
        ra.status.success(),
        "{}",
        String::from_utf8_lossy(&ra.stdout)
    );
    assert!(
        rb.status.success(),
        "{}",
        String::from_utf8_lossy(&rb.stdout)
    );
    assert_no_repeated_rotate(&run);
    let creates = run
        .handle
        .requests()
        .entries
        .iter()
        .filter(|e| e.route == "POST /api/v4/projects/:id/triggers")
        .count();
    assert_eq!(creates, 1, "the trigger was replaced once");
    assert_converged(&run);
}
