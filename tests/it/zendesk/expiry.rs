//! The plan promises only the expiry the call sets: a Zendesk admin-API token's expiry is
//! Zendesk's (the client's expiry policy), and the ledger records what Zendesk answered; a
//! new pipeline trigger does not expire; `validate` refuses a lifetime the grant cannot give.

use crate::apply::zendesk::due_example;
use crate::scenario::{Scenario, State};

fn section(plan: &str, id: &str) -> String {
    plan.split("\n\n")
        .find(|s| s.contains(&format!(" {id} (")))
        .unwrap_or_else(|| panic!("{id} in the plan:\n{plan}"))
        .to_string()
}

#[test]
fn an_admin_api_token_plans_no_expiry_of_its_own_and_records_what_zendesk_answered() {
    let sc = due_example(State::Local);
    let plan = sc.run(&["plan"], 0).stdout;
    let escalations = section(&plan, "zd-global-oauth-escalations");
    assert!(!escalations.contains("new expiry"), "{escalations}");
    assert!(
        escalations.contains("Zendesk sets the new token's expiry"),
        "{escalations}"
    );
    sc.run(&["apply", "--auto-approve"], 0);
    let ledger: serde_json::Value = serde_json::from_str(&sc.ledger()).unwrap();
    let entry = ledger["tokens"]
        .get("zd-global-oauth-escalations")
        .or_else(|| ledger.get("zd-global-oauth-escalations"))
        .cloned()
        .unwrap_or_else(|| panic!("ledger entry: {ledger}"));
    let id: u64 = entry["platform_id"].as_str().unwrap().parse().unwrap();
    let live = sc.with_zendesk("global", |zd| {
        zd.oauth_tokens[&id]
            .expires_at
            .map(tokenops::time::utc_date)
    });
    let recorded = entry["expires_at"].as_str().map(|d| d.parse().unwrap());
    assert_eq!(
        recorded, live,
        "the ledger records Zendesk's expiry: {entry}"
    );
}

#[test]
fn a_new_pipeline_trigger_plans_no_expiry() {
    let sc = Scenario::example().start();
    sc.with_gitlab(|g| g.triggers.clear());
    let plan = sc.run(&["plan"], 0).stdout;
    let trigger = section(&plan, "trigger-ticket-export-global");
    assert!(trigger.contains("create"), "{trigger}");
    assert!(!trigger.contains("new expiry"), "{trigger}");
    assert!(trigger.contains("does not expire"), "{trigger}");
}

#[test]
fn validate_refuses_a_lifetime_on_an_admin_api_token() {
    let sc = Scenario::example()
        .edit_manifest(
            "zendesk/oauth.yaml",
            "    rotation: { rotate_before: 7d }",
            "    rotation: { lifetime: 30d, rotate_before: 7d }",
        )
        .start();
    let out = sc.run(&["validate"], 1).both();
    assert!(out.contains("oauth.yaml:12:"), "{out}");
    assert!(out.contains("cannot be given a lifetime"), "{out}");
}
