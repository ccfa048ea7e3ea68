//! An apply stopped by SIGTERM, as GitLab stops a cancelled or timed-out job: the work under
//! way is dropped as in a crash, the run says so and exits 1, the shared ledger's lock is
//! released (so the next scheduled apply does not wait on it), the run's own Zendesk access
//! token is revoked, the running `command` consumer is killed, and the next apply finishes
//! the rotation from the escrow without rotating again.

use std::os::unix::fs::PermissionsExt;

use crate::scenario::{GITLAB_MANIFEST, STATE_PROJECT, Scenario, State};

const MANUAL: &str = "- manual: { instructions: Update the ops-bot token in the team vault. }";

/// A vault step that stands for the runner cancelling the job while it runs: it sends SIGTERM
/// to tokenops, its parent, and then takes its time.
const CANCEL: &str = "#!/bin/sh\nkill -TERM \"$PPID\"\nexec sleep 30\n";
/// A vault step that works.
const STORE: &str = "#!/bin/sh\nsha256sum > held.sha\n";

const ROTATE: &str = "POST /api/v4/personal_access_tokens/:id/rotate";

fn lock_held(sc: &Scenario) -> bool {
    sc.with_gitlab(|gl| gl.tf_states.values().any(|s| s.lock.is_some()))
}

#[test]
fn sigterm_mid_apply_releases_the_lock_and_the_next_apply_finishes_without_rotating_again() {
    let consumer = "- command: { name: team-vault, write: [bin/vault], idempotent: false }";
    let sc = Scenario::gitlab_example()
        .manifest("gitlab.yaml", &GITLAB_MANIFEST.replace(MANUAL, consumer))
        .state(State::Http(STATE_PROJECT.into()))
        .start();
    let script = sc.write("bin/vault", CANCEL);
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let started = std::time::Instant::now();
    let stopped = sc.cmd(&["apply", "--auto-approve"]).expect(1);
    assert!(
        stopped
            .stderr
            .contains("stopped by SIGTERM before the run ended"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("the next `tokenops apply` resumes"),
        "{}",
        stopped.stderr
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "the vault step was killed, not waited for"
    );
    assert!(!lock_held(&sc), "the shared ledger's lock was released");
    assert_eq!(sc.requests().count(ROTATE), 1, "{}", stopped.stderr);

    // The receiver works again: the next apply resumes from the escrow and rotates nothing.
    std::fs::write(&script, STORE).expect("script");
    let next = sc.run(&["apply", "--auto-approve"], 0);
    assert!(
        next.stdout
            .contains("done     gl-ops-bot-automation: rotated; every consumer verified"),
        "{}",
        next.stdout
    );
    assert_eq!(sc.requests().count(ROTATE), 1, "never rotated twice");
    assert!(!lock_held(&sc));
    sc.run(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn sigterm_revokes_the_access_token_a_client_credentials_run_signed_in_with() {
    let manifest = "tokens:
  - id: vault-secret
    generated_secret: { length: 40 }
    consumers:
      - command: { name: team-vault, write: [bin/vault], idempotent: false }
  # A Zendesk token with nothing to do, so that the run signs in to Zendesk to read it.
  - id: chat-bridge-secret
    zendesk_oauth_client_secret: { zendesk: global, client: chat_bridge }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/bridge, key: ZENDESK_CLIENT_SECRET, masked: true, hidden: true, raw: true }
";
    let sc = Scenario::demo()
        .global_signs_in_with_a_client()
        .manifest("vault.yaml", manifest)
        .escrow(true)
        .start();
    let script = sc.write("bin/vault", CANCEL);
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (client, secret) = sc.with_zendesk("global", |z| {
        let c = z
            .clients
            .values()
            .find(|c| c.identifier == "tokenops")
            .expect("the seed's client tokenops");
        (c.id, c.secret.reveal().to_string())
    });
    let stopped = sc
        .cmd(&["apply", "--auto-approve"])
        .env_remove(&tokenops::cli::env::override_var(
            tokenops::http::Platform::Zendesk,
            "global",
            "TOKEN",
        ))
        .env("ZD_CLIENT_ID", "tokenops")
        .env("ZD_CLIENT_SECRET", &secret)
        .expect(1);
    assert!(
        stopped.stderr.contains("stopped by SIGTERM"),
        "{}",
        stopped.stderr
    );
    let now = sc.now();
    let minted: Vec<bool> = sc.with_zendesk("global", |z| {
        z.oauth_tokens
            .values()
            .filter(|t| t.client_id == client && t.scopes.iter().any(|s| s == "write"))
            .map(|t| t.usable(now))
            .collect()
    });
    assert_eq!(
        minted,
        [false],
        "the run's one token, revoked on the way out"
    );
}
