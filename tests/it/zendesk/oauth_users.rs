//! One OAuth client, tokens of three users: a declaration adopts, rotates and revokes only
//! the token of the user it names (or the user tokenops signs in as), `import --discover`
//! writes one entry per user, and `validate` refuses two entries for the same pair.

use crate::scenario::Scenario;

/// An OAuth client with tokens of the admin tokenops signs in as and of two other agents,
/// the agents' tokens minted after the admin's (so "newest" is someone else's).
pub const SEED: &str = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
    groups:
      - { path: support }
      - { path: support/ops }
    projects:
      - { path: support/ops/escalations }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
      - { name: Agent One, email: one@example.com, role: admin }
      - { name: Agent Two, email: two@example.com, role: admin }
    oauth_clients:
      - { identifier: escalations, name: Escalations, created_at: "2025-11-03T10:00:00Z" }
    oauth_tokens:
      - { client: escalations, scopes: [tickets:read], expires_at: +3d }
      - { client: escalations, user: one@example.com, scopes: [tickets:read], expires_at: +3d }
      - { client: escalations, user: two@example.com, scopes: [tickets:read], expires_at: +3d }
"#;

pub const MANIFEST: &str = r#"
tokens:
  - id: escalations
    zendesk_oauth_token: { zendesk: global, client: escalations, scopes: [tickets:read] }
    rotation: { rotate_before: 7d }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/escalations, key: ZD_TOKEN, masked: true }
"#;

/// `(id, user email, revoked)` of every token of the `escalations` client.
pub fn tokens(sc: &Scenario) -> Vec<(u64, String, bool)> {
    sc.with_zendesk("global", |zd| {
        let client = zd
            .clients
            .values()
            .find(|c| c.identifier == "escalations")
            .expect("client")
            .id;
        zd.oauth_tokens
            .values()
            .filter(|t| t.client_id == client)
            .map(|t| (t.id, zd.users[&t.user_id].email.clone(), t.revoked))
            .collect()
    })
}

#[test]
fn a_rotation_revokes_only_the_token_of_the_declared_user() {
    let sc = Scenario::seeded(SEED)
        .escrow(true)
        .manifest("zd.yaml", MANIFEST)
        .start();
    let before = tokens(&sc);
    let admin_token = before
        .iter()
        .find(|t| t.1 == "admin@example.com")
        .expect("admin token")
        .0;
    let plan = sc.run(&["plan", "--detailed-exitcode"], 2).stdout;
    assert!(plan.contains(&admin_token.to_string()), "{plan}");
    sc.run(&["apply", "--auto-approve"], 0);
    let after = tokens(&sc);
    for (id, user, revoked) in &after {
        match user.as_str() {
            "admin@example.com" if *id == admin_token => assert!(revoked, "old admin token"),
            "admin@example.com" => assert!(!revoked, "the new admin token"),
            _ => assert!(!revoked, "{user}'s token {id} was revoked"),
        }
    }
    assert_eq!(after.len(), 4, "one new token, for the admin: {after:?}");
    sc.run(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn an_entry_for_another_user_is_never_minted_for_the_caller() {
    let manifest = MANIFEST.replace(
        "scopes: [tickets:read] }",
        "scopes: [tickets:read], user_id: USER }",
    );
    let one = {
        let sc = Scenario::seeded(SEED).escrow(true).start();
        sc.with_zendesk("global", |zd| {
            zd.user_by_email("one@example.com").unwrap().id
        })
    };
    let sc = Scenario::seeded(SEED)
        .escrow(true)
        .manifest("zd.yaml", &manifest.replace("USER", &one.to_string()))
        .start();
    let out = sc.run(&["apply", "--auto-approve"], 1).stdout;
    assert!(
        out.contains("the admin API mints a token for the caller"),
        "{out}"
    );
    let after = tokens(&sc);
    assert_eq!(after.len(), 3, "nothing minted: {after:?}");
    assert!(after.iter().all(|t| !t.2), "nothing revoked: {after:?}");
}

#[test]
fn import_discover_writes_one_entry_per_user_and_each_adopts_its_own_token() {
    let sc = Scenario::seeded(SEED)
        .escrow(true)
        .check(tokenops::manifest::CheckSettings {
            discover: tokenops::manifest::Discover {
                zendesk: crate::scenario::names(&["global"]),
                ..Default::default()
            },
            ..Default::default()
        })
        .manifest("other.yaml", "tokens: []\n")
        .start();
    sc.run(&["import", "--discover", "--out", "manifests/imported"], 0);
    let text = sc.read("manifests/imported/imported.yaml");
    assert_eq!(text.matches("zendesk_oauth_token:").count(), 3, "{text}");
    assert_eq!(text.matches("user_id:").count(), 3, "{text}");
    sc.run(&["validate"], 0);
    let plan = sc.run(&["plan"], 0).stdout;
    for (id, _, _) in tokens(&sc) {
        assert!(
            plan.contains(&format!("{id}")),
            "token {id} adopted: {plan}"
        );
    }
}

#[test]
fn validate_refuses_two_entries_for_the_same_client_and_user() {
    let twice = format!(
        "{MANIFEST}{}",
        MANIFEST
            .replace("tokens:\n", "")
            .replace("id: escalations", "id: escalations-again")
            .replace("ZD_TOKEN", "ZD_TOKEN_2")
    );
    let sc = Scenario::seeded(SEED)
        .escrow(true)
        .manifest("zd.yaml", &twice)
        .start();
    let err = sc.run(&["validate"], 1).both();
    assert!(
        err.contains("names the same platform record as token `escalations`"),
        "{err}"
    );
    assert!(err.contains("zd.yaml:"), "{err}");
}
