//! `tokenops apply --provide TOKEN_ID`: a legacy Zendesk API token's value, obtained by hand,
//! is read from stdin, proven to sign in as the declared email, escrowed, written to every
//! consumer and verified; a wrong value writes nothing; a crash after staging is finished by
//! a plain apply from the escrow; the value appears in no output.

use std::os::unix::process::ExitStatusExt;

use super::zendesk::{example_run, zd_cmd};
use crate::harness::SandboxRun;

const LEGACY: &str = "zd-global-legacy-reporting";

fn legacy_value(run: &SandboxRun) -> String {
    run.handle.with_state(|w| {
        w.zendesk["global"].api_tokens[&9001]
            .value
            .reveal()
            .to_string()
    })
}

fn held(run: &SandboxRun) -> (String, String, String) {
    run.handle.with_state(|w| {
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Makes the consumers hold something else, as if a person had never updated them.
fn scramble(run: &SandboxRun) {
    run.handle.with_state(|w| {
        let gl = w.gitlab.get_mut("gitlab.com").expect("gitlab");
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
    let run = example_run();
    scramble(&run);
    let value = legacy_value(&run);
    let out = zd_cmd(&run, &["apply", "--auto-approve", "--provide", LEGACY])
        .write_stdin(format!("{value}\n"))
        .output()
        .expect("apply");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains(LEGACY) && stdout.contains("provided value"),
        "{stdout}"
    );
    let (var, user, password) = held(&run);
    assert_eq!(var, value);
    assert_eq!(user, "reporting-bot@example.com/token");
    assert_eq!(password, value);
    for t in [&stdout, &text(&out.stderr), &run.ledger_text()] {
        assert!(!t.contains(&value), "the value leaks");
    }
    // The plan still sends the entry to its OAuth replacement, and now knows its consumers.
    let plan = zd_cmd(&run, &["plan"]).output().expect("plan");
    let plan = text(&plan.stdout);
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
    let run = example_run();
    let before = held(&run);
    let out = zd_cmd(&run, &["apply", "--auto-approve", "--provide", LEGACY])
        .write_stdin("not-the-right-token-value-1234567890")
        .output()
        .expect("apply");
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("reporting-bot@example.com"), "{stdout}");
    assert_eq!(held(&run), before, "nothing was written");
    assert!(!stdout.contains("not-the-right-token-value"), "{stdout}");

    let unknown = zd_cmd(
        &run,
        &["apply", "--auto-approve", "--provide", "no-such-id"],
    )
    .write_stdin("x")
    .output()
    .expect("apply");
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stdout).contains("no manifest declares"),
        "{}",
        text(&unknown.stdout)
    );

    let unconfirmed = zd_cmd(&run, &["apply", "--provide", LEGACY])
        .write_stdin("x")
        .output()
        .expect("apply");
    assert!(!unconfirmed.status.success());
    assert!(text(&unconfirmed.stderr).contains("--auto-approve"));
}

#[test]
fn a_crash_after_staging_is_finished_from_the_escrow() {
    for step in ["staged", "written", "distributed", "verified"] {
        let run = example_run();
        scramble(&run);
        let value = legacy_value(&run);
        let crashed = zd_cmd(&run, &["apply", "--auto-approve", "--provide", LEGACY])
            .env("TOKENOPS_TEST_CRASH_AT", format!("{LEGACY}:{step}"))
            .write_stdin(value.clone())
            .output()
            .expect("apply");
        assert_eq!(crashed.status.signal(), Some(9), "{step}");
        // A plain apply (no stdin) finishes it, and does the planned work too.
        let out = zd_cmd(&run, &["apply", "--auto-approve"])
            .output()
            .expect("apply");
        assert!(out.status.success(), "{step}: {}", text(&out.stdout));
        let (var, _, password) = held(&run);
        assert_eq!(
            (var.as_str(), password.as_str()),
            (value.as_str(), value.as_str()),
            "{step}"
        );
        assert!(!run.ledger_text().contains("\"pending\""), "{step}");
    }
}
