//! The local ledger's lock names its holder every time: the note is in the lock file before
//! the lock can be seen, so runs racing for it never read "holder unknown" (nor a note of a
//! run that is gone).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokenops::ledger::local::{LocalLedger, LockError};

#[test]
fn racing_runs_always_read_a_complete_holder_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let held = AtomicUsize::new(0);
    let refused = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..6 {
            let (path, held, refused) = (&path, &held, &refused);
            s.spawn(move || {
                let me = format!("pid {t} on runner-{t}, started 2026-11-28T12:00:00Z");
                for _ in 0..300 {
                    match LocalLedger::lock(path, &me, Duration::ZERO) {
                        Ok(lock) => {
                            held.fetch_add(1, Ordering::Relaxed);
                            std::thread::yield_now();
                            drop(lock);
                        }
                        Err(LockError::Held { holder, .. }) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            assert!(
                                holder.starts_with("pid ") && holder.ends_with("12:00:00Z"),
                                "holder note {holder:?}"
                            );
                            assert_ne!(holder, me, "a run read its own note");
                        }
                        Err(other) => panic!("{other}"),
                    }
                }
            });
        }
    });
    assert!(held.load(Ordering::Relaxed) > 0);
    assert!(refused.load(Ordering::Relaxed) > 0, "the runs did race");
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
