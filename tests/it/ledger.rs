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

mod http_backend {
    use std::time::Duration;

    use tokenops::gitlab::GitLabClient;
    use tokenops::http::{ClientSettings, InstanceAccess};
    use tokenops::ledger::http::{HttpLedger, StateAddress};
    use tokenops::ledger::{Ledger, LedgerError, LedgerToken};

    use crate::scenario::Scenario;

    fn client(sandbox: &tokenops::sandbox::SandboxHandle) -> GitLabClient {
        let access = InstanceAccess {
            name: "gitlab.com".into(),
            url: sandbox.gitlab_url("gitlab.com"),
            credential: sandbox.gitlab_admin_token("gitlab.com"),
            email: None,
        };
        GitLabClient::new(&access, ClientSettings::gitlab()).unwrap()
    }

    fn address(sandbox: &tokenops::sandbox::SandboxHandle) -> StateAddress {
        StateAddress::parse(&format!(
            "{}/api/v4/projects/support%2Fops%2Ftokenops/terraform/state/tokenops",
            sandbox.gitlab_url("gitlab.com")
        ))
        .unwrap()
    }

    #[test]
    fn state_addresses_parse_and_bad_ones_say_how_to_write_them() {
        let a =
            StateAddress::parse("https://gitlab.com/api/v4/projects/42/terraform/state/tokenops")
                .unwrap();
        assert_eq!(
            (a.base.as_str(), a.project.as_str(), a.name.as_str()),
            ("https://gitlab.com", "42", "tokenops")
        );
        let b = StateAddress::parse(
            "http://127.0.0.1:9/gitlab/x/api/v4/projects/support%2Fops/terraform/state/l",
        )
        .unwrap();
        assert_eq!(b.project, "support/ops");
        assert_eq!(b.base, "http://127.0.0.1:9/gitlab/x");
        let err = StateAddress::parse("https://gitlab.com/state")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "write it like https://gitlab.com/api/v4/projects/42/terraform/state/tokenops"
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn shared_ledger_round_trips_under_its_lock() {
        let sc = Scenario::demo().start();
        let sandbox = &sc.sandbox;
        let now = sandbox.clock().now();
        let held = HttpLedger::lock(
            client(sandbox),
            address(sandbox),
            "apply",
            "job 1",
            now,
            Duration::ZERO,
        )
        .await
        .unwrap();
        assert_eq!(held.read().await.unwrap(), Ledger::default());
        let mut ledger = Ledger {
            serial: 1,
            fingerprint_key: "k".into(),
            ..Ledger::default()
        };
        ledger.tokens.insert(
            "t".into(),
            LedgerToken {
                platform_id: Some("7".into()),
                ..LedgerToken::default()
            },
        );
        held.write(&ledger).await.unwrap();
        assert_eq!(held.read().await.unwrap(), ledger);
        assert_eq!(
            HttpLedger::read_unlocked(&client(sandbox), &address(sandbox))
                .await
                .unwrap(),
            ledger
        );
        held.unlock().await.unwrap();
    }

    #[tokio::test]
    async fn second_holder_is_refused_with_the_holder_and_the_way_to_release() {
        let sc = Scenario::demo().start();
        let sandbox = &sc.sandbox;
        let now = sandbox.clock().now();
        let first = HttpLedger::lock(
            client(sandbox),
            address(sandbox),
            "apply",
            "job 1",
            now,
            Duration::ZERO,
        )
        .await
        .unwrap();
        let err = HttpLedger::lock(
            client(sandbox),
            address(sandbox),
            "apply",
            "job 2",
            now,
            Duration::ZERO,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, LedgerError::Http { .. }));
        let text = err.to_string();
        assert!(text.contains("locked by"), "{text}");
        assert!(text.contains("DELETE"), "{text}");
        first.unlock().await.unwrap();
        let second = HttpLedger::lock(
            client(sandbox),
            address(sandbox),
            "apply",
            "job 2",
            now,
            Duration::ZERO,
        )
        .await
        .expect("free after unlock");
        second.unlock().await.unwrap();
    }

    #[tokio::test]
    async fn a_waiting_holder_gets_the_lock_when_it_is_released() {
        let sc = Scenario::demo().start();
        let sandbox = &sc.sandbox;
        let now = sandbox.clock().now();
        let first = HttpLedger::lock(
            client(sandbox),
            address(sandbox),
            "apply",
            "job 1",
            now,
            Duration::ZERO,
        )
        .await
        .unwrap();
        let waiting = tokio::spawn({
            let c = client(sandbox);
            let a = address(sandbox);
            async move { HttpLedger::lock(c, a, "apply", "job 2", now, Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.unlock().await.unwrap();
        let second = waiting.await.unwrap().expect("lock after waiting");
        second.unlock().await.unwrap();
    }
}
