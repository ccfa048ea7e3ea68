//! Group service accounts as GitLab documents them: only an Owner of a top-level group lists
//! the accounts and manages their tokens (a subgroup is refused); create answers 201 with the
//! value once; rotate revokes the old token at once, keeps the name and scopes, and defaults
//! to a week without `expires_at`; a service account's own token cannot rotate itself through
//! the group's route. The same Owner reads the credentials inventory: the personal tokens of
//! the group's enterprise users only.

use reqwest::Method;
use serde_json::json;

use crate::scenario::{Scenario, enc};

const SEED: &str = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
      - { username: owner, name: Owner }
      - { username: maintainer, name: Maintainer, enterprise_of: top }
    groups:
      - { path: top, members: { owner: owner, maintainer: maintainer } }
      - { path: top/sub }
    tokens:
      - { user: owner, name: o, scopes: [api], expires_at: +100d }
      - { user: maintainer, name: m, scopes: [api], expires_at: +100d }
    service_accounts:
      - group: top
        username: digest-bot
        tokens:
          - { name: digest, scopes: [api], expires_at: +10d }
"#;

fn base(sc: &Scenario) -> String {
    let uid = sc.with_gitlab(|gl| gl.user_by_name("digest-bot").expect("account").id);
    format!("/groups/top/service_accounts/{uid}/personal_access_tokens")
}

#[tokio::test]
async fn only_an_owner_of_a_top_level_group_manages_its_service_accounts() {
    let sc = Scenario::seeded(SEED).start();
    let (owner, maintainer) = (sc.token_value("o"), sc.token_value("m"));
    let listed = sc
        .gl(Method::GET, &owner, "/groups/top/service_accounts", None)
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body[0]["username"], "digest-bot");
    let refused = sc
        .gl(
            Method::GET,
            &maintainer,
            "/groups/top/service_accounts",
            None,
        )
        .await;
    assert_eq!(refused.status, 403);
    let sub = sc
        .gl(
            Method::GET,
            &owner,
            &format!("/groups/{}/service_accounts", enc("top/sub")),
            None,
        )
        .await;
    assert_eq!(sub.status, 400, "top-level groups only");
    let tokens = sc.gl(Method::GET, &owner, &base(&sc), None).await;
    assert_eq!(tokens.status, 200);
    assert_eq!(tokens.body.as_array().map(Vec::len), Some(1));
    assert!(tokens.body[0].get("token").is_none(), "never listed");
    let not_theirs = sc.gl(Method::GET, &maintainer, &base(&sc), None).await;
    assert_eq!(not_theirs.status, 403);
}

#[tokio::test]
async fn create_rotate_and_revoke_a_service_account_token() {
    let sc = Scenario::seeded(SEED).start();
    let owner = sc.token_value("o");
    let path = base(&sc);
    let made = sc
        .gl(
            Method::POST,
            &owner,
            &path,
            Some(json!({"name": "deploy", "scopes": ["api"], "expires_at": "2027-01-31"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert!(
        made.body["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("glpat-"))
    );
    let id = made.body["id"].as_u64().expect("id");
    let rotated = sc
        .gl(Method::POST, &owner, &format!("{path}/{id}/rotate"), None)
        .await;
    assert_eq!(rotated.status, 200);
    let new_id = rotated.body["id"].as_u64().expect("new id");
    assert_ne!(new_id, id);
    assert_eq!(rotated.body["name"], "deploy");
    assert_eq!(rotated.body["scopes"], json!(["api"]));
    assert_eq!(
        rotated.body["expires_at"], "2026-12-05",
        "a week without expires_at"
    );
    assert!(
        sc.with_gitlab(|gl| gl.tokens[&id].revoked),
        "old one revoked at once"
    );
    let gone = sc
        .gl(Method::DELETE, &owner, &format!("{path}/{new_id}"), None)
        .await;
    assert_eq!(gone.status, 204);
    let again = sc
        .gl(Method::DELETE, &owner, &format!("{path}/{new_id}"), None)
        .await;
    assert_eq!(again.status, 400, "already revoked");
}

#[tokio::test]
async fn a_service_account_token_cannot_rotate_itself_through_the_group_route() {
    let sc = Scenario::seeded(SEED).start();
    let own = sc.token_value("digest");
    let id = sc.token_id("digest");
    let a = sc
        .gl(
            Method::POST,
            &own,
            &format!("{}/{id}/rotate", base(&sc)),
            Some(json!({"expires_at": "2027-01-31"})),
        )
        .await;
    assert_eq!(a.status, 401);
    assert!(
        sc.with_gitlab(|gl| !gl.tokens[&id].revoked),
        "nothing happened"
    );
}

#[tokio::test]
async fn the_credentials_inventory_lists_enterprise_users_tokens_to_an_owner_only() {
    let sc = Scenario::seeded(SEED).start();
    let (owner, maintainer) = (sc.token_value("o"), sc.token_value("m"));
    let path = "/groups/top/manage/personal_access_tokens?state=active";
    let a = sc.gl(Method::GET, &owner, path, None).await;
    assert_eq!(a.status, 200);
    let names: Vec<&str> = a
        .body
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["m"], "the enterprise user's token, nobody else's");
    assert!(a.body[0].get("token").is_none());
    let refused = sc.gl(Method::GET, &maintainer, path, None).await;
    assert_eq!(refused.status, 403);
}
