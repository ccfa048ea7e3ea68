//! `gitlab_service_account_token` in the shipped example: the support group's digest bot's
//! token is due; apply rotates it through the group's service-account route (never the
//! instance-wide personal token routes) with an explicit expiry and writes the variable; the
//! overlap strategy creates a new token and revokes the old one only after the variable is
//! verified; a revoked token is created again; a crash at every step boundary and a lost
//! rotate answer converge with the variable holding the one live token's value and no record
//! rotated twice.

use crate::scenario::{Exit, Scenario};

const ID: &str = "support-digest-bot";
const NAME: &str = "weekly-digest";
const ROTATE: &str =
    "POST /api/v4/groups/:id/service_accounts/:user_id/personal_access_tokens/:token_id/rotate";
const CREATE: &str = "POST /api/v4/groups/:id/service_accounts/:user_id/personal_access_tokens";

/// The variable holds the value of the one live token of that name, a token of the service
/// account; returns its id.
fn assert_variable_holds_the_live_token(sc: &Scenario, label: &str) -> u64 {
    let now = sc.now();
    sc.with_gitlab(|gl| {
        let held = gl
            .variables
            .iter()
            .find(|v| v.key == "DIGEST_TOKEN")
            .expect("DIGEST_TOKEN")
            .value
            .reveal()
            .to_string();
        let token = gl
            .authenticates(&held, now)
            .unwrap_or_else(|| panic!("{label}: DIGEST_TOKEN holds a value that works"));
        assert_eq!(token.name, NAME, "{label}");
        assert!(
            gl.users[&token.user_id].service_account_of.is_some(),
            "{label}: it is the service account's token"
        );
        let live = gl
            .tokens
            .values()
            .filter(|t| t.name == NAME && t.active(now))
            .count();
        assert_eq!(live, 1, "{label}: one live token");
        token.id
    })
}

#[test]
fn the_due_token_is_rotated_through_the_groups_route_with_an_expiry() {
    let sc = Scenario::example().start();
    let plan = sc.run(&["plan", "--detailed-exitcode", "--target", ID], 2);
    assert!(
        plan.stdout
            .contains("~ support-digest-bot (gitlab_service_account_token) due")
            && plan.stdout.contains("+ rotate, new expiry 2027-05-27"),
        "{}",
        plan.stdout
    );
    let out = sc.run(&["apply", "--auto-approve", "--target", ID], 0);
    assert!(
        out.stdout.contains("support-digest-bot: rotated"),
        "{}",
        out.stdout
    );
    let id = assert_variable_holds_the_live_token(&sc, "rotate");
    let expires = sc.with_gitlab(|gl| gl.tokens[&id].expires_at);
    assert_eq!(
        expires.map(|d| d.to_string()).as_deref(),
        Some("2027-05-27")
    );
    let stats = sc.requests();
    assert_eq!(stats.count(ROTATE), 1);
    assert_eq!(
        stats.count("POST /api/v4/personal_access_tokens/:id/rotate"),
        0
    );
    sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
}

#[test]
fn overlap_creates_a_new_token_and_revokes_the_old_after_the_variable_is_verified() {
    let sc = Scenario::example()
        .edit_manifest(
            "gitlab/service-accounts.yaml",
            "rotation: { lifetime: 180d }",
            "rotation: { lifetime: 180d, strategy: overlap }",
        )
        .start();
    let old = sc.with_gitlab(|gl| {
        gl.tokens
            .values()
            .find(|t| t.name == NAME)
            .expect("seeded")
            .id
    });
    sc.run(&["apply", "--auto-approve", "--target", ID], 0);
    let new = assert_variable_holds_the_live_token(&sc, "overlap");
    assert_ne!(new, old);
    assert!(
        sc.with_gitlab(|gl| gl.tokens[&old].revoked),
        "old one revoked"
    );
    let stats = sc.requests();
    assert_eq!(stats.count(CREATE), 1);
    assert_eq!(stats.count(ROTATE), 0);
    assert_eq!(
        stats.count(
            "DELETE /api/v4/groups/:id/service_accounts/:user_id/personal_access_tokens/:token_id"
        ),
        1
    );
}

#[test]
fn a_revoked_service_account_token_is_created_again() {
    let sc = Scenario::example().start();
    sc.with_gitlab(|gl| {
        for t in gl.tokens.values_mut().filter(|t| t.name == NAME) {
            t.revoked = true;
        }
    });
    let plan = sc.run(&["plan", "--detailed-exitcode", "--target", ID], 2);
    assert!(plan.stdout.contains("+ create again"), "{}", plan.stdout);
    sc.run(&["apply", "--auto-approve", "--target", ID], 0);
    assert_variable_holds_the_live_token(&sc, "recreate");
    sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
}

#[test]
fn crash_at_every_service_account_step_converges_with_nothing_lost() {
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
        sc.cmd(&["apply", "--auto-approve", "--target", ID])
            .env("TOKENOPS_TEST_CRASH_AT", &label)
            .expect(Exit::Killed);
        let out = sc.apply(&["--target", ID]);
        assert!(out.success(), "{label}:\n{}\n{}", out.stdout, out.stderr);
        assert_variable_holds_the_live_token(&sc, &label);
        assert!(!sc.ledger().contains("\"pending\""), "{label}");
        // A value lost in the crash is learned and its record rotated by id: never the
        // same record twice (reuse detection would revoke the family).
        super::assert_no_repeated_rotate(&sc);
        sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
    }
}

#[test]
fn a_lost_rotate_answer_is_learned_and_rotated_again_by_id_not_repeated() {
    let sc = Scenario::example().start();
    sc.faults().set(
        ROTATE,
        tokenops::sandbox::FaultSpec {
            drop_after_apply: 1.0,
            times: Some(1),
            ..Default::default()
        },
    );
    let first = sc.apply(&["--target", ID]);
    let out = if first.success() {
        first
    } else {
        sc.apply(&["--target", ID])
    };
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("lost"), "{}", out.stdout);
    assert_variable_holds_the_live_token(&sc, "lost rotate");
    // Rotated twice by id (the record, then the successor whose value was lost).
    assert_eq!(sc.requests().count(ROTATE), 2);
    super::assert_no_repeated_rotate(&sc);
    sc.run(&["plan", "--detailed-exitcode", "--target", ID], 0);
}

#[test]
fn check_reports_the_expiring_service_account_token_with_its_declaration() {
    let sc = Scenario::example().start();
    let out = sc.cmd(&["check", "--format", "json"]).expect(2);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let entry = doc["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["kind"] == "gitlab_service_account_token")
        .unwrap_or_else(|| panic!("listed:\n{}", out.stdout));
    assert_eq!(
        entry["owner"],
        "service account support-digest-bot of group support"
    );
    assert_eq!(entry["name"], NAME);
    assert_eq!(entry["declared_by"]["id"], ID);
}
