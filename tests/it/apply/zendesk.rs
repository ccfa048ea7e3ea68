//! `tokenops apply` on the whole shipped example, Zendesk included: GitLab tokens whose
//! consumers are Zendesk webhooks and app settings, Zendesk OAuth tokens (admin API and
//! client-credentials grant) and an OAuth client secret. Plan → apply → plan converges, each
//! consumer holds a value that authenticates, old OAuth tokens are revoked, other app settings
//! are untouched, a crash at every step boundary of every Zendesk kind loses nothing, and no
//! secret appears in any output.

use jiff::SignedDuration;

use super::{assert_no_repeated_rotate, assert_plan_empty};
use crate::scenario::{Exit, Scenario, State};

const STEPS: [&str; 6] = [
    "intent",
    "obtained",
    "staged",
    "written",
    "distributed",
    "verified",
];

/// The shipped tokenops.yaml and manifests against the demo sandbox (the ledger kept as
/// `state` says), with the Zendesk OAuth credentials made due: the Global escalations token
/// within its window, the chat-bridge client secret's consumer gone, the US Government
/// client-credentials token hours from expiry.
pub fn due_example(state: State) -> Scenario {
    let sc = Scenario::example().state(state).start();
    make_zendesk_due(&sc);
    sc
}

/// Makes the example's Zendesk OAuth credentials due (see [`due_example`]): the escalations
/// tokens of both instances (not tokenops's own read tokens of client `tokenops`) and the
/// chat bridge's client secret.
pub fn make_zendesk_due(sc: &Scenario) {
    let now = sc.now();
    sc.sandbox.with_state(|w| {
        for (instance, left) in [
            ("global", SignedDuration::from_hours(24 * 5)),
            ("us-government", SignedDuration::from_hours(6)),
        ] {
            let z = w.zendesk.get_mut(instance).expect(instance);
            let client = z
                .clients
                .values()
                .find(|c| c.identifier == "tokenops_escalations")
                .map(|c| c.id)
                .expect("client");
            for t in z.oauth_tokens.values_mut() {
                if t.client_id == client {
                    t.expires_at = Some(now + left);
                }
            }
        }
        // A client secret has no date of its own: its consumer gone makes it due.
        w.gitlab
            .get_mut("gitlab.com")
            .expect("gitlab.com")
            .variables
            .retain(|v| v.key != "ZENDESK_CLIENT_SECRET");
    });
}

/// What every Zendesk-side consumer and credential must look like once apply converged.
pub fn assert_zendesk_converged(sc: &Scenario) {
    let now = sc.now();
    sc.sandbox.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        let var = |key: &str, scope: &str| {
            gl.variables
                .iter()
                .find(|v| v.key == key && v.environment_scope == scope)
                .unwrap_or_else(|| panic!("variable {key} exists"))
                .value
                .reveal()
                .to_string()
        };
        let global = &w.zendesk["global"];
        let hook_value =
            |zd: &tokenops::sandbox::state::zendesk::Zendesk, name: &str, key: &str| {
                let hook = zd
                    .webhooks
                    .values()
                    .find(|h| h.name == name)
                    .unwrap_or_else(|| panic!("webhook {name}"));
                let auth = hook.authentication.as_ref().expect("authentication");
                assert_eq!(auth.add_position, "header", "{name}");
                (auth.kind.clone(), auth.data[key].reveal().to_string())
            };
        let setting = |zd: &tokenops::sandbox::state::zendesk::Zendesk, app: &str, key: &str| {
            let app_id = zd
                .apps
                .values()
                .find(|a| a.name == app)
                .unwrap_or_else(|| panic!("app {app}"))
                .id;
            let inst = zd
                .installations
                .values()
                .find(|i| i.app_id == app_id)
                .expect("installation");
            inst.secure_settings
                .get(key)
                .map(|v| v.reveal().to_string())
                .or_else(|| {
                    inst.settings
                        .get(key)
                        .and_then(|v| v.as_str())
                        .map(String::from)
                })
                .unwrap_or_else(|| panic!("{app} holds {key}"))
        };

        // A GitLab project token written into a Zendesk webhook and an app's secure setting.
        let sync = var("SYNC_TOKEN", "production");
        let held = gl.token_by_value(&sync).expect("SYNC_TOKEN authenticates");
        assert!(held.active(now));
        assert_eq!(
            hook_value(global, "GitLab sync", "token"),
            ("bearer_token".to_string(), sync.clone())
        );
        assert_eq!(setting(global, "GitLab Sync", "gitlab_token"), sync);

        // The personal token in the ticket linker app.
        let ops = var("OPS_BOT_TOKEN", "*");
        assert!(gl.token_by_value(&ops).is_some_and(|t| t.active(now)));
        assert_eq!(
            setting(global, "GitLab Ticket Linker", "gitlab_api_token"),
            ops
        );

        // The recreated group token in an api_key webhook.
        let triage = var("TRIAGE_TOKEN", "*");
        assert!(gl.token_by_value(&triage).is_some_and(|t| t.active(now)));
        let (kind, value) = hook_value(global, "Escalate to GitLab", "value");
        assert_eq!((kind.as_str(), value), ("api_key", triage));

        // OAuth tokens: the variables authenticate with the declared scopes; exactly one live
        // token per client, the old one revoked.
        for (zd, key) in [
            ("global", "ZENDESK_GLOBAL_TOKEN"),
            ("us-government", "ZENDESK_USGOV_TOKEN"),
        ] {
            let zd = &w.zendesk[zd];
            let value = var(key, "*");
            let tok = zd
                .authenticates(&value, now)
                .unwrap_or_else(|| panic!("{key} holds a dead Zendesk value"));
            let mut scopes = tok.scopes.clone();
            scopes.sort();
            assert_eq!(scopes, ["tickets:read", "tickets:write"], "{key}");
            let live = zd
                .oauth_tokens
                .values()
                .filter(|t| t.client_id == tok.client_id && t.usable(now))
                .count();
            assert_eq!(live, 1, "{key}: {live} live tokens of the client");
        }
        // The same global value in the GitLab hook's Authorization header.
        let hook = gl
            .hooks
            .values()
            .find(|h| h.url == "https://example.zendesk.com/api/v2/any_channel/gitlab")
            .expect("hook");
        let header = hook
            .custom_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Authorization"))
            .map(|(_, v)| v.reveal().to_string())
            .expect("Authorization header");
        assert_eq!(
            header,
            format!("Bearer {}", var("ZENDESK_GLOBAL_TOKEN", "*"))
        );

        // The client secret: the variable holds what Zendesk holds.
        let bridge = global
            .clients
            .values()
            .find(|c| c.identifier == "chat_bridge")
            .expect("chat_bridge");
        assert_eq!(bridge.secret.reveal(), var("ZENDESK_CLIENT_SECRET", "*"));
    });
}

/// The settings (not the secure ones) of the GitLab Sync app's installation.
fn sync_app_settings(sc: &Scenario) -> serde_json::Map<String, serde_json::Value> {
    sc.with_zendesk("global", |zd| {
        let app = zd
            .apps
            .values()
            .find(|a| a.name == "GitLab Sync")
            .expect("app")
            .id;
        zd.installations
            .values()
            .find(|i| i.app_id == app)
            .expect("installation")
            .settings
            .clone()
    })
}

#[test]
fn the_whole_example_converges_with_zendesk() {
    let sc = due_example(State::Local);
    let before = sync_app_settings(&sc);
    let plan_out = sc.run(&["plan", "--detailed-exitcode"], 2).stdout;
    for id in [
        "zd-global-oauth-escalations",
        "zd-usgov-oauth-escalations",
        "zd-global-oauth-client-secret",
    ] {
        assert!(
            plan_out.contains(&format!("~ {id}")),
            "{id} is due:\n{plan_out}"
        );
    }
    let stdout = sc.cmd(&["apply", "--auto-approve"]).expect(0).stdout;
    assert!(
        !stdout.lines().any(|l| l.starts_with("skipped")),
        "{stdout}"
    );
    assert_zendesk_converged(&sc);
    assert_no_repeated_rotate(&sc);
    assert_plan_empty(&sc);
    // The short-lived client-credentials token (36 h, renewed 12 h before expiry): the plan
    // says when its next renewal falls and how often the schedule must run.
    let again = sc.run(&["plan"], 0).stdout;
    let usgov = again
        .split("\n\n")
        .find(|s| s.contains(" zd-usgov-oauth-escalations ("))
        .expect("usgov entry")
        .to_string();
    assert!(
        usgov.contains("next renewal falls at 2026-11-29 09:00 UTC")
            && usgov.contains("expires at 2026-11-29 21:00 UTC")
            && usgov.contains("must run at least every 12 hours"),
        "{usgov}"
    );
    // Every other setting of the app is as it was.
    assert_eq!(
        before,
        sync_app_settings(&sc),
        "non-secure settings are untouched"
    );
    sc.ledger();
}

#[test]
fn a_mistyped_scope_is_caught_before_anything_is_written() {
    let sc = Scenario::example()
        .edit_manifest(
            "zendesk/oauth.yaml",
            "scopes: [tickets:read, tickets:write]\n      grant: admin_api",
            "scopes: [tickets:read, ticket:write]\n      grant: admin_api",
        )
        .start();
    make_zendesk_due(&sc);
    let global_token = |sc: &Scenario| {
        sc.with_gitlab(|gl| {
            gl.variables
                .iter()
                .find(|v| v.key == "ZENDESK_GLOBAL_TOKEN")
                .map(|v| v.value.reveal().to_string())
        })
    };
    let before = global_token(&sc);
    let out = sc.cmd(&["apply", "--auto-approve"]).expect(1);
    let all = out.both();
    assert!(
        all.contains("`ticket`"),
        "the error names the scope:\n{all}"
    );
    assert!(
        all.contains("oauth.yaml"),
        "the error names the file:\n{all}"
    );
    assert_eq!(before, global_token(&sc), "nothing was written");
    let now = sc.now();
    sc.with_zendesk("global", |zd| {
        let client = zd
            .clients
            .values()
            .find(|c| c.identifier == "tokenops_escalations")
            .expect("client")
            .id;
        let live = zd
            .oauth_tokens
            .values()
            .filter(|t| t.client_id == client && t.usable(now))
            .count();
        assert_eq!(
            live, 1,
            "the mis-scoped token was revoked, the old one kept"
        );
    });
}

/// Every (token, step) crash point of the Zendesk kinds and of GitLab tokens with Zendesk
/// consumers.
pub fn crash_cases() -> Vec<(&'static str, &'static str)> {
    let mut cases = Vec::new();
    for token in [
        "zd-global-gitlab-sync",
        "ops-group-triage",
        "zd-global-oauth-escalations",
        "zd-usgov-oauth-escalations",
        "zd-global-oauth-client-secret",
    ] {
        for step in STEPS {
            cases.push((token, step));
        }
    }
    cases.push(("zd-global-oauth-escalations", "retired"));
    cases
}

/// The lock id a refused apply names (`lock id ID`), if it names one.
pub fn held_lock(output: &str) -> Option<String> {
    let at = output.find("lock id ")?;
    let id: String = output[at + 8..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Applies up to `tries` times until one succeeds, releasing a lock a failed run left held
/// the way an operator would (`tokenops unlock ID`); the last run's output.
pub fn apply_until_converged(sc: &Scenario, tries: usize) -> crate::scenario::Output {
    let mut last = sc.apply(&[]);
    for _ in 1..tries {
        if last.success() {
            break;
        }
        if let Some(id) = held_lock(&last.both()) {
            sc.run(&["unlock", &id], 0);
        }
        last = sc.apply(&[]);
    }
    last
}

/// Kills apply at `label`, then runs apply again until it converges, and checks everything.
/// `ledger` reads the ledger (leak-checked) from wherever the scenario keeps it.
pub fn crash_and_recover(sc: &Scenario, label: &str, ledger: &dyn Fn(&Scenario) -> String) {
    println!("crash point {label}");
    sc.cmd(&["apply", "--auto-approve"])
        .env("TOKENOPS_TEST_CRASH_AT", label)
        .expect(Exit::Killed);
    let out = apply_until_converged(sc, 3);
    assert!(
        out.success(),
        "{label}: apply after the crash did not converge:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_zendesk_converged(sc);
    assert_no_repeated_rotate(sc);
    assert_plan_empty(sc);
    let text_of_ledger = ledger(sc);
    assert!(
        text_of_ledger.contains("fingerprint_key"),
        "{label}: the ledger was written: {text_of_ledger}"
    );
    assert!(
        !text_of_ledger.contains("\"pending\""),
        "{label}: {text_of_ledger}"
    );
}

/// The number of Zendesk crash points per backend.
pub const ZENDESK_CRASH_POINTS: usize = 5 * 6 + 1;

#[test]
fn crash_at_every_zendesk_step_boundary_loses_nothing() {
    let mut covered = 0;
    for (token, step) in crash_cases() {
        let label = format!("{token}:{step}");
        let sc = due_example(State::Local);
        crash_and_recover(&sc, &label, &Scenario::ledger);
        covered += 1;
    }
    println!("Zendesk crash points covered (local ledger): {covered}");
    assert_eq!(covered, ZENDESK_CRASH_POINTS);
}

#[test]
fn two_concurrent_applies_never_replace_a_zendesk_credential_twice() {
    let sc = due_example(State::Local);
    let apply = || {
        sc.cmd(&["apply", "--auto-approve", "--lock-timeout", "60"])
            .expect(0)
    };
    std::thread::scope(|s| {
        let a = s.spawn(apply);
        let b = s.spawn(apply);
        a.join().expect("apply a");
        b.join().expect("apply b");
    });
    let count = |route: &str| {
        sc.requests()
            .entries
            .iter()
            .filter(|e| e.route.contains(route) && e.status < 300)
            .count()
    };
    assert_eq!(count("POST /api/v2/oauth/tokens"), 1, "one admin-API mint");
    assert_eq!(
        count("POST /oauth/tokens"),
        1,
        "one client-credentials grant"
    );
    assert_eq!(
        count("PUT /api/v2/oauth/clients/:id/generate_secret"),
        1,
        "one new client secret"
    );
    assert_no_repeated_rotate(&sc);
    assert_zendesk_converged(&sc);
}

/// Zendesk calls whose connection is dropped after the platform acted (the answer is lost).
pub const DROPPED: [&str; 5] = [
    "POST /api/v2/oauth/tokens",
    "POST /oauth/tokens",
    "PUT /api/v2/oauth/clients/:id/generate_secret",
    "PATCH /api/v2/webhooks/:id",
    "PUT /api/v2/apps/installations/:id",
];

/// Drops the answer of `route` once, then applies until converged and checks everything.
pub fn drop_and_recover(sc: &Scenario, route: &str, ledger: &dyn Fn(&Scenario) -> String) {
    println!("dropped answer of {route}");
    sc.faults().set(
        route,
        tokenops::sandbox::FaultSpec {
            drop_after_apply: 1.0,
            times: Some(1),
            ..tokenops::sandbox::FaultSpec::default()
        },
    );
    let out = apply_until_converged(sc, 3);
    let dropped = sc
        .requests()
        .entries
        .iter()
        .filter(|e| e.route == route && e.status == 0)
        .count();
    assert_eq!(dropped, 1, "{route}: the answer was dropped once");
    assert!(out.success(), "{route}: did not converge:\n{}", out.both());
    assert_zendesk_converged(sc);
    assert_no_repeated_rotate(sc);
    assert_plan_empty(sc);
    let ledger_text = ledger(sc);
    assert!(
        !ledger_text.contains("\"pending\""),
        "{route}: {ledger_text}"
    );
}

#[test]
fn a_lost_answer_from_zendesk_is_learned_not_repeated_blindly() {
    for route in DROPPED {
        let sc = due_example(State::Local);
        drop_and_recover(&sc, route, &Scenario::ledger);
    }
}

#[test]
fn a_missing_client_secret_names_the_variable_and_spares_the_others() {
    let sc = due_example(State::Local);
    let stdout = sc
        .cmd(&["apply", "--auto-approve"])
        .env_remove("TOKENOPS_ZENDESK_CLIENT_SECRET_US_GOVERNMENT_TOKENOPS_ESCALATIONS")
        .expect(1)
        .stdout;
    let line = stdout
        .lines()
        .find(|l| l.contains("zd-usgov-oauth-escalations"))
        .expect("usgov line");
    assert!(line.starts_with("failed"), "{line}");
    assert!(
        line.contains("TOKENOPS_ZENDESK_CLIENT_SECRET_US_GOVERNMENT_TOKENOPS_ESCALATIONS"),
        "{line}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("done") && l.contains("zd-global-oauth-escalations")),
        "{stdout}"
    );
    // Nothing half-done is left: the next run with the secret finishes the job.
    assert!(!sc.ledger().contains("\"pending\""));
    sc.cmd(&["apply", "--auto-approve"]).expect(0);
    assert_zendesk_converged(&sc);
}
