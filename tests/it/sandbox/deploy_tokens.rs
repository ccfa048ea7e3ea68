//! Deploy tokens as GitLab documents them: the create answer carries the value once (`gldt-`)
//! and the username (the declared one, else `gitlab+deploy-token-{id}`); lists and gets never
//! show it; on a group only an Owner creates and deletes while a Maintainer may list; a
//! delete destroys the record (204, then 404); invalid scopes and usernames are refused.

use reqwest::Method;
use serde_json::json;

use crate::scenario::{Scenario, enc};

/// A personal access token for `user`, made by the admin.
async fn token_of(sc: &Scenario, user: &str) -> String {
    let id = sc.with_gitlab(|gl| gl.user_by_name(user).expect("user").id);
    let a = sc
        .gl(
            Method::POST,
            &sc.admin(),
            &format!("/users/{id}/personal_access_tokens"),
            Some(json!({"name": "t", "scopes": ["api"], "expires_at": "2027-06-01"})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["token"].as_str().expect("token").to_string()
}

#[tokio::test]
async fn create_shows_the_value_once_and_the_username_with_it() {
    let sc = Scenario::demo().start();
    let admin = sc.admin();
    let path = format!("/projects/{}/deploy_tokens", enc("support/ops/bridge"));
    let named = sc
        .gl(
            Method::POST,
            &admin,
            &path,
            Some(
                json!({"name": "pull", "scopes": ["read_registry"], "username": "bridge-pull",
                        "expires_at": "2027-03-01"}),
            ),
        )
        .await;
    assert_eq!(named.status, 201, "{}", named.body);
    let value = named.body["token"]
        .as_str()
        .expect("value in the create answer");
    assert!(value.starts_with("gldt-"), "deploy token prefix");
    assert_eq!(named.body["username"], "bridge-pull");
    assert_eq!(named.body["expires_at"], "2027-03-01T00:00:00.000Z");
    assert_eq!(named.body["revoked"], false);
    assert_eq!(named.body["expired"], false);
    let unnamed = sc
        .gl(
            Method::POST,
            &admin,
            &path,
            Some(json!({"name": "pull", "scopes": ["read_repository"]})),
        )
        .await;
    assert_eq!(unnamed.status, 201);
    let id = unnamed.body["id"].as_u64().expect("id");
    assert_eq!(
        unnamed.body["username"],
        format!("gitlab+deploy-token-{id}")
    );
    assert_eq!(unnamed.body["expires_at"], json!(null), "no expiry given");

    let list = sc.gl(Method::GET, &admin, &path, None).await;
    assert_eq!(list.status, 200);
    let items = list.body.as_array().expect("list");
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|t| t.get("token").is_none()),
        "never listed"
    );
    let one = sc
        .gl(Method::GET, &admin, &format!("{path}/{id}"), None)
        .await;
    assert_eq!(one.status, 200);
    assert!(one.body.get("token").is_none(), "never shown again");
}

#[tokio::test]
async fn group_deploy_tokens_need_an_owner_to_change_and_a_maintainer_to_list() {
    let sc = Scenario::demo().start();
    let alice = token_of(&sc, "alice").await; // maintainer of support/ops
    let owner = token_of(&sc, "support-ops-bot").await; // owner of support/ops
    let path = format!("/groups/{}/deploy_tokens", enc("support/ops/tools"));
    let body = json!({"name": "x", "scopes": ["read_registry"]});
    let refused = sc.gl(Method::POST, &alice, &path, Some(body.clone())).await;
    assert_eq!(refused.status, 403);
    let listed = sc.gl(Method::GET, &alice, &path, None).await;
    assert_eq!(listed.status, 200);
    let made = sc.gl(Method::POST, &owner, &path, Some(body)).await;
    assert_eq!(made.status, 201);
    let id = made.body["id"].as_u64().expect("id");
    let delete_refused = sc
        .gl(Method::DELETE, &alice, &format!("{path}/{id}"), None)
        .await;
    assert_eq!(delete_refused.status, 403);
    let deleted = sc
        .gl(Method::DELETE, &owner, &format!("{path}/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    let again = sc
        .gl(Method::DELETE, &owner, &format!("{path}/{id}"), None)
        .await;
    assert_eq!(again.status, 404, "the record is destroyed");
    let outsider = sc.gl(Method::GET, "", &path, None).await;
    assert_eq!(outsider.status, 401);
}

#[tokio::test]
async fn invalid_scopes_and_usernames_are_refused() {
    let sc = Scenario::demo().start();
    let admin = sc.admin();
    let path = format!("/projects/{}/deploy_tokens", enc("support/ops/bridge"));
    for (body, status) in [
        (json!({"name": "x", "scopes": ["api"]}), 400),
        (json!({"name": "x", "scopes": []}), 400),
        (json!({"scopes": ["read_registry"]}), 400),
        (
            json!({"name": "x", "scopes": ["read_registry"], "username": "has space"}),
            400,
        ),
    ] {
        let a = sc.gl(Method::POST, &admin, &path, Some(body.clone())).await;
        assert_eq!(a.status, status, "{body}: {}", a.body);
    }
}
