//! The local ledger's lock names its holder every time: the note is in the lock file before
//! the lock can be seen, so runs racing for it never read "holder unknown" (nor a note of a
//! run that is gone).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokenops::ledger::local::{LocalLedger, LockError};

fn assert_complete(holder: &str, me: &str) {
    assert!(
        holder.starts_with("pid ") && holder.ends_with("12:00:00Z"),
        "holder note {holder:?}"
    );
    assert_ne!(holder, me, "a run read its own note");
}

#[test]
fn racing_runs_always_read_a_complete_holder_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    // Runs taking and releasing the lock as fast as they can: whoever finds it taken at the
    // instant it is taken or released reads the whole note of the run holding it.
    let held = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..6 {
            let (path, held) = (&path, &held);
            s.spawn(move || {
                let me = format!("pid {t} on runner-{t}, started 2026-11-28T12:00:00Z");
                for _ in 0..1500 {
                    match LocalLedger::lock(path, &me, Duration::ZERO) {
                        Ok(lock) => {
                            held.fetch_add(1, Ordering::Relaxed);
                            std::thread::yield_now();
                            drop(lock);
                        }
                        Err(LockError::Held { holder, .. }) => assert_complete(&holder, &me),
                        Err(other) => panic!("{other}"),
                    }
                }
            });
        }
    });
    assert!(held.load(Ordering::Relaxed) > 0);
    // And a run that holds it for a while is named to everyone who tries meanwhile.
    let long = LocalLedger::lock(
        &path,
        "pid 99 on runner-99, started 2026-11-28T12:00:00Z",
        Duration::ZERO,
    )
    .expect("free");
    let refused = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (path, refused) = (&path, &refused);
            s.spawn(move || {
                let me = format!("pid {t} on runner-{t}, started 2026-11-28T12:00:00Z");
                for _ in 0..20 {
                    match LocalLedger::lock(path, &me, Duration::ZERO) {
                        Err(LockError::Held { holder, .. }) => {
                            assert_eq!(holder, "pid 99 on runner-99, started 2026-11-28T12:00:00Z");
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("expected the lock held by pid 99, got {other:?}"),
                    }
                }
            });
        }
    });
    assert_eq!(refused.load(Ordering::Relaxed), 80);
    drop(long);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| !n.contains(".tmp-")), "{left:?}");
}

#[test]
fn a_lock_file_left_by_a_crashed_run_is_taken_over_with_the_new_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    // A killed run leaves its note behind, unlocked.
    std::fs::write(dir.path().join("state.json.lock"), "pid 1 (killed)").unwrap();
    let first = LocalLedger::lock(&path, "pid 2", Duration::ZERO).expect("free");
    match LocalLedger::lock(&path, "pid 3", Duration::ZERO) {
        Err(LockError::Held { holder, .. }) => assert_eq!(holder, "pid 2"),
        other => panic!("expected Held, got {other:?}"),
    }
    drop(first);
    assert!(
        !dir.path().join("state.json.lock").exists(),
        "a clean release removes the note"
    );
}
