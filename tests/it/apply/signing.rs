//! `zendesk_webhook_signing_secret`: the plan shows the secret of the example's export
//! webhook, `apply --replace` resets it (the old secret stops signing at once) and writes the
//! receiver's variable, and a crash at every step boundary converges on the next apply with
//! the receiver holding exactly the secret Zendesk signs with.

use crate::scenario::{Exit, Scenario};

const ID: &str = "zd-global-export-signing";
const HOOK: &str = "Nightly reporting export";
const VARIABLE: &str = "ZENDESK_EXPORT_SIGNING_SECRET";

/// What Zendesk signs the export webhook with.
fn signing_secret(sc: &Scenario) -> String {
    sc.with_zendesk("global", |zd| {
        zd.webhooks
            .values()
            .find(|h| h.name == HOOK)
            .expect("export webhook")
            .signing_secret
            .reveal()
            .to_string()
    })
}

/// What the receiver checks signatures with.
fn receiver(sc: &Scenario) -> String {
    sc.with_gitlab(|gl| {
        gl.variables
            .iter()
            .find(|v| v.key == VARIABLE)
            .expect("receiver variable")
            .value
            .reveal()
            .to_string()
    })
}

#[test]
fn replace_resets_the_signing_secret_and_the_receiver_gets_the_new_one() {
    let sc = Scenario::example().start();
    let plan = sc.run(&["plan"], 0);
    assert!(
        plan.stdout
            .contains("= zd-global-export-signing (zendesk_webhook_signing_secret) ok"),
        "{}",
        plan.stdout
    );
    let before = signing_secret(&sc);
    assert_ne!(receiver(&sc), before, "the seeded receiver is stale");
    let shown = sc.run(&["plan", "--replace", ID, "--target", ID], 0);
    assert!(
        shown.stdout.contains("+ rotate")
            && shown.stdout.contains(&format!(
                "~ write gitlab.com: project support/ops/reports variable {VARIABLE}"
            )),
        "{}",
        shown.stdout
    );
    let apply = sc.run(
        &["apply", "--auto-approve", "--replace", ID, "--target", ID],
        0,
    );
    assert!(
        apply
            .stdout
            .contains("signing secret reset; every receiver verified"),
        "{}",
        apply.stdout
    );
    let after = signing_secret(&sc);
    assert_ne!(after, before, "the secret was reset");
    assert_eq!(
        receiver(&sc),
        after,
        "the receiver checks with the live secret"
    );
    sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
}

#[test]
fn crash_at_every_signing_secret_step_converges_with_nothing_lost() {
    for step in [
        "intent",
        "obtained",
        "staged",
        "written",
        "distributed",
        "verified",
    ] {
        let label = format!("{ID}:{step}");
        let sc = Scenario::example().start();
        sc.cmd(&["apply", "--auto-approve", "--replace", ID, "--target", ID])
            .env("TOKENOPS_TEST_CRASH_AT", &label)
            .expect(Exit::Killed);
        let out = sc.apply(&["--target", ID]);
        assert!(out.success(), "{label}:\n{}\n{}", out.stdout, out.stderr);
        assert_eq!(
            receiver(&sc),
            signing_secret(&sc),
            "{label}: receiver is stale"
        );
        assert!(!sc.ledger().contains("\"pending\""), "{label}");
        sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
    }
}
