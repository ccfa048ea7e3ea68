//! `tokenops apply` on the whole shipped example, Zendesk included: GitLab tokens whose
//! consumers are Zendesk webhooks and app settings, Zendesk OAuth tokens (admin API and
//! client-credentials grant) and an OAuth client secret. Plan → apply → plan converges, each
//! consumer holds a value that authenticates, old OAuth tokens are revoked, other app settings
//! are untouched, a crash at every step boundary of every Zendesk kind loses nothing, and no
//! secret appears in any output.

use std::os::unix::process::ExitStatusExt;

use jiff::SignedDuration;

use super::converge::assert_no_leak;
use super::{assert_no_repeated_rotate, assert_plan_empty};
use crate::harness::SandboxRun;

const STEPS: [&str; 6] = [
    "intent",
    "obtained",
    "staged",
    "written",
    "distributed",
    "verified",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// The shipped tokenops.yaml and manifests against the demo sandbox, with the Zendesk OAuth
/// credentials made due: the Global escalations token and the chat-bridge client secret
/// within their windows, the US Government client-credentials token hours from expiry.
pub fn example_run() -> SandboxRun {
    let run = SandboxRun::with("tokens: []\n", true);
    let root = crate::harness::repo_root();
    crate::harness::copy_tree(&root.join("manifests"), &run.dir.path().join("manifests"));
    std::fs::remove_file(run.dir.path().join("manifests/gitlab.yaml")).expect("placeholder");
    let recipient = {
        let identity: age::x25519::Identity = run.identity.parse().expect("identity");
        identity.to_public().to_string()
    };
    let config = std::fs::read_to_string(root.join("tokenops.yaml")).expect("config");
    let config: String = config
        .lines()
        .map(|line| match line.trim_start().strip_prefix("recipient:") {
            Some(_) => format!("  recipient: {recipient}"),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(run.dir.path().join("tokenops.yaml"), config + "\n").expect("config");
    let now = run.handle.clock().now();
    run.handle.with_state(|w| {
        let global = w.zendesk.get_mut("global").expect("global");
        let client = global
            .clients
            .values()
            .find(|c| c.identifier == "tokenops_escalations")
            .map(|c| c.id)
            .expect("client");
        for t in global.oauth_tokens.values_mut() {
            if t.client_id == client {
                t.expires_at = Some(now + SignedDuration::from_hours(24 * 5));
            }
        }
        for c in global.clients.values_mut() {
            if c.identifier == "chat_bridge" {
                c.updated_at = now - SignedDuration::from_hours(24 * 175);
            }
        }
        let usgov = w.zendesk.get_mut("us-government").expect("us-government");
        for t in usgov.oauth_tokens.values_mut() {
            t.expires_at = Some(now + SignedDuration::from_hours(6));
        }
    });
    run
}

/// `tokenops ARGS…` with the Zendesk instances and the client secret of the
/// client-credentials grant pointed at the sandbox.
pub fn zd_cmd(run: &SandboxRun, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = run.cmd(args);
    for (name, env) in [("global", "GLOBAL"), ("us-government", "US_GOVERNMENT")] {
        let token = run.handle.zendesk_admin_token(name);
        cmd.env(
            format!("TOKENOPS_ZENDESK_{env}_URL"),
            run.handle.zendesk_url(name),
        )
        .env(
            format!("TOKENOPS_ZENDESK_{env}_TOKEN"),
            secrecy::ExposeSecret::expose_secret(&token),
        );
    }
    let secret = run.handle.with_state(|w| {
        w.zendesk["us-government"]
            .clients
            .values()
            .find(|c| c.identifier == "tokenops_escalations")
            .map(|c| c.secret.reveal().to_string())
            .expect("client")
    });
    cmd.env(
        "TOKENOPS_ZENDESK_CLIENT_SECRET_US_GOVERNMENT_TOKENOPS_ESCALATIONS",
        secret,
    );
    cmd
}

fn apply(run: &SandboxRun) -> std::process::Output {
    zd_cmd(run, &["apply", "--auto-approve"])
        .output()
        .expect("apply")
}

/// Every secret the sandbox holds on either platform (for the leak check).
fn zendesk_secrets(run: &SandboxRun) -> Vec<String> {
    run.handle.with_state(|w| {
        let mut values = Vec::new();
        for z in w.zendesk.values() {
            values.extend(
                z.oauth_tokens
                    .values()
                    .map(|t| t.value.reveal().to_string()),
            );
            values.extend(z.clients.values().map(|c| c.secret.reveal().to_string()));
            for h in z.webhooks.values() {
                if let Some(a) = &h.authentication {
                    values.extend(a.data.values().map(|v| v.reveal().to_string()));
                }
            }
        }
        values.retain(|v| v.len() >= 8 && !v.contains('@'));
        values
    })
}

/// What every Zendesk-side consumer and credential must look like once apply converged.
pub fn assert_zendesk_converged(run: &SandboxRun) {
    let now = run.handle.clock().now();
    run.handle.with_state(|w| {
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

#[test]
fn the_whole_example_converges_with_zendesk() {
    let run = example_run();
    let before: serde_json::Map<String, serde_json::Value> = run.handle.with_state(|w| {
        let zd = &w.zendesk["global"];
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
    });
    let plan = zd_cmd(&run, &["plan", "--detailed-exitcode"])
        .output()
        .expect("plan");
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stderr));
    let plan_out = text(&plan.stdout);
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
    let out = apply(&run);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        !stdout.lines().any(|l| l.starts_with("skipped")),
        "{stdout}"
    );
    assert_zendesk_converged(&run);
    assert_no_repeated_rotate(&run);
    assert_plan_empty_zd(&run);
    // The short-lived client-credentials token (36 h, renewed 12 h before expiry): the plan
    // says when its next renewal falls and how often the schedule must run.
    let again = zd_cmd(&run, &["plan"]).output().expect("plan");
    let again = text(&again.stdout);
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
    let after = run.handle.with_state(|w| {
        let zd = &w.zendesk["global"];
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
    });
    assert_eq!(before, after, "non-secure settings are untouched");
    let mut secrets = zendesk_secrets(&run);
    secrets.extend(super::converge::every_secret(&run));
    for secret in &secrets {
        for (name, t) in [
            ("plan", &plan_out),
            ("apply", &stdout),
            ("ledger", &run.ledger_text()),
        ] {
            assert!(!t.contains(secret.as_str()), "a secret appears in {name}");
        }
    }
}

/// `plan --detailed-exitcode` after apply: nothing but legacy tokens, which need a person.
pub fn assert_plan_empty_zd(run: &SandboxRun) {
    let out = zd_cmd(run, &["plan", "--detailed-exitcode"])
        .output()
        .expect("plan");
    assert_eq!(
        out.status.code(),
        Some(0),
        "plan after apply is not empty:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let _ = assert_plan_empty;
}

#[test]
fn a_mistyped_scope_is_caught_before_anything_is_written() {
    let run = example_run();
    let path = run.dir.path().join("manifests/zendesk/oauth.yaml");
    let manifest = std::fs::read_to_string(&path).expect("manifest");
    let manifest = manifest.replacen(
        "scopes: [tickets:read, tickets:write]\n      grant: admin_api",
        "scopes: [tickets:read, ticket:write]\n      grant: admin_api",
        1,
    );
    std::fs::write(&path, manifest).expect("manifest");
    let before = run.handle.with_state(|w| {
        w.gitlab["gitlab.com"]
            .variables
            .iter()
            .find(|v| v.key == "ZENDESK_GLOBAL_TOKEN")
            .map(|v| v.value.reveal().to_string())
    });
    let out = apply(&run);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("`ticket`"),
        "the error names the scope:\n{all}"
    );
    assert!(
        all.contains("oauth.yaml"),
        "the error names the file:\n{all}"
    );
    let after = run.handle.with_state(|w| {
        w.gitlab["gitlab.com"]
            .variables
            .iter()
            .find(|v| v.key == "ZENDESK_GLOBAL_TOKEN")
            .map(|v| v.value.reveal().to_string())
    });
    assert_eq!(before, after, "nothing was written");
    let now = run.handle.clock().now();
    run.handle.with_state(|w| {
        let zd = &w.zendesk["global"];
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

/// Kills apply at `label`, then runs apply again until it converges, releasing a lock the
/// crash left held the way an operator would (`tokenops unlock ID`), and checks everything.
pub fn crash_and_recover(run: &SandboxRun, label: &str, ledger: &dyn Fn(&SandboxRun) -> String) {
    let crashed = zd_cmd(run, &["apply", "--auto-approve"])
        .env("TOKENOPS_TEST_CRASH_AT", label)
        .output()
        .expect("apply");
    assert_eq!(
        crashed.status.signal(),
        Some(9),
        "{label}: the fault point was not reached:\n{}",
        text(&crashed.stdout)
    );
    let mut outputs = vec![(
        label.to_string(),
        text(&crashed.stdout) + &text(&crashed.stderr),
    )];
    let mut last = None;
    for _ in 0..3 {
        let out = apply(run);
        let both = text(&out.stdout) + &text(&out.stderr);
        outputs.push((label.to_string(), both.clone()));
        let ok = out.status.success();
        last = Some(out);
        if ok {
            break;
        }
        if let Some(id) = held_lock(&both) {
            let unlocked = zd_cmd(run, &["unlock", &id]).output().expect("unlock");
            assert!(
                unlocked.status.success(),
                "{label}: unlock {id}: {}",
                text(&unlocked.stderr)
            );
        }
    }
    let out = last.expect("ran");
    assert!(
        out.status.success(),
        "{label}: apply after the crash did not converge:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_zendesk_converged(run);
    assert_no_repeated_rotate(run);
    assert_plan_empty_zd(run);
    let text_of_ledger = ledger(run);
    assert!(
        text_of_ledger.contains("fingerprint_key"),
        "{label}: the ledger was written: {text_of_ledger}"
    );
    assert!(
        !text_of_ledger.contains("\"pending\""),
        "{label}: {text_of_ledger}"
    );
    outputs.push((format!("{label}: ledger"), text_of_ledger));
    let texts: Vec<(&str, String)> = outputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.clone()))
        .collect();
    assert_no_leak(run, &texts);
    let zsecrets = zendesk_secrets(run);
    for (name, t) in &texts {
        for s in &zsecrets {
            assert!(
                !t.contains(s.as_str()),
                "a Zendesk secret appears in {name}"
            );
        }
    }
}

/// The number of Zendesk crash points per backend.
pub const ZENDESK_CRASH_POINTS: usize = 5 * 6 + 1;

#[test]
fn crash_at_every_zendesk_step_boundary_loses_nothing() {
    let mut covered = 0;
    for (token, step) in crash_cases() {
        let label = format!("{token}:{step}");
        let run = example_run();
        crash_and_recover(&run, &label, &|r| r.ledger_text());
        covered += 1;
    }
    println!("Zendesk crash points covered (local ledger): {covered}");
    assert_eq!(covered, ZENDESK_CRASH_POINTS);
}

#[test]
fn two_concurrent_applies_never_replace_a_zendesk_credential_twice() {
    let run = example_run();
    let mut a = zd_cmd(&run, &["apply", "--auto-approve", "--lock-timeout", "60"]);
    let mut b = zd_cmd(&run, &["apply", "--auto-approve", "--lock-timeout", "60"]);
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(move || a.output().expect("apply a"));
        let hb = s.spawn(move || b.output().expect("apply b"));
        (ha.join().expect("a"), hb.join().expect("b"))
    });
    assert!(ra.status.success(), "{}", text(&ra.stdout));
    assert!(rb.status.success(), "{}", text(&rb.stdout));
    let count = |route: &str| {
        run.handle
            .requests()
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
    assert_no_repeated_rotate(&run);
    assert_zendesk_converged(&run);
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
pub fn drop_and_recover(run: &SandboxRun, route: &str, ledger: &dyn Fn(&SandboxRun) -> String) {
    run.handle.faults().set(
        route,
        tokenops::sandbox::FaultSpec {
            drop_after_apply: 1.0,
            times: Some(1),
            ..tokenops::sandbox::FaultSpec::default()
        },
    );
    let mut outputs = Vec::new();
    let mut ok = false;
    for _ in 0..3 {
        let out = apply(run);
        let both = text(&out.stdout) + &text(&out.stderr);
        ok = out.status.success();
        if !ok && let Some(id) = held_lock(&both) {
            let _ = zd_cmd(run, &["unlock", &id]).output();
        }
        outputs.push(both);
        if ok {
            break;
        }
    }
    let dropped = run
        .handle
        .requests()
        .entries
        .iter()
        .filter(|e| e.route == route && e.status == 0)
        .count();
    assert_eq!(dropped, 1, "{route}: the answer was dropped once");
    assert!(
        ok,
        "{route}: did not converge:\n{}",
        outputs.join("\n---\n")
    );
    assert_zendesk_converged(run);
    assert_no_repeated_rotate(run);
    assert_plan_empty_zd(run);
    let ledger_text = ledger(run);
    assert!(
        !ledger_text.contains("\"pending\""),
        "{route}: {ledger_text}"
    );
    outputs.push(ledger_text);
    let texts: Vec<(&str, String)> = outputs.iter().map(|t| (route, t.clone())).collect();
    assert_no_leak(run, &texts);
}

#[test]
fn a_lost_answer_from_zendesk_is_learned_not_repeated_blindly() {
    for route in DROPPED {
        let run = example_run();
        drop_and_recover(&run, route, &|r| r.ledger_text());
    }
}

#[test]
fn a_missing_client_secret_names_the_variable_and_spares_the_others() {
    let run = example_run();
    let out = zd_cmd(&run, &["apply", "--auto-approve"])
        .env_remove("TOKENOPS_ZENDESK_CLIENT_SECRET_US_GOVERNMENT_TOKENOPS_ESCALATIONS")
        .output()
        .expect("apply");
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
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
    assert!(!run.ledger_text().contains("\"pending\""));
    assert!(apply(&run).status.success());
    assert_zendesk_converged(&run);
}
