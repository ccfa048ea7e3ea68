//! The local ledger: atomic replacement, one holder at a time, fingerprints.

use std::time::Duration;

use secrecy::SecretString;
use tokenops::ledger::local::{LocalLedger, LockError};
use tokenops::ledger::{Ledger, LedgerToken};

#[test]
fn second_holder_fails_fast_and_names_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let first = LocalLedger::lock(&path, "pid 1 on ci-runner-7", Duration::ZERO).unwrap();
    let err = LocalLedger::lock(&path, "pid 2", Duration::ZERO).unwrap_err();
    match &err {
        LockError::Held { holder, .. } => assert_eq!(holder, "pid 1 on ci-runner-7"),
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("--lock-timeout"));
    drop(first);
    LocalLedger::lock(&path, "pid 2", Duration::ZERO).expect("free after the first is dropped");
}

#[test]
fn waiting_holder_gets_the_lock_when_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let first = LocalLedger::lock(&path, "first", Duration::ZERO).unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        drop(first);
    });
    LocalLedger::lock(&path, "second", Duration::from_secs(5)).expect("lock after waiting");
    releaser.join().unwrap();
}

#[test]
fn write_then_read_round_trips_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("state.json");
    let held = LocalLedger::lock(&path, "me", Duration::ZERO).unwrap();
    assert_eq!(held.read().unwrap(), Ledger::default());
    let mut ledger = Ledger {
        serial: 3,
        fingerprint_key: "k".into(),
        ..Ledger::default()
    };
    ledger.tokens.insert(
        "a".into(),
        LedgerToken {
            platform_id: Some("9".into()),
            ..LedgerToken::default()
        },
    );
    held.write(&ledger).unwrap();
    assert_eq!(held.read().unwrap(), ledger);
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn corrupt_ledger_is_an_error_that_says_how_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, "{not json").unwrap();
    let err = Ledger::read_local(&path).unwrap_err().to_string();
    assert!(err.contains("restore it"), "{err}");
}

#[test]
fn fingerprints_are_keyed_and_stable() {
    let value = SecretString::from("glpat-example-value-000000");
    let a = Ledger {
        fingerprint_key: "key-a".into(),
        ..Ledger::default()
    };
    let b = Ledger {
        fingerprint_key: "key-b".into(),
        ..Ledger::default()
    };
    assert_eq!(a.fingerprint(&value), a.fingerprint(&value));
    assert_ne!(a.fingerprint(&value), b.fingerprint(&value));
    assert!(!a.fingerprint(&value).unwrap().contains("glpat"));
    assert_eq!(Ledger::default().fingerprint(&value), None);
}
