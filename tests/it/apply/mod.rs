//! `tokenops apply` against the sandbox: convergence of the GitLab demo scenario, crash
//! safety at every step boundary, flaky platforms, secrets never leaking, and the ledger lock.

mod command;
mod converge;
mod crash;
mod demo;
mod deploy_token;
mod flaky;
mod http_ledger;
mod lock;
mod overlap;
mod own_credential;
mod provide;
mod replace;
mod service_account;
mod signing;
mod stopped;
pub(crate) mod zendesk;
mod zendesk_flaky;
mod zendesk_own_credential;

use crate::scenario::Scenario;

/// Makes the triage project's REPORTS_TRIGGER_TOKEN stale (the "stale consumer" of the demo,
/// on the GitLab side), so the trigger token is replaced: create, switch, delete the old one.
pub fn make_trigger_consumer_stale(sc: &Scenario) {
    sc.sandbox.with_state(|w| {
        let gl = w.gitlab.get_mut("gitlab.com").expect("gitlab.com");
        let var = gl
            .variables
            .iter_mut()
            .find(|v| v.key == "REPORTS_TRIGGER_TOKEN")
            .expect("REPORTS_TRIGGER_TOKEN");
        var.value =
            tokenops::sandbox::state::Value::from_request("glptt-an-old-trigger-value-0000");
    });
}

/// Every consumer holds a value that authenticates as the one live record of its token; no
/// token family was revoked; triggers and hooks hold what their variables hold.
pub fn assert_converged(sc: &Scenario) {
    let now = sc.now();
    sc.sandbox.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        let var = |key: &str, scope: &str| {
            gl.variables
                .iter()
                .find(|v| v.key == key && v.environment_scope == scope)
                .unwrap_or_else(|| panic!("variable {key} ({scope}) exists"))
                .value
                .reveal()
                .to_string()
        };
        for (key, scope, name) in [
            ("OPS_BOT_TOKEN", "*", "ops-automation"),
            ("GITLAB_READ_TOKEN", "*", "weekly-reports-read"),
            ("SYNC_TOKEN", "production", "zendesk-global-app"),
            ("DEPLOY_TOKEN", "*", "bridge-deploy"),
            ("TRIAGE_TOKEN", "*", "triage-bot"),
        ] {
            let held = gl
                .token_by_value(&var(key, scope))
                .unwrap_or_else(|| panic!("{key} holds a value GitLab does not know"));
            assert!(
                held.active(now),
                "{key} holds a dead value (token {})",
                held.id
            );
            assert_eq!(held.name, name, "{key} holds another token's value");
            let live = gl
                .tokens
                .values()
                .filter(|t| t.name == name && t.active(now))
                .count();
            assert_eq!(live, 1, "token {name} has {live} live records");
        }
        let triggers: Vec<_> = gl
            .triggers
            .values()
            .filter(|t| t.description == "https://gitlab.com/support/ops/triage")
            .collect();
        assert_eq!(triggers.len(), 1, "exactly one trigger after the switch");
        assert_eq!(
            triggers[0].value.reveal(),
            var("REPORTS_TRIGGER_TOKEN", "*"),
            "the variable holds the live trigger"
        );
        for (url, key) in [
            (
                "https://bridge.example.com/hooks/gitlab",
                "BRIDGE_HOOK_SECRET",
            ),
            (
                "https://triage.example.com/hooks/gitlab",
                "TRIAGE_HOOK_SECRET",
            ),
        ] {
            let hook = gl.hooks.values().find(|h| h.url == url).expect("hook");
            let secret = hook.token.as_ref().expect("hook keeps a secret");
            assert_eq!(secret.reveal(), var(key, "*"), "{url} and {key} agree");
        }
    });
}

/// No rotate path reached the platform twice (a repeated rotate is what reuse detection
/// punishes). Attempts the platform refused without acting (an injected 5xx or a 429) do not
/// count; a dropped connection after the change (status 0) does.
pub fn assert_no_repeated_rotate(sc: &Scenario) {
    let stats = sc.requests();
    let mut seen = std::collections::BTreeMap::new();
    let reached = |status: u16| !(status == 429 || status >= 500);
    for entry in stats
        .entries
        .iter()
        .filter(|e| e.route.ends_with("/rotate") && reached(e.status))
    {
        *seen.entry(entry.path.clone()).or_insert(0u32) += 1;
    }
    for (path, n) in seen {
        assert_eq!(n, 1, "{path} was rotated {n} times");
    }
}

/// `plan --detailed-exitcode` says there is nothing to do.
pub fn assert_plan_empty(sc: &Scenario) {
    sc.run(&["plan", "--detailed-exitcode"], 0);
}
