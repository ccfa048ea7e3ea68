//! Plan and check watch the credentials the run signs in with: one that expires within the
//! check window and that no manifest keeps alive is a warning in `plan` and an entry in
//! `check`, naming the variable, the instance, the expiry and the fix; one that is declared
//! (its record is a declared token's, or a `tokenops_credential` consumer keeps it) is not;
//! and the watch costs one request per credential per run.

use crate::scenario::Scenario;

const GITLAB_VAR: &str = "TOKENOPS_GITLAB_GITLAB_COM_TOKEN";
const SELF_ROUTE: &str = "GET /api/v4/personal_access_tokens/self";

/// The admin token the scenario signs in to gitlab.com with expires in `days` days.
fn admin_expires_in(sc: &Scenario, days: i64) {
    let admin = sc.admin();
    let today = jiff::tz::TimeZone::UTC.to_datetime(sc.now()).date();
    sc.with_gitlab(|g| {
        let id = g.token_by_value(&admin).expect("admin token").id;
        g.tokens.get_mut(&id).expect("token").expires_at =
            Some(today.checked_add(jiff::ToSpan::days(days)).expect("date"));
    });
}

const OWN: &str = "tokens:\n  - id: tokenops-rotate-token\n    gitlab_personal_access_token:\n      \
                   gitlab: gitlab.com\n      user: tokenops-admin\n      name: tokenops\n      \
                   scopes: [api]\n    consumers:\n      - tokenops_credential: { gitlab: \
                   gitlab.com }\n      - gitlab_ci_variable: { gitlab: gitlab.com, project: \
                   support/ops/tokenops, key: TOKENOPS_ROTATE_TOKEN, masked: true, protected: \
                   true }\n";

/// The same token declared only by its record: a CI/CD variable consumer, no
/// `tokenops_credential`.
const BY_RECORD: &str = "tokens:\n  - id: admin-token\n    gitlab_personal_access_token:\n      \
                         gitlab: gitlab.com\n      user: tokenops-admin\n      name: tokenops\n      \
                         scopes: [api]\n    consumers:\n      - gitlab_ci_variable: { gitlab: \
                         gitlab.com, project: support/ops/tokenops, key: TOKENOPS_ROTATE_TOKEN, \
                         masked: true, protected: true }\n";

/// Every seeded instance, no token declared: the only requests to the credential routes are
/// the watch's.
fn bare() -> Scenario {
    Scenario::demo()
        .manifest("none.yaml", "tokens: []\n")
        .start()
}

#[test]
fn an_undeclared_run_credential_expiring_soon_is_a_plan_warning_and_a_check_entry() {
    let sc = bare();
    admin_expires_in(&sc, 5);
    sc.sandbox.clear_requests();
    let plan = sc.run(&["plan"], 0);
    let warning = plan
        .stdout
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("no warning in:\n{}", plan.stdout));
    assert!(warning.contains(GITLAB_VAR), "{warning}");
    assert!(warning.contains("GitLab `gitlab.com`"), "{warning}");
    assert!(
        warning.contains("expires on 2026-12-03, in 4 days"),
        "{warning}"
    );
    assert!(
        warning.contains("tokenops_credential: { gitlab: gitlab.com }"),
        "{warning}"
    );
    assert!(warning.contains("Pipelines and credentials"), "{warning}");
    assert_eq!(
        sc.requests().count(SELF_ROUTE),
        1,
        "one request per credential"
    );

    let json = sc.run(&["plan", "--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan json");
    assert_eq!(doc["credentials"][0]["env_var"], GITLAB_VAR);
    assert_eq!(doc["credentials"][0]["expires_at"], "2026-12-03");

    sc.sandbox.clear_requests();
    let check = sc.run(&["check"], 2);
    assert!(check.stdout.contains(GITLAB_VAR), "{}", check.stdout);
    assert!(
        check
            .stdout
            .contains("tokenops itself (TOKENOPS_GITLAB_GITLAB_COM_TOKEN)"),
        "{}",
        check.stdout
    );
    assert_eq!(
        sc.requests().count(SELF_ROUTE),
        1,
        "one request per credential"
    );
    let md = sc.run(&["check", "--format", "markdown"], 2);
    assert!(md.stdout.contains(GITLAB_VAR), "{}", md.stdout);
}

#[test]
fn a_run_credential_outside_the_check_window_is_not_mentioned() {
    let sc = bare();
    admin_expires_in(&sc, 60);
    let plan = sc.run(&["plan"], 0);
    assert!(!plan.stdout.contains("warning:"), "{}", plan.stdout);
    let check = sc.run(&["check"], 0);
    assert!(!check.stdout.contains(GITLAB_VAR), "{}", check.stdout);
    assert_eq!(
        sc.requests().count(SELF_ROUTE),
        2,
        "one per run, also when all is well"
    );
}

#[test]
fn a_run_credential_kept_by_a_tokenops_credential_consumer_is_not_warned_about() {
    let sc = Scenario::gitlab_example().manifest("own.yaml", OWN).start();
    admin_expires_in(&sc, 5);
    let plan = sc.run(&["plan"], 0);
    assert!(!plan.stdout.contains("warning:"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("tokenops-rotate-token"),
        "{}",
        plan.stdout
    );
    let check = sc.run(&["check"], 2);
    assert!(!check.stdout.contains(GITLAB_VAR), "{}", check.stdout);
}

#[test]
fn a_run_credential_whose_record_a_manifest_declares_is_not_warned_about() {
    let sc = Scenario::gitlab_example()
        .manifest("admin.yaml", BY_RECORD)
        .start();
    admin_expires_in(&sc, 5);
    let plan = sc.run(&["plan"], 0);
    assert!(!plan.stdout.contains("warning:"), "{}", plan.stdout);
}

#[test]
fn the_zendesk_credential_is_watched_through_its_current_oauth_token() {
    let sc = bare();
    let admin = sc.zd_admin("global");
    let soon = sc.now() + jiff::SignedDuration::from_hours(24 * 3 + 2);
    sc.with_zendesk("global", |z| {
        let id = z.oauth_by_value(&admin).expect("admin token").id;
        z.oauth_tokens.get_mut(&id).expect("token").expires_at = Some(soon);
    });
    sc.sandbox.clear_requests();
    let check = sc.run(&["check"], 2);
    assert!(
        check.stdout.contains("TOKENOPS_ZENDESK_GLOBAL_TOKEN"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("Zendesk `global`"),
        "{}",
        check.stdout
    );
    // One per Zendesk instance of the seed (two), and nothing else asks.
    assert_eq!(
        sc.requests().count("GET /api/v2/oauth/tokens/current"),
        2,
        "{:?}",
        sc.requests().by_route
    );
}

mod sources {
    //! Which variable the edge names for the watch, and which credentials it does not ask
    //! about.

    use std::collections::HashMap;

    use tokenops::cli::credential_source::gitlab_source;
    use tokenops::cli::credentials::{Access, gitlab_access};
    use tokenops::manifest::GitlabInstance;

    fn gitlab() -> GitlabInstance {
        GitlabInstance {
            name: "gitlab.com".into(),
            url: "https://gitlab.com".into(),
            token_env: "GITLAB_TOKEN".into(),
            read_token_env: Some("GITLAB_READ_TOKEN".into()),
        }
    }

    fn source(pairs: &[(&str, &str)], access: Access) -> tokenops::watch::RunCredential {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let found = gitlab_access(&gitlab(), access, &lookup).expect("resolves");
        gitlab_source(&gitlab(), access, &found, &lookup)
    }

    #[test]
    fn the_read_credential_is_named_and_is_not_the_instance_own() {
        let c = source(
            &[
                ("GITLAB_READ_TOKEN", "read-value-1"),
                ("GITLAB_TOKEN", "rotate-value-1"),
            ],
            Access::Read,
        );
        assert_eq!(c.env_var, "GITLAB_READ_TOKEN");
        assert!(!c.own && !c.no_record);
        let c = source(
            &[
                ("GITLAB_READ_TOKEN", "read-value-1"),
                ("GITLAB_TOKEN", "rotate-value-1"),
            ],
            Access::Write,
        );
        assert_eq!(c.env_var, "GITLAB_TOKEN");
        assert!(c.own);
    }

    #[test]
    fn a_job_token_is_not_asked_about() {
        let c = source(
            &[
                ("GITLAB_TOKEN", "job-token-value"),
                ("CI_JOB_TOKEN", "job-token-value"),
            ],
            Access::Write,
        );
        assert!(
            c.no_record,
            "a job token has no personal access token record"
        );
    }
}
