//! Ages from fields that carry them: a client secret is aged from tokenops's own last
//! replacement ("age unknown" before), a legacy API token Zendesk still reports active is
//! never given a deactivation day in the past, `plan` and `check` count the same days left,
//! and the anonymous `users/me` of a bad credential is not a signed-in user.

use jiff::SignedDuration;

use crate::scenario::{Scenario, names};

const SECRET_SEED: &str = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
    oauth_clients:
      - { identifier: chat_bridge, name: Chat bridge }
"#;

const SECRET_MANIFEST: &str = r#"
tokens:
  - id: bridge-secret
    zendesk_oauth_client_secret: { zendesk: global, client: chat_bridge }
    rotation: { lifetime: 180d }
    consumers:
      - manual: { instructions: Paste it into the chat bridge }
"#;

fn plan_json(sc: &Scenario) -> serde_json::Value {
    let out = sc
        .cmd(&["plan", "--format", "json"])
        .expect(crate::scenario::Exit::Any);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.both()))
}

fn token<'a>(plan: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    plan["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {plan}"))
}

#[test]
fn a_client_secret_tokenops_never_replaced_has_an_unknown_age_not_the_clients_edit_date() {
    let sc = Scenario::seeded(SECRET_SEED)
        .escrow(true)
        .manifest("zd.yaml", SECRET_MANIFEST)
        .start();
    // A client last edited in 2012: its date says nothing about the secret.
    sc.with_zendesk("global", |zd| {
        for c in zd.clients.values_mut() {
            c.updated_at = "2012-01-18T10:00:00Z".parse().unwrap();
            c.created_at = c.updated_at;
        }
    });
    let plan = plan_json(&sc);
    let secret = token(&plan, "bridge-secret");
    assert!(secret["expires_at"].is_null(), "{secret}");
    assert!(
        secret["reason"].as_str().unwrap().contains("age unknown"),
        "{secret}"
    );
    assert_ne!(secret["status"], "expired", "{secret}");
    let text = sc.run(&["plan"], 0).stdout;
    assert!(!text.contains("2012"), "{text}");
}

#[test]
fn a_client_secret_is_aged_from_its_last_replacement_not_from_later_client_edits() {
    // A consumer that does not exist yet makes the first replacement due.
    let seed = format!(
        "{}    groups:\n      - {{ path: support }}\n      - {{ path: support/ops }}\n    \
         projects:\n      - {{ path: support/ops/bridge }}\n",
        SECRET_SEED.replace(
            "      - { username: tokenops-admin, name: tokenops, admin: true }\n",
            "      - { username: tokenops-admin, name: tokenops, admin: true }\nGROUPS",
        )
    );
    let seed = {
        let (head, tail) = seed.split_once("GROUPS").unwrap();
        let (tail, groups) = tail.split_at(tail.find("    groups:").unwrap());
        format!("{head}{groups}{tail}")
    };
    let manifest = SECRET_MANIFEST.replace(
        "      - manual: { instructions: Paste it into the chat bridge }",
        "      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/bridge, key: BRIDGE_SECRET, masked: true }",
    );
    let sc = Scenario::seeded(&seed)
        .escrow(true)
        .manifest("zd.yaml", &manifest)
        .start();
    sc.run(&["apply", "--auto-approve"], 0);
    assert!(sc.ledger().contains("bridge-secret"));
    sc.sandbox
        .clock()
        .advance(SignedDuration::from_hours(24 * 10));
    sc.with_zendesk("global", |zd| {
        let now = "2026-12-08T09:00:00Z".parse().unwrap();
        for c in zd.clients.values_mut() {
            c.updated_at = now;
        }
    });
    let plan = plan_json(&sc);
    let secret = token(&plan, "bridge-secret");
    assert_eq!(secret["days_left"], 170, "{secret}");
}

const LEGACY_SEED: &str = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
      - { name: Reporting Bot, email: reporting-bot@example.com, role: admin }
    api_tokens:
      - { id: 9001, description: reporting, user: reporting-bot@example.com, created_at: -400d, last_used: -80d }
"#;

const LEGACY_MANIFEST: &str = r#"
tokens:
  - id: legacy
    zendesk_api_token: { zendesk: global, token_id: 9001, email: reporting-bot@example.com }
    consumers:
      - manual: { instructions: Paste it into the reporting dashboard }
"#;

#[test]
fn an_active_legacy_token_is_never_deactivated_on_a_day_already_past() {
    // Before the idle policy began: 80 days unused, and Zendesk reports it active.
    let sc = Scenario::seeded(LEGACY_SEED)
        .at("2026-07-20T09:00:00.600Z")
        .check(tokenops::manifest::CheckSettings {
            discover: tokenops::manifest::Discover {
                zendesk: names(&["global"]),
                ..Default::default()
            },
            ..Default::default()
        })
        .manifest("zd.yaml", LEGACY_MANIFEST)
        .start();
    let plan = sc.run(&["plan"], 0).stdout;
    assert!(
        plan.contains("will be deactivated on 2026-07-28 if still unused"),
        "{plan}"
    );
    let out = sc
        .cmd(&["check", "--format", "json"])
        .expect(crate::scenario::Exit::Any)
        .stdout;
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entry = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "zendesk_api_token")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(entry["expires_at"], "2026-07-28", "{entry}");
    assert!(
        entry["why"]
            .as_str()
            .unwrap()
            .contains("deactivated on 2026-07-28"),
        "{entry}"
    );
}

#[test]
fn idle_days_over_and_still_active_means_any_day_not_a_past_date() {
    use tokenops::kinds::tokens::zendesk_api_token::{Deactivation, deactivation};
    let now: jiff::Timestamp = "2026-11-28T09:00:00Z".parse().unwrap();
    let used: jiff::Timestamp = "2026-09-01T09:00:00Z".parse().unwrap();
    assert_eq!(
        deactivation(true, Some(used), now),
        Deactivation::AnyDay { idle_days: 88 }
    );
    assert_eq!(deactivation(false, Some(used), now), Deactivation::Done);
    let recent: jiff::Timestamp = "2026-11-20T09:00:00Z".parse().unwrap();
    assert_eq!(
        deactivation(true, Some(recent), now),
        Deactivation::On(jiff::civil::date(2026, 12, 20))
    );
}

#[test]
fn plan_and_check_count_the_same_days_left() {
    let seed = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
    oauth_clients:
      - { identifier: escalations, name: Escalations }
    oauth_tokens:
      - { client: escalations, scopes: [tickets:read], expires_at: +5d }
"#;
    let manifest = r#"
tokens:
  - id: escalations
    zendesk_oauth_token: { zendesk: global, client: escalations, scopes: [tickets:read] }
    rotation: { rotate_before: 1d }
    consumers:
      - manual: { instructions: Paste it into the escalation service }
"#;
    let sc = Scenario::seeded(seed).manifest("zd.yaml", manifest).start();
    // 5 days 20 hours left: 5 whole days, in plan and check alike.
    let at = sc.now() + SignedDuration::from_hours(5 * 24 + 20);
    sc.with_zendesk("global", |zd| {
        for t in zd.oauth_tokens.values_mut().filter(|t| t.client_id != 0) {
            t.expires_at = Some(at);
        }
    });
    let plan = plan_json(&sc);
    let planned = token(&plan, "escalations")["days_left"].clone();
    let out = sc
        .cmd(&["check", "--format", "json"])
        .expect(crate::scenario::Exit::Any)
        .stdout;
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let checked = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "escalations")
        .unwrap_or_else(|| panic!("{out}"))["days_left"]
        .clone();
    assert_eq!(planned, 5, "5 days 20 hours are 5 whole days");
    assert_eq!(checked, planned);
}

#[test]
fn the_anonymous_user_of_a_bad_credential_is_not_signed_in() {
    let sc = Scenario::seeded(SECRET_SEED)
        .manifest(
            "zd.yaml",
            r#"
tokens:
  - id: escalations
    zendesk_oauth_token: { zendesk: global, client: chat_bridge, scopes: [read] }
    consumers:
      - manual: { instructions: Paste it into the escalation service }
"#,
        )
        .start();
    let out = sc
        .cmd(&["plan"])
        .env(
            &tokenops::cli::env::override_var(tokenops::Platform::Zendesk, "global", "TOKEN"),
            "not-a-valid-bearer-token-0000000000",
        )
        .expect(crate::scenario::Exit::Any);
    assert!(!out.success(), "{}", out.both());
    assert!(out.both().contains("anonymous user"), "{}", out.both());
}

#[test]
fn api_token_access_reads_zendesks_string_true_as_a_boolean() {
    use tokenops::zendesk::ApiSettings;
    let read = |json: &str| {
        serde_json::from_str::<ApiSettings>(json)
            .unwrap()
            .api_token_access
    };
    // Zendesk's own example writes the string; the sandbox and other accounts the boolean.
    assert_eq!(read(r#"{"api_token_access": "true"}"#), Some(true));
    assert_eq!(read(r#"{"api_token_access": "false"}"#), Some(false));
    assert_eq!(read(r#"{"api_token_access": true}"#), Some(true));
    assert_eq!(read(r#"{"api_token_access": null}"#), None);
    assert_eq!(read(r#"{}"#), None);
}
