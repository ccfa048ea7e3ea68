//! `tokenops apply --provide TOKEN_ID`: a legacy Zendesk API token's value, obtained by hand,
//! is read from stdin, proven to sign in as the declared email, escrowed, written to every
//! consumer and verified; a wrong value writes nothing; a crash after staging is finished by
//! a plain apply from the escrow; the value appears in no output.

use super::zendesk::due_example;
use crate::scenario::{Exit, Scenario, State};

const LEGACY: &str = "zd-global-legacy-reporting";

fn legacy_value(sc: &Scenario) -> String {
    sc.sandbox.with_state(|w| {
        w.zendesk["global"].api_tokens[&9001]
            .value
            .reveal()
            .to_string()
    })
}

fn held(sc: &Scenario) -> (String, String, String) {
    sc.sandbox.with_state(|w| {
        let var = w.gitlab["gitlab.com"]
            .variables
            .iter()
            .find(|v| v.key == "ZENDESK_API_TOKEN")
            .map(|v| v.value.reveal().to_string())
            .expect("variable");
        let auth = w.zendesk["global"]
            .webhooks
            .values()
            .find(|h| h.name == "Nightly reporting export")
            .and_then(|h| h.authentication.clone())
            .expect("webhook auth");
        (
            var,
            auth.data["username"].reveal().to_string(),
            auth.data["password"].reveal().to_string(),
        )
    })
}

/// Makes the consumers hold something else, as if a person had never updated them.
fn scramble(sc: &Scenario) {
    sc.with_gitlab(|gl| {
        let var = gl
            .variables
            .iter_mut()
            .find(|v| v.key == "ZENDESK_API_TOKEN")
            .expect("variable");
        var.value = tokenops::sandbox::state::Value::from_request("an-outdated-api-token-000000");
    });
}

#[test]
fn a_provided_legacy_value_reaches_every_consumer() {
    let sc = due_example(State::Local);
    scramble(&sc);
    let value = legacy_value(&sc);
    let stdout = sc
        .cmd(&["apply", "--auto-approve", "--provide", LEGACY])
        .stdin(format!("{value}\n"))
        .expect(0)
        .stdout;
    assert!(
        stdout.contains(LEGACY) && stdout.contains("provided value"),
        "{stdout}"
    );
    let (var, user, password) = held(&sc);
    assert_eq!(var, value);
    assert_eq!(user, "reporting-bot@example.com/token");
    assert_eq!(password, value);
    sc.ledger();
    // The plan still sends the entry to its OAuth replacement, and now knows its consumers.
    let plan = sc.run(&["plan"], 0).stdout;
    let section = plan
        .split("\n\n")
        .find(|s| s.contains(&format!(" {LEGACY} (")))
        .expect("legacy entry")
        .to_string();
    assert!(section.contains("zendesk_oauth_token"), "{section}");
    assert!(section.contains("--migrate-zendesk"), "{section}");
    assert!(
        !section.contains("ZENDESK_API_TOKEN is unverifiable"),
        "{section}"
    );
}

#[test]
fn a_wrong_value_is_refused_before_anything_is_written() {
    let sc = due_example(State::Local);
    let before = held(&sc);
    let stdout = sc
        .cmd(&["apply", "--auto-approve", "--provide", LEGACY])
        .stdin("not-the-right-token-value-1234567890")
        .expect(1)
        .stdout;
    assert!(stdout.contains("reporting-bot@example.com"), "{stdout}");
    assert_eq!(held(&sc), before, "nothing was written");
    assert!(!stdout.contains("not-the-right-token-value"), "{stdout}");

    let unknown = sc
        .cmd(&["apply", "--auto-approve", "--provide", "no-such-id"])
        .stdin("x")
        .expect(1);
    assert!(
        unknown.stdout.contains("no manifest declares"),
        "{}",
        unknown.stdout
    );

    let unconfirmed = sc.cmd(&["apply", "--provide", LEGACY]).stdin("x").expect(1);
    assert!(unconfirmed.stderr.contains("--auto-approve"));
}

#[test]
fn a_crash_after_staging_is_finished_from_the_escrow() {
    for step in ["staged", "written", "distributed", "verified"] {
        let sc = due_example(State::Local);
        scramble(&sc);
        let value = legacy_value(&sc);
        sc.cmd(&["apply", "--auto-approve", "--provide", LEGACY])
            .env("TOKENOPS_TEST_CRASH_AT", format!("{LEGACY}:{step}"))
            .stdin(value.clone())
            .expect(Exit::Killed);
        // A plain apply (no stdin) finishes it, and does the planned work too.
        sc.cmd(&["apply", "--auto-approve"]).expect(0);
        let (var, _, password) = held(&sc);
        assert_eq!(
            (var.as_str(), password.as_str()),
            (value.as_str(), value.as_str()),
            "{step}"
        );
        assert!(!sc.ledger().contains("\"pending\""), "{step}");
    }
}
