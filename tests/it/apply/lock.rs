//! Only one apply at a time: a second one fails fast naming the holder, and two applies
//! started together never rotate the same token twice.

use super::{assert_converged, assert_no_repeated_rotate, make_trigger_consumer_stale};
use crate::scenario::{Exit, Scenario};

#[test]
fn a_second_apply_fails_fast_naming_the_holder() {
    let sc = Scenario::gitlab_example().start();
    let path = sc.path().join(".tokenops/state.json");
    let held = tokenops::ledger::local::LocalLedger::lock(
        &path,
        "pid 4242 on ci-runner-7",
        std::time::Duration::ZERO,
    )
    .expect("lock");
    let out = sc.cmd(&["apply", "--auto-approve"]).expect(1);
    let err = &out.stderr;
    assert!(err.contains("pid 4242 on ci-runner-7"), "{err}");
    assert!(err.contains("--lock-timeout"), "{err}");
    drop(held);
}

#[test]
fn two_concurrent_applies_never_rotate_a_token_twice() {
    let sc = Scenario::gitlab_example().start();
    make_trigger_consumer_stale(&sc);
    let apply = || {
        sc.cmd(&["apply", "--auto-approve", "--lock-timeout", "60"])
            .expect(Exit::Code(0))
    };
    std::thread::scope(|s| {
        let a = s.spawn(apply);
        let b = s.spawn(apply);
        a.join().expect("apply a");
        b.join().expect("apply b");
    });
    assert_no_repeated_rotate(&sc);
    let creates = sc
        .requests()
        .entries
        .iter()
        .filter(|e| e.route == "POST /api/v4/projects/:id/triggers")
        .count();
    assert_eq!(creates, 1, "the trigger was replaced once");
    assert_converged(&sc);
}
