//! tokenops signs in to Zendesk with an OAuth client's identifier and secret and keeps that
//! secret alive: each run mints its own short-lived access token with the client-credentials
//! grant and revokes it at the end (a SIGKILLed run's token dies by the sandbox clock); the
//! secret is declared as a `zendesk_oauth_client_secret` with a `tokenops_credential`
//! consumer and the CI/CD variable that holds it, rotated after every other token. A crash at
//! every step boundary converges from the escrow, and a generate whose answer was lost is
//! never sent again.

use reqwest::Method;
use serde_json::json;
use tokenops::cli::env::override_var;
use tokenops::http::Platform;

use crate::scenario::{Exit, Output, Scenario};

/// The OAuth client tokenops signs in to Zendesk `global` with.
const CLIENT: &str = "tokenops";
/// The CI/CD variable that holds its secret for the next pipeline.
const VAR: &str = "TOKENOPS_ZENDESK_SECRET";

const MANIFEST: &str = "tokens:
  - id: zd-global-oauth-escalations
    zendesk_oauth_token:
      zendesk: global
      client: tokenops_escalations
      scopes: [tickets:read, tickets:write]
      grant: admin_api
    rotation: { rotate_before: 7d }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/escalations, key: ZENDESK_GLOBAL_TOKEN, masked: true, protected: true }
  - id: tokenops-zendesk
    zendesk_oauth_client_secret: { zendesk: global, client: tokenops }
    rotation: { lifetime: 90d, rotate_before: 14d }
    consumers:
      - tokenops_credential: { zendesk: global }
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/tokenops, key: TOKENOPS_ZENDESK_SECRET, masked: true, protected: true, raw: true }
";

/// Apply with the own secret replaced now (nothing ages it before tokenops first replaces it).
const APPLY: [&str; 4] = ["apply", "--auto-approve", "--replace", "tokenops-zendesk"];

/// Zendesk `global` signs in with the seed's client `tokenops` (created after 2026-04-30, so
/// Zendesk's expiry policy reaches it), whose secret the CI/CD variable holds as after the
/// bootstrap.
fn start() -> Scenario {
    start_with(&[])
}

/// Like [`start`], with more manifests.
fn start_with(more: &[(&str, &str)]) -> Scenario {
    let mut builder = Scenario::demo()
        .global_signs_in_with_a_client()
        // Check lists the instance's tokens, so a run's own would show as undeclared.
        .config(|c| c.check.discover.zendesk = vec!["global".into()])
        .manifest("own.yaml", MANIFEST)
        .escrow(true);
    for (path, text) in more {
        builder = builder.manifest(path, text);
    }
    let sc = builder.start();
    // The seed's client `tokenops`, made by hand at the bootstrap (after 2026-04-30).
    let (_, secret) = client(&sc);
    let var = sc.block_on(sc.gl(
        Method::POST,
        &sc.admin(),
        "/projects/support%2Fops%2Ftokenops/variables",
        Some(json!({"key": VAR, "value": secret, "masked": true, "protected": true, "raw": true})),
    ));
    assert_eq!(var.status, 201, "{:?}", var.body);
    sc
}

/// What the CI/CD variable holding the client secret holds now.
fn secret_var(sc: &Scenario) -> String {
    variable(sc, VAR)
}

/// What CI/CD variable `key` holds now.
fn variable(sc: &Scenario, key: &str) -> String {
    sc.with_gitlab(|g| {
        g.variables
            .iter()
            .find(|v| v.key == key)
            .expect(key)
            .value
            .reveal()
            .to_string()
    })
}

/// The client's id and current secret in the sandbox.
fn client(sc: &Scenario) -> (u64, String) {
    sc.with_zendesk("global", |z| {
        let c = z
            .clients
            .values()
            .find(|c| c.identifier == CLIENT)
            .expect("client tokenops");
        (c.id, c.secret.reveal().to_string())
    })
}

/// `tokenops ARGS…` signed in to Zendesk `global` as a pipeline job would be: the client's
/// identifier and the secret the CI/CD variable holds, no token override.
fn pipeline(sc: &Scenario, args: &[&str], secret: &str, exit: impl Into<Exit>) -> Output {
    sc.cmd(args)
        .env_remove(&override_var(Platform::Zendesk, "global", "TOKEN"))
        .env("ZD_CLIENT_ID", CLIENT)
        .env("ZD_CLIENT_SECRET", secret)
        .expect(exit)
}

/// The tokens runs minted for client `tokenops` to sign in with (scopes `read write`; the
/// seed's read-only token of the same client is none): (usable now, expires_at set).
fn run_tokens(sc: &Scenario) -> Vec<(bool, Option<jiff::Timestamp>)> {
    let (id, _) = client(sc);
    let now = sc.now();
    sc.with_zendesk("global", |z| {
        z.oauth_tokens
            .values()
            .filter(|t| t.client_id == id && t.scopes.iter().any(|s| s == "write"))
            .map(|t| (t.usable(now), t.expires_at))
            .collect()
    })
}

/// A client-credentials grant with `secret` works now.
fn signs_in(sc: &Scenario, secret: &str) -> bool {
    let url = format!("{}/oauth/tokens", sc.sandbox.zendesk_url("global"));
    let answer = sc.block_on(sc.send(sc.http.post(url).json(&json!({
        "grant_type": "client_credentials", "client_id": CLIENT, "client_secret": secret,
        "scope": "read", "expires_in": 600
    }))));
    answer.status == 200
}

/// The CI/CD variable holds the client's current secret, which signs in; the secret was
/// generated exactly `generated` times; no run token outlives its run.
fn assert_converged(sc: &Scenario, label: &str, generated: u64) {
    let (_, current) = client(sc);
    assert_eq!(secret_var(sc), current, "{label}: {VAR} lags behind");
    let stats = sc.requests();
    assert_eq!(
        stats.count("PUT /api/v2/oauth/clients/:id/generate_secret"),
        generated,
        "{label}: the secret was generated {generated} time(s)"
    );
    assert!(
        run_tokens(sc).iter().all(|(usable, _)| !usable),
        "{label}: a run token is still alive"
    );
    assert!(signs_in(sc, &current), "{label}: the held secret signs in");
}

#[test]
fn a_client_credentials_run_mints_its_own_short_lived_token_and_revokes_it_at_the_end() {
    let sc = start();
    let (_, secret) = client(&sc);
    sc.sandbox.clear_requests();
    let out = pipeline(&sc, &["plan", "--detailed-exitcode"], &secret, 2);
    assert!(out.stdout.contains("tokenops-zendesk"), "{}", out.stdout);
    let stats = sc.requests();
    let zendesk: Vec<_> = stats
        .entries
        .iter()
        .filter(|e| e.instance == "zendesk/global")
        .collect();
    assert_eq!(
        zendesk[0].route, "POST /oauth/tokens",
        "the grant comes first"
    );
    assert_eq!(zendesk[0].status, 200);
    let last = zendesk.last().expect("requests");
    assert_eq!(
        (last.route.as_str(), last.status),
        ("DELETE /api/v2/oauth/tokens/:id", 204),
        "the run's token is revoked last"
    );
    assert_eq!(stats.count("POST /oauth/tokens"), 1, "one grant per run");
    assert!(
        zendesk.iter().all(|e| e.status != 401),
        "every call signed in: {zendesk:#?}"
    );
    let tokens = run_tokens(&sc);
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let (usable, expires) = tokens[0];
    assert!(!usable, "revoked at the end");
    let life = expires.expect("the run asks for a lifetime") - sc.now();
    assert!(
        life.as_secs() <= 3_600 && life.as_secs() > 3_000,
        "about an hour: {life:?}"
    );
    // On an error too: a plan that fails still revokes the token it minted.
    sc.sandbox.clear_requests();
    let out = pipeline(
        &sc,
        &["plan", "--out", "no/such/directory/plan.json"],
        &secret,
        1,
    );
    assert!(out.stderr.contains("plan.json"), "{}", out.stderr);
    let stats = sc.requests();
    assert_eq!(stats.count("POST /oauth/tokens"), 1);
    assert_eq!(stats.count("DELETE /api/v2/oauth/tokens/:id"), 1);
    assert!(run_tokens(&sc).iter().all(|(usable, _)| !usable));
}

#[test]
fn a_wrong_client_secret_is_refused_and_the_run_names_the_variable() {
    let sc = start();
    let out = pipeline(&sc, &["plan"], "not-the-secret-of-this-client", 1);
    let text = out.both();
    assert!(text.contains("tokenops could not sign in"), "{text}");
    assert!(
        text.contains("ZD_CLIENT_SECRET holds the client's current secret"),
        "{text}"
    );
    assert!(text.contains("401 invalid_client"), "{text}");
    assert!(
        !text.contains("not-the-secret"),
        "the secret is never printed"
    );
    let stats = sc.requests();
    assert_eq!(
        stats
            .by_route_status
            .get(&("POST /oauth/tokens".to_string(), 401)),
        Some(&1),
        "refused once, never retried"
    );
    assert!(run_tokens(&sc).is_empty());
}

#[test]
fn a_sigkilled_runs_token_expires_by_the_sandbox_clock() {
    let sc = start();
    let (_, secret) = client(&sc);
    sc.cmd(&["apply", "--auto-approve"])
        .env_remove(&override_var(Platform::Zendesk, "global", "TOKEN"))
        .env("ZD_CLIENT_ID", CLIENT)
        .env("ZD_CLIENT_SECRET", &secret)
        .env(
            "TOKENOPS_TEST_CRASH_AT",
            "zd-global-oauth-escalations:staged",
        )
        .expect(Exit::Killed);
    let left = run_tokens(&sc);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].0, "the killed run could not revoke its token");
    sc.sandbox
        .clock()
        .advance(jiff::SignedDuration::from_secs(3_601));
    assert!(
        run_tokens(&sc).iter().all(|(usable, _)| !usable),
        "it expired by itself"
    );
    // The next run converges with the same secret.
    pipeline(&sc, &["apply", "--auto-approve"], &secret, 0);
    assert_converged(&sc, "after the kill", 0);
}

#[test]
fn own_client_secret_rotates_last_and_the_run_keeps_its_token_until_the_end() {
    let sc = start();
    let (_, old) = client(&sc);
    sc.sandbox.clear_requests();
    let out = pipeline(&sc, &[APPLY[0], APPLY[1], APPLY[2], APPLY[3]], &old, 0);
    assert!(out.stdout.contains("tokenops-zendesk"), "{}", out.stdout);
    let stats = sc.requests();
    assert_converged(&sc, "first run", 1);
    assert_ne!(secret_var(&sc), old, "rotated");
    assert!(!signs_in(&sc, &old), "the old secret is dead");

    let generate = stats
        .entries
        .iter()
        .position(|e| e.route == "PUT /api/v2/oauth/clients/:id/generate_secret")
        .expect("generated");
    let other = stats
        .entries
        .iter()
        .position(|e| e.route == "POST /api/v2/oauth/tokens")
        .expect("the escalations token was minted");
    assert!(other < generate, "the own credential goes last");
    let after = &stats.entries[generate + 1..];
    let refused: Vec<_> = after.iter().filter(|e| e.status == 401).collect();
    assert!(
        refused.is_empty(),
        "the run's token kept working: {refused:#?}"
    );
    assert!(
        after.iter().any(|e| e.route == "POST /oauth/tokens"),
        "verification minted with the new secret"
    );
    assert_eq!(
        after.last().map(|e| (e.route.as_str(), e.status)),
        Some(("DELETE /api/v2/oauth/tokens/:id", 204)),
        "the run's own token is revoked at the very end"
    );
    pipeline(&sc, &["plan", "--detailed-exitcode"], &secret_var(&sc), 0);
}

#[test]
fn own_client_secret_crash_at_every_step_boundary_converges_from_the_escrow() {
    for step in ["intent", "staged", "written", "distributed", "verified"] {
        let label = format!("tokenops-zendesk:{step}");
        let sc = start();
        sc.cmd(&APPLY)
            .env_remove(&override_var(Platform::Zendesk, "global", "TOKEN"))
            .env("ZD_CLIENT_ID", CLIENT)
            .env("ZD_CLIENT_SECRET", secret_var(&sc))
            .env("TOKENOPS_TEST_CRASH_AT", &label)
            .expect(Exit::Killed);
        // The killed run's token dies by itself before the next pipeline.
        sc.sandbox
            .clock()
            .advance(jiff::SignedDuration::from_secs(3_601));
        let out = pipeline(&sc, &["apply", "--auto-approve"], &secret_var(&sc), 0);
        assert!(out.success(), "{label}: {}\n{}", out.stdout, out.stderr);
        assert_converged(&sc, &label, 1);
        assert!(!sc.ledger().contains("\"pending\""), "{label}");
        pipeline(&sc, &["plan", "--detailed-exitcode"], &secret_var(&sc), 0);
    }
}

#[test]
fn lost_client_secret_generate_is_never_resent_and_says_what_a_person_must_do() {
    let sc = start();
    let (_, old) = client(&sc);
    sc.cmd(&APPLY)
        .env_remove(&override_var(Platform::Zendesk, "global", "TOKEN"))
        .env("ZD_CLIENT_ID", CLIENT)
        .env("ZD_CLIENT_SECRET", &old)
        .env("TOKENOPS_TEST_CRASH_AT", "tokenops-zendesk:obtained")
        .expect(Exit::Killed);
    assert_eq!(
        secret_var(&sc),
        old,
        "the variable still holds the dead secret"
    );
    let out = pipeline(&sc, &["apply", "--auto-approve"], &old, 1);
    let text = out.both();
    assert!(text.contains("A person must"), "{text}");
    assert!(text.contains(VAR), "{text}");
    assert!(text.contains("client_secret_env"), "{text}");
    assert_eq!(
        sc.requests()
            .count("PUT /api/v2/oauth/clients/:id/generate_secret"),
        1,
        "never generated again"
    );
    // Once a person generated a secret and put it in the variable, apply converges.
    let (id, _) = client(&sc);
    let fresh = sc.block_on(sc.zd(
        "global",
        Method::PUT,
        &sc.zd_admin("global"),
        &format!("/api/v2/oauth/clients/{id}/generate_secret"),
        None,
    ));
    let fresh = fresh.body["client"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    sc.with_gitlab(|g| {
        let v = g.variables.iter_mut().find(|v| v.key == VAR).expect(VAR);
        v.value = tokenops::sandbox::state::Value::from_request(&fresh);
    });
    pipeline(&sc, &["apply", "--auto-approve"], &fresh, 0);
    let (_, current) = client(&sc);
    assert_eq!(secret_var(&sc), current);
    assert!(signs_in(&sc, &current));
}

/// The read token merge-request pipelines plan with: a `read` token of the very client the
/// run signs in as (the seed's, made at the bootstrap).
const READ_MANIFEST: &str = "tokens:
  - id: tokenops-zendesk-global-read
    zendesk_oauth_token: { zendesk: global, client: tokenops, scopes: [read], grant: client_credentials }
    rotation: { lifetime: 36h, rotate_before: 12h }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/tokenops, key: ZENDESK_GLOBAL_READ_TOKEN, masked: true }
";

#[test]
fn a_run_signed_in_as_a_client_never_takes_its_own_token_for_a_declared_one() {
    let sc = start_with(&[("read.yaml", READ_MANIFEST)]);
    let (client_id, secret) = client(&sc);
    // The run's own token (client `tokenops`, `read write`, the newest) is not the read
    // token's record: no scope drift, no stale variable, nothing undeclared.
    let plan = pipeline(&sc, &["plan"], &secret, 0);
    assert!(
        plan.stdout
            .contains("= tokenops-zendesk-global-read (zendesk_oauth_token) ok"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("scope-drift"), "{}", plan.stdout);
    let check = pipeline(&sc, &["check", "--format", "json"], &secret, 2);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).expect("JSON");
    let zendesk_tokens: Vec<&serde_json::Value> = report["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"] == "zendesk_oauth_token" && e["platform"] == "global")
        .collect();
    assert!(!zendesk_tokens.is_empty(), "{}", check.stdout);
    assert!(
        zendesk_tokens.iter().all(|e| !e["declared_by"].is_null()),
        "the run's own token is listed as undeclared: {}",
        check.stdout
    );

    // Due now: apply mints the next read token through the grant of the client it signs in
    // as, with the secret it signs in with (no second copy of it in the environment).
    let now = sc.now();
    sc.with_zendesk("global", |z| {
        for t in z.oauth_tokens.values_mut() {
            if t.client_id == client_id && t.scopes == ["read"] {
                t.expires_at = Some(now + jiff::SignedDuration::from_hours(6));
            }
        }
    });
    let out = pipeline(&sc, &["apply", "--auto-approve"], &secret, 0);
    assert!(
        out.stdout
            .contains("done     tokenops-zendesk-global-read:"),
        "{}",
        out.stdout
    );
    let held = variable(&sc, "ZENDESK_GLOBAL_READ_TOKEN");
    let renewed = sc.with_zendesk("global", |z| {
        z.oauth_tokens
            .values()
            .find(|t| t.value.reveal() == held)
            .map(|t| (t.client_id, t.scopes.clone(), t.usable(now)))
    });
    assert_eq!(
        renewed,
        Some((client_id, vec!["read".to_string()], true)),
        "the variable holds a live read-only token of client tokenops"
    );
    assert!(
        run_tokens(&sc).iter().all(|(usable, _)| !usable),
        "the run's own token was revoked at its end, not kept as the read token"
    );
}

#[test]
fn a_declared_token_with_the_run_tokens_scopes_is_never_the_runs_own() {
    // A token of the sign-in client with the scopes of the run's own token: were the run's
    // token taken for its record, the plan would find it expiring within the hour and apply
    // would revoke the token the run is signed in with.
    let manifest = "tokens:
  - id: tokenops-client-token
    zendesk_oauth_token: { zendesk: global, client: tokenops, scopes: [read, write], grant: client_credentials }
    rotation: { lifetime: 36h, rotate_before: 12h }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/escalations, key: CLIENT_TOKEN, masked: true, protected: true }
";
    let sc = start_with(&[("client.yaml", manifest)]);
    let (_, secret) = client(&sc);
    let plan = pipeline(&sc, &["plan", "--format", "json"], &secret, 0);
    let doc: serde_json::Value = serde_json::from_str(&plan.stdout).expect("JSON");
    let token = doc["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == "tokenops-client-token")
        .expect("the declared token");
    // Its record is the seed's token of the client (whose scopes then differ), never the
    // run's: nothing is due and nothing would be revoked.
    assert_eq!(token["status"], "scope-drift", "{token}");
    let run_token = sc.with_zendesk("global", |z| {
        z.oauth_tokens
            .values()
            .filter(|t| t.scopes.iter().any(|s| s == "write"))
            .map(|t| t.id.to_string())
            .max()
    });
    assert_ne!(
        token["platform_id"].as_str(),
        run_token.as_deref(),
        "{token}"
    );
    assert!(
        token["actions"]
            .as_array()
            .is_some_and(|a| a.iter().all(|x| x["action"] != "revoke")),
        "{token}"
    );
}
