//! tokenops keeps its own GitLab credential alive: the token the run signs in with is
//! declared with a `tokenops_credential` consumer next to the CI/CD variable that holds it,
//! rotated through the self-rotate route after every other token, and every later call of
//! the run signs in with the new value. A crash at any step boundary converges on the next
//! run (which signs in with what the CI/CD variable holds, as the next pipeline would), and a
//! self-rotation whose answer is lost is never sent again.

use tokenops::cli::env::override_var;
use tokenops::http::Platform;

use crate::scenario::{Exit, Output, Scenario};

/// Projects whose variables also hold the credential: five consumers written after the
/// switch.
const MORE: [&str; 5] = [
    "support/ops/bridge",
    "support/ops/reports",
    "support/ops/triage",
    "support/ops/escalations",
    "support/ops/ticket-export",
];

fn manifest(kind: &str) -> String {
    let mut more = String::new();
    for project in MORE {
        more.push_str(&format!(
            "      - gitlab_ci_variable: {{ gitlab: gitlab.com, project: {project}, key: \
             TOKENOPS_TOKEN, masked: true }}\n"
        ));
    }
    format!(
        "tokens:\n  - id: ops-automation\n    gitlab_personal_access_token:\n      gitlab: \
         gitlab.com\n      user: support-ops-bot\n      name: ops-automation\n      scopes: \
         [api]\n    consumers:\n      - gitlab_ci_variable: {{ gitlab: gitlab.com, group: \
         support/ops, key: OPS_BOT_TOKEN, masked: true, protected: true }}\n  - id: \
         tokenops-credential\n{kind}    consumers:\n      - tokenops_credential: {{ gitlab: \
         gitlab.com }}\n      - gitlab_ci_variable: {{ gitlab: gitlab.com, project: \
         support/ops/tokenops, key: TOKENOPS_ROTATE_TOKEN, masked: true, protected: true \
         }}\n{more}"
    )
}

const PAT: &str = "    gitlab_personal_access_token:\n      gitlab: gitlab.com\n      user: \
                   tokenops-admin\n      name: tokenops\n      scopes: [api]\n";

/// A scenario whose run credential (the sandbox's admin token, `tokenops`) is due, with
/// TOKENOPS_ROTATE_TOKEN holding it as a CI/CD variable would after the bootstrap.
fn start() -> Scenario {
    let sc = Scenario::demo()
        .manifest("own.yaml", &manifest(PAT))
        .escrow(true)
        .start();
    let admin = sc.admin();
    let now = sc.now();
    sc.with_gitlab(|g| {
        let id = g.token_by_value(&admin).expect("admin token").id;
        let t = g.tokens.get_mut(&id).expect("token");
        t.expires_at = Some(
            jiff::tz::TimeZone::UTC
                .to_datetime(now)
                .date()
                .checked_add(jiff::ToSpan::days(5))
                .expect("date"),
        );
    });
    sc.block_on(sc.gl(
        reqwest::Method::POST,
        &admin,
        "/projects/support%2Fops%2Ftokenops/variables",
        Some(serde_json::json!({"key": "TOKENOPS_ROTATE_TOKEN", "value": admin, "masked": true, "protected": true})),
    ));
    sc
}

/// What TOKENOPS_ROTATE_TOKEN holds now.
fn rotate_var(sc: &Scenario) -> String {
    sc.with_gitlab(|g| {
        g.variables
            .iter()
            .find(|v| v.key == "TOKENOPS_ROTATE_TOKEN")
            .expect("TOKENOPS_ROTATE_TOKEN")
            .value
            .reveal()
            .to_string()
    })
}

/// `tokenops ARGS…` signed in with what TOKENOPS_ROTATE_TOKEN holds, as the next pipeline
/// job would be.
fn run_as_pipeline(sc: &Scenario, args: &[&str], exit: impl Into<Exit>) -> Output {
    sc.cmd(args)
        .env(
            &override_var(Platform::GitLab, "gitlab.com", "TOKEN"),
            rotate_var(sc),
        )
        .expect(exit)
}

/// Every variable of the credential holds one value that authenticates as the one live
/// `tokenops` record; no family was revoked; no rotate route was reached twice.
fn assert_credential_converged(sc: &Scenario, label: &str) {
    let now = sc.now();
    let value = rotate_var(sc);
    sc.with_gitlab(|g| {
        let held = g
            .token_by_value(&value)
            .unwrap_or_else(|| panic!("{label}: TOKENOPS_ROTATE_TOKEN holds an unknown value"));
        assert!(held.active(now), "{label}: TOKENOPS_ROTATE_TOKEN is dead");
        assert_eq!(held.name, "tokenops", "{label}");
        let live = g
            .tokens
            .values()
            .filter(|t| t.name == "tokenops" && t.active(now))
            .count();
        assert_eq!(live, 1, "{label}: {live} live records of tokenops");
        for var in g.variables.iter().filter(|v| v.key == "TOKENOPS_TOKEN") {
            assert_eq!(var.value.reveal(), value, "{label}: {var:?} lags behind");
        }
    });
    super::assert_no_repeated_rotate(sc);
}

#[test]
fn own_credential_rotates_last_and_the_run_writes_five_more_consumers_with_the_new_value() {
    let sc = start();
    let old = sc.admin();
    sc.sandbox.clear_requests();
    let out = run_as_pipeline(&sc, &["apply", "--auto-approve"], 0);
    assert!(out.stdout.contains("tokenops-credential"), "{}", out.stdout);
    assert_credential_converged(&sc, "first run");
    assert_ne!(rotate_var(&sc), old, "the credential was rotated");

    let stats = sc.requests();
    let self_rotate = stats
        .entries
        .iter()
        .position(|e| e.route == "POST /api/v4/personal_access_tokens/self/rotate")
        .expect("the self-rotate route was used");
    let other_rotate = stats
        .entries
        .iter()
        .position(|e| e.route == "POST /api/v4/personal_access_tokens/:id/rotate")
        .expect("ops-automation was rotated by id");
    assert!(other_rotate < self_rotate, "the own credential goes last");
    let after: Vec<_> = stats.entries[self_rotate + 1..].iter().collect();
    let writes = after
        .iter()
        .filter(|e| e.route.contains("/variables") && e.method != "GET")
        .count();
    assert!(
        writes >= 6,
        "six variables written after the switch: {writes}"
    );
    assert!(
        after.iter().all(|e| e.status != 401),
        "no later call used the revoked value: {after:#?}"
    );
    run_as_pipeline(&sc, &["plan", "--detailed-exitcode"], 0);
}

#[test]
fn two_runs_a_year_apart_the_second_signs_in_with_what_the_first_wrote() {
    let sc = start();
    run_as_pipeline(&sc, &["apply", "--auto-approve"], 0);
    let first = rotate_var(&sc);
    sc.sandbox.clear_requests();
    sc.sandbox
        .clock()
        .advance(jiff::SignedDuration::from_hours(24 * 350));
    let out = run_as_pipeline(&sc, &["apply", "--auto-approve"], 0);
    assert!(out.stdout.contains("tokenops-credential"), "{}", out.stdout);
    assert_ne!(rotate_var(&sc), first, "rotated again a year later");
    assert_credential_converged(&sc, "second run");
}

#[test]
fn own_credential_crash_at_every_step_boundary_converges_from_the_escrow() {
    for step in ["intent", "staged", "written", "distributed", "verified"] {
        let label = format!("tokenops-credential:{step}");
        let sc = start();
        sc.cmd(&["apply", "--auto-approve"])
            .env(
                &override_var(Platform::GitLab, "gitlab.com", "TOKEN"),
                rotate_var(&sc),
            )
            .env("TOKENOPS_TEST_CRASH_AT", &label)
            .expect(Exit::Killed);
        let out = run_as_pipeline(&sc, &["apply", "--auto-approve"], 0);
        assert!(out.success(), "{label}: {}\n{}", out.stdout, out.stderr);
        assert_credential_converged(&sc, &label);
        assert!(!sc.ledger().contains("\"pending\""), "{label}");
        run_as_pipeline(&sc, &["plan", "--detailed-exitcode"], 0);
    }
}

#[test]
fn lost_self_rotation_answer_is_never_resent_and_says_what_a_person_must_do() {
    let sc = start();
    sc.cmd(&["apply", "--auto-approve"])
        .env(
            &override_var(Platform::GitLab, "gitlab.com", "TOKEN"),
            rotate_var(&sc),
        )
        .env("TOKENOPS_TEST_CRASH_AT", "tokenops-credential:obtained")
        .expect(Exit::Killed);
    let out = run_as_pipeline(&sc, &["apply", "--auto-approve"], 1);
    let text = out.both();
    assert!(text.contains("A person must"), "{text}");
    assert!(text.contains("TOKENOPS_ROTATE_TOKEN"), "{text}");
    super::assert_no_repeated_rotate(&sc);
    let now = sc.now();
    sc.with_gitlab(|g| {
        let live = g
            .tokens
            .values()
            .filter(|t| t.name == "tokenops" && t.active(now))
            .count();
        assert_eq!(live, 1, "the family was not revoked: the lost record lives");
    });
}

/// A project access token as tokenops's credential: `.../access_tokens/self/rotate`, and a
/// crash after the escrow converges from it.
#[test]
fn own_project_token_self_rotates_and_a_crash_converges_from_the_escrow() {
    let manifest = "tokens:\n  - id: tokenops-credential\n    gitlab_project_access_token:\n      \
                    gitlab: gitlab.com\n      project: support/ops/tools/legacy-exporter\n      \
                    name: legacy-exporter\n      scopes: [api]\n      access_level: \
                    maintainer\n    consumers:\n      - tokenops_credential: { gitlab: \
                    gitlab.com }\n      - gitlab_ci_variable: { gitlab: gitlab.com, project: \
                    support/ops/tools/legacy-exporter, key: TOKENOPS_ROTATE_TOKEN, masked: \
                    true, protected: true }\n";
    for step in [None, Some("staged"), Some("written")] {
        let sc = Scenario::demo()
            .manifest("own.yaml", manifest)
            .escrow(true)
            .start();
        // The seed's TOKENOPS_ROTATE_TOKEN holds the admin credential; here the project
        // token is the run's only credential.
        sc.with_gitlab(|g| g.variables.retain(|v| v.key != "TOKENOPS_ROTATE_TOKEN"));
        let value = sc.with_gitlab(|g| {
            g.tokens
                .values()
                .find(|t| t.name == "legacy-exporter")
                .expect("legacy-exporter")
                .value
                .reveal()
                .to_string()
        });
        sc.block_on(sc.gl(
            reqwest::Method::POST,
            &sc.admin(),
            "/projects/support%2Fops%2Ftools%2Flegacy-exporter/variables",
            Some(serde_json::json!({"key": "TOKENOPS_ROTATE_TOKEN", "value": value, "masked": true, "protected": true})),
        ));
        if let Some(step) = step {
            sc.cmd(&["apply", "--auto-approve"])
                .env(
                    &override_var(Platform::GitLab, "gitlab.com", "TOKEN"),
                    rotate_var(&sc),
                )
                .env(
                    "TOKENOPS_TEST_CRASH_AT",
                    format!("tokenops-credential:{step}"),
                )
                .expect(Exit::Killed);
        }
        let out = run_as_pipeline(&sc, &["apply", "--auto-approve", "-v"], 0);
        let stats = sc.requests();
        let rotates: Vec<&str> = stats
            .entries
            .iter()
            .filter(|e| e.route.ends_with("/rotate"))
            .map(|e| e.path.as_str())
            .collect();
        assert!(
            !rotates.is_empty()
                && rotates
                    .iter()
                    .all(|p| p.ends_with("/access_tokens/self/rotate")),
            "{step:?}: rotated through the self route, not by id: {rotates:?}\n{}",
            out.stderr
        );
        let now = sc.now();
        let held = rotate_var(&sc);
        assert_ne!(held, value, "{step:?}: rotated");
        sc.with_gitlab(|g| {
            let t = g.token_by_value(&held).expect("known value");
            assert!(t.active(now) && t.name == "legacy-exporter", "{step:?}");
            let live = g
                .tokens
                .values()
                .filter(|t| t.name == "legacy-exporter" && t.active(now))
                .count();
            assert_eq!(live, 1, "{step:?}: no family revoked, one live record");
        });
        super::assert_no_repeated_rotate(&sc);
        run_as_pipeline(&sc, &["plan", "--detailed-exitcode"], 0);
    }
}
