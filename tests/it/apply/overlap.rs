//! The `overlap` strategy for GitLab personal and project tokens: create the new token,
//! switch and verify every consumer (GitLab variables, Zendesk webhooks and app settings),
//! then revoke the old one. The process is killed at every step boundary and, at each, every
//! consumer of every overlap token must hold a value that authenticates: there is no window
//! with a dead value. The plan says when a new bot user is made.

use super::assert_plan_empty;
use super::zendesk::{assert_zendesk_converged, make_zendesk_due};
use crate::scenario::{Exit, Scenario};

const STEPS: [&str; 7] = [
    "intent",
    "obtained",
    "staged",
    "written",
    "distributed",
    "verified",
    "retired",
];

const OVERLAP_TOKENS: [&str; 3] = [
    "gl-ops-bot-automation",
    "zd-global-gitlab-sync",
    "bridge-deploy",
];

/// The example with the personal and the Global sync tokens on the overlap strategy and the
/// bridge's overlap token due.
fn overlap_run() -> Scenario {
    let overlap = (
        "rotation: { rotate_before: 30d }",
        "rotation: { rotate_before: 30d, strategy: overlap }",
    );
    let sc = Scenario::example()
        .edit_manifest("gitlab/personal.yaml", overlap.0, overlap.1)
        .edit_manifest("gitlab/projects.yaml", overlap.0, overlap.1)
        .start();
    make_zendesk_due(&sc);
    let today = tokenops::time::utc_date(sc.now());
    sc.with_gitlab(|gl| {
        for t in gl.tokens.values_mut() {
            if t.name == "bridge-deploy" && !t.revoked {
                t.expires_at = Some(today.checked_add(jiff::Span::new().days(6)).expect("date"));
            }
        }
    });
    sc
}

/// Every consumer of the overlap tokens: (where, token name, the value it holds).
fn consumer_values(sc: &Scenario) -> Vec<(String, &'static str, String)> {
    sc.sandbox.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        let var = |key: &str, scope: &str| {
            gl.variables
                .iter()
                .find(|v| v.key == key && v.environment_scope == scope)
                .map(|v| v.value.reveal().to_string())
                .unwrap_or_else(|| panic!("variable {key}"))
        };
        let zd = &w.zendesk["global"];
        let setting = |app: &str, key: &str| {
            let app_id = zd.apps.values().find(|a| a.name == app).expect("app").id;
            zd.installations
                .values()
                .find(|i| i.app_id == app_id)
                .and_then(|i| i.secure_settings.get(key))
                .map(|v| v.reveal().to_string())
                .unwrap_or_else(|| panic!("{app} {key}"))
        };
        let hook = zd
            .webhooks
            .values()
            .find(|h| h.name == "GitLab sync")
            .and_then(|h| h.authentication.as_ref())
            .map(|a| a.data["token"].reveal().to_string())
            .expect("GitLab sync webhook");
        vec![
            (
                "OPS_BOT_TOKEN".to_string(),
                "ops-automation",
                var("OPS_BOT_TOKEN", "*"),
            ),
            (
                "GitLab Ticket Linker".to_string(),
                "ops-automation",
                setting("GitLab Ticket Linker", "gitlab_api_token"),
            ),
            (
                "SYNC_TOKEN".to_string(),
                "zendesk-global-app",
                var("SYNC_TOKEN", "production"),
            ),
            (
                "GitLab Sync app".to_string(),
                "zendesk-global-app",
                setting("GitLab Sync", "gitlab_token"),
            ),
            (
                "GitLab sync webhook".to_string(),
                "zendesk-global-app",
                hook,
            ),
            (
                "DEPLOY_TOKEN".to_string(),
                "bridge-deploy",
                var("DEPLOY_TOKEN", "*"),
            ),
        ]
    })
}

/// Every consumer of an overlap token holds a value that authenticates as that token.
fn assert_every_consumer_authenticates(sc: &Scenario, when: &str) {
    let now = sc.now();
    let values = consumer_values(sc);
    sc.with_gitlab(|gl| {
        for (place, name, value) in &values {
            let token = gl
                .authenticates(value, now)
                .unwrap_or_else(|| panic!("{when}: {place} holds a dead value"));
            assert_eq!(&token.name, name, "{when}: {place} holds another token");
        }
    });
}

#[test]
fn the_plan_creates_then_revokes_and_names_the_new_bot_user() {
    let sc = overlap_run();
    let plan = sc.run(&["plan"], 0).stdout;
    for id in OVERLAP_TOKENS {
        let section: String = plan
            .split("\n\n")
            .find(|s| s.contains(&format!(" {id} (")))
            .unwrap_or_else(|| panic!("{id} in the plan:\n{plan}"))
            .to_string();
        assert!(section.contains("+ create"), "{id}: {section}");
        assert!(section.contains("revoke"), "{id}: {section}");
        let bot = section.contains("makes a new bot user");
        assert_eq!(bot, id != "gl-ops-bot-automation", "{id}: {section}");
    }
}

#[test]
fn no_consumer_ever_holds_a_dead_value_during_an_overlap() {
    let mut covered = 0;
    for token in OVERLAP_TOKENS {
        for step in STEPS {
            let label = format!("{token}:{step}");
            let sc = overlap_run();
            assert_every_consumer_authenticates(&sc, "before");
            sc.cmd(&["apply", "--auto-approve"])
                .env("TOKENOPS_TEST_CRASH_AT", &label)
                .expect(Exit::Killed);
            assert_every_consumer_authenticates(&sc, &format!("killed at {label}"));
            sc.cmd(&["apply", "--auto-approve"]).expect(0);
            assert_every_consumer_authenticates(&sc, &format!("after {label}"));
            assert_zendesk_converged(&sc);
            assert_plan_empty(&sc);
            let now = sc.now();
            sc.with_gitlab(|gl| {
                for name in ["ops-automation", "zendesk-global-app", "bridge-deploy"] {
                    let live = gl
                        .tokens
                        .values()
                        .filter(|t| t.name == name && t.active(now))
                        .count();
                    assert_eq!(live, 1, "{label}: {name} has {live} live records");
                }
                // Overlap never calls rotate, so reuse detection cannot fire.
            });
            covered += 1;
        }
    }
    println!("overlap crash points checked: {covered}");
    assert_eq!(covered, 21);
}
