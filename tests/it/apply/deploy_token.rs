//! `gitlab_deploy_token` in the shipped example: the plan shows the bridge's registry login,
//! `apply --replace` creates a new deploy token with the declared username, writes both
//! halves of the login (`REGISTRY_USER` gets the username, `REGISTRY_PASSWORD` the value),
//! verifies them and only then deletes the old token; a crash at every step boundary and a
//! lost create answer converge on the next apply with one live token whose login the
//! variables hold; a command consumer gets the username in `TOKENOPS_USERNAME`.

use std::os::unix::fs::PermissionsExt;

use tokenops::sandbox::FaultSpec;

use crate::scenario::{Exit, Scenario};

const ID: &str = "bridge-registry-pull";
const USERNAME: &str = "bridge-registry-pull";
const CREATE: &str = "POST /api/v4/groups/:id/deploy_tokens";

fn variable(sc: &Scenario, key: &str) -> String {
    sc.with_gitlab(|gl| {
        gl.variables
            .iter()
            .find(|v| v.key == key)
            .unwrap_or_else(|| panic!("variable {key}"))
            .value
            .reveal()
            .to_string()
    })
}

/// Exactly one live deploy token of that name, and the two variables hold a login that
/// signs in as it.
fn assert_login_works(sc: &Scenario, label: &str) -> u64 {
    let (user, password) = (
        variable(sc, "REGISTRY_USER"),
        variable(sc, "REGISTRY_PASSWORD"),
    );
    assert_eq!(user, USERNAME, "{label}: the username variable");
    let now = sc.now();
    sc.with_gitlab(|gl| {
        let live: Vec<u64> = gl
            .deploy_tokens
            .values()
            .filter(|t| t.name == ID && t.active(now))
            .map(|t| t.id)
            .collect();
        assert_eq!(
            live.len(),
            1,
            "{label}: one live deploy token, not {live:?}"
        );
        let signed_in = gl
            .deploy_token_login(&user, &password, now)
            .unwrap_or_else(|| panic!("{label}: the variables hold a login that works"));
        assert_eq!(signed_in.id, live[0], "{label}: it is the live token");
        live[0]
    })
}

fn old_id(sc: &Scenario) -> u64 {
    sc.with_gitlab(|gl| {
        gl.deploy_tokens
            .values()
            .find(|t| t.name == ID)
            .expect("seeded deploy token")
            .id
    })
}

#[test]
fn replace_creates_a_deploy_token_with_the_same_username_and_deletes_the_old_one() {
    let sc = Scenario::example().start();
    let plan = sc.run(&["plan"], 0);
    assert!(
        plan.stdout
            .contains("= bridge-registry-pull (gitlab_deploy_token) ok"),
        "{}",
        plan.stdout
    );
    let old = old_id(&sc);
    let shown = sc.run(&["plan", "--replace", ID, "--target", ID], 0);
    for line in [
        "+ create a new value, new expiry 2027-05-27",
        "~ write gitlab.com: project support/ops/bridge variable REGISTRY_USER (username)",
        "~ write gitlab.com: project support/ops/bridge variable REGISTRY_PASSWORD",
        &format!("- revoke the old token #{old} once every consumer is verified"),
    ] {
        assert!(shown.stdout.contains(line), "{line}:\n{}", shown.stdout);
    }
    let apply = sc.run(
        &["apply", "--auto-approve", "--replace", ID, "--target", ID],
        0,
    );
    assert!(
        apply
            .stdout
            .contains("created anew; every consumer verified; old record retired"),
        "{}",
        apply.stdout
    );
    // GitLab destroys a deleted deploy token: the note says so, not "revoked".
    assert!(
        apply.stdout.contains(&format!(
            "the old record #{old} was deleted after every consumer was verified"
        )),
        "{}",
        apply.stdout
    );
    let new = assert_login_works(&sc, "replace");
    assert_ne!(new, old);
    assert!(
        sc.with_gitlab(|gl| !gl.deploy_tokens.contains_key(&old)),
        "the old deploy token was deleted"
    );
    let expires = sc.with_gitlab(|gl| gl.deploy_tokens[&new].expires_at);
    assert_eq!(
        expires.map(|d| d.to_string()).as_deref(),
        Some("2027-05-27"),
        "the declared 180-day lifetime"
    );
    sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
}

#[test]
fn crash_at_every_deploy_token_step_converges_with_nothing_lost() {
    for step in [
        "intent",
        "obtained",
        "staged",
        "written",
        "distributed",
        "verified",
        "retired",
    ] {
        let label = format!("{ID}:{step}");
        let sc = Scenario::example().start();
        sc.cmd(&["apply", "--auto-approve", "--replace", ID, "--target", ID])
            .env("TOKENOPS_TEST_CRASH_AT", &label)
            .expect(Exit::Killed);
        let out = sc.apply(&["--target", ID]);
        assert!(out.success(), "{label}:\n{}\n{}", out.stdout, out.stderr);
        assert_login_works(&sc, &label);
        assert!(!sc.ledger().contains("\"pending\""), "{label}");
        sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
    }
}

#[test]
fn a_lost_create_answer_deletes_the_token_nobody_holds_and_creates_another() {
    let sc = Scenario::example().start();
    sc.faults().set(
        CREATE,
        FaultSpec {
            drop_after_apply: 1.0,
            times: Some(1),
            ..FaultSpec::default()
        },
    );
    let old = old_id(&sc);
    let first = sc.apply(&["--replace", ID, "--target", ID]);
    let both = first.both();
    let converged = if first.success() {
        first
    } else {
        sc.apply(&["--target", ID])
    };
    assert!(converged.success(), "{both}\n{}", converged.stdout);
    let all = format!("{both}{}", converged.stdout);
    assert!(
        all.contains("was lost") && all.contains("a new record created"),
        "the summary says what happened:\n{all}"
    );
    let live = assert_login_works(&sc, "lost create");
    let creates = sc
        .requests()
        .entries
        .iter()
        .filter(|e| e.route == CREATE)
        .count();
    assert_eq!(creates, 2, "the lost one, then one more");
    sc.with_gitlab(|gl| {
        assert!(!gl.deploy_tokens.contains_key(&old), "old one deleted");
        assert_eq!(
            gl.deploy_tokens.values().filter(|t| t.name == ID).count(),
            1,
            "the token whose value was lost is deleted too (live {live})"
        );
    });
    sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
}

#[test]
fn a_command_consumer_gets_the_username_in_the_environment_and_the_value_on_stdin() {
    let sc = Scenario::example()
        .edit_manifest(
            "gitlab/deploy.yaml",
            "          part: username\n",
            "          part: username\n      - command: { name: cluster-pull-secret, write: \
             [bin/login] }\n",
        )
        .start();
    let script = sc.write(
        "bin/login",
        "#!/bin/sh\nprintf '%s\\n' \"$TOKENOPS_USERNAME\" > login.user\nsha256sum > login.sha\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    sc.run(
        &["apply", "--auto-approve", "--replace", ID, "--target", ID],
        0,
    );
    assert_login_works(&sc, "command");
    let user = std::fs::read_to_string(sc.path().join("login.user")).expect("login.user");
    assert_eq!(user.trim(), USERNAME);
    let digest = std::fs::read_to_string(sc.path().join("login.sha")).expect("login.sha");
    use sha2::Digest;
    let want: String = sha2::Sha256::digest(variable(&sc, "REGISTRY_PASSWORD").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(digest.starts_with(&want), "the value arrived on stdin");
}
