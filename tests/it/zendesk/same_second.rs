//! Zendesk stamps `created_at` in whole seconds while tokenops's intent time has
//! sub-seconds: a token minted later in the intent's second reads as created before it.

use tokenops::sandbox::FaultSpec;

use super::oauth_users::{MANIFEST, SEED, tokens};
use crate::scenario::Scenario;

#[test]
fn a_mint_stamped_before_its_sub_second_intent_is_no_orphan_after_recovery() {
    let sc = Scenario::seeded(SEED)
        .at("2026-11-28T09:00:00.600Z")
        .escrow(true)
        .manifest("zd.yaml", MANIFEST)
        .start();
    let intent = sc.now();
    // The mint lands at .900 of the intent's second (Zendesk writes 09:00:00Z), and its
    // answer is lost.
    sc.sandbox
        .clock()
        .set("2026-11-28T09:00:00.900Z".parse().unwrap());
    sc.faults().set(
        "POST /api/v2/oauth/tokens",
        FaultSpec {
            drop_after_apply: 1.0,
            times: Some(1),
            ..FaultSpec::default()
        },
    );
    let first = sc
        .cmd(&["apply", "--auto-approve"])
        .env(tokenops::cli::env::NOW_VAR, intent.to_string())
        .expect(crate::scenario::Exit::Any);
    assert!(!first.success(), "{}", first.both());
    let minted = tokens(&sc).len();
    assert_eq!(minted, 4, "the lost mint happened");
    let stamped = sc.with_zendesk("global", |zd| {
        zd.oauth_tokens
            .values()
            .map(|t| t.created_at)
            .max()
            .unwrap()
    });
    assert!(stamped > intent, "minted after the intent");

    sc.run(&["apply", "--auto-approve"], 0);
    let held = sc.with_gitlab(|g| {
        g.variables
            .iter()
            .find(|v| v.key == "ZD_TOKEN")
            .expect("ZD_TOKEN")
            .value
            .reveal()
            .to_string()
    });
    let live_admin: Vec<String> = sc.with_zendesk("global", |zd| {
        zd.oauth_tokens
            .values()
            .filter(|t| !t.revoked && t.client_id != 0)
            .filter(|t| zd.users[&t.user_id].email == "admin@example.com")
            .map(|t| t.value.reveal().to_string())
            .collect()
    });
    // Values are compared, never printed.
    assert_eq!(
        live_admin.len(),
        1,
        "one live admin token, not an orphan beside it"
    );
    assert!(
        live_admin[0] == held,
        "the live admin token is the distributed one"
    );
    sc.run(&["plan", "--detailed-exitcode"], 0);
}
