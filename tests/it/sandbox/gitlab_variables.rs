//! CI/CD variables: hidden values, masking rules, environment scopes and the 409.

use reqwest::Method;
use serde_json::json;

use crate::scenario::{Scenario, enc};

#[tokio::test]
async fn hidden_variables_read_back_value_null() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let path = format!(
        "/projects/{}/variables/GITLAB_READ_TOKEN",
        enc("support/ops/reports")
    );
    let a = env.gl(Method::GET, &admin, &path, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["hidden"], true);
    assert!(a.body["value"].is_null());
    let created = env
        .gl(
            Method::POST,
            &admin,
            &format!("/projects/{}/variables", enc("support/ops/reports")),
            Some(json!({"key": "NEW_HIDDEN", "value": "abcdefgh12345", "masked_and_hidden": true})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert!(created.body["value"].is_null());
    assert_eq!(created.body["masked"], true);
    // A visible one reads back its value.
    let visible = env
        .gl(
            Method::GET,
            &admin,
            &format!(
                "/projects/{}/variables/DEPLOY_TOKEN",
                enc("support/ops/bridge")
            ),
            None,
        )
        .await;
    assert!(
        visible.body["value"]
            .as_str()
            .unwrap()
            .starts_with("glpat-")
    );
}

#[tokio::test]
async fn masked_variable_values_follow_gitlabs_rules() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let path = format!("/projects/{}/variables", enc("support/ops/reports"));
    for bad in [
        "short",
        "has a space in it",
        "dollar$sign-value",
        "line\nbreak-value",
    ] {
        let a = env
            .gl(
                Method::POST,
                &admin,
                &path,
                Some(json!({"key": "M1", "value": bad, "masked": true})),
            )
            .await;
        assert_eq!(a.status, 400, "{bad:?}");
        assert_eq!(a.body, json!({"message": {"value": ["is invalid"]}}));
    }
    let raw = env
        .gl(
            Method::POST,
            &admin,
            &path,
            Some(json!({"key": "M2", "value": "dollar$sign-value", "masked": true, "raw": true})),
        )
        .await;
    assert_eq!(
        raw.status, 201,
        "raw values may use any non-space character"
    );
    for bad_raw in ["raw but spaced", "raw\tand-tabbed", "short$"] {
        let a = env
            .gl(
                Method::POST,
                &admin,
                &path,
                Some(json!({"key": "M4", "value": bad_raw, "masked": true, "raw": true})),
            )
            .await;
        assert_eq!(
            a.status, 400,
            "{bad_raw:?}: raw does not lift the whitespace and length rules"
        );
    }
    let ok = env
        .gl(
            Method::POST,
            &admin,
            &path,
            Some(json!({"key": "M3", "value": "glpat-abc_DEF-123.x~y@z:w", "masked": true})),
        )
        .await;
    assert_eq!(ok.status, 201);
    // Updates are checked too.
    let upd = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{path}/M3"),
            Some(json!({"value": "bad value"})),
        )
        .await;
    assert_eq!(upd.status, 400);
    let unmasked = env
        .gl(
            Method::POST,
            &admin,
            &path,
            Some(json!({"key": "PLAIN", "value": "x y"})),
        )
        .await;
    assert_eq!(unmasked.status, 201);
}

#[tokio::test]
async fn same_key_variables_across_scopes_answer_409_without_the_filter() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let path = format!(
        "/projects/{}/variables/SYNC_TOKEN",
        enc("support/ops/zendesk-sync")
    );
    let a = env.gl(Method::GET, &admin, &path, None).await;
    assert_eq!(a.status, 409);
    assert_eq!(
        a.body["message"],
        "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'"
    );
    for method in [Method::PUT, Method::DELETE] {
        let b = env
            .gl(
                method,
                &admin,
                &path,
                Some(json!({"value": "abcdefgh1234"})),
            )
            .await;
        assert_eq!(b.status, 409);
    }
    let prod = env
        .gl(
            Method::GET,
            &admin,
            &format!("{path}?filter%5Benvironment_scope%5D=production"),
            None,
        )
        .await;
    assert_eq!(prod.status, 200);
    assert_eq!(prod.body["environment_scope"], "production");
    let upd = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{path}?filter%5Benvironment_scope%5D=staging"),
            Some(json!({"value": "newstagingvalue1"})),
        )
        .await;
    assert_eq!(upd.status, 200);
    assert_eq!(upd.body["value"], "newstagingvalue1");
    let prod_after = env
        .gl(
            Method::GET,
            &admin,
            &format!("{path}?filter%5Benvironment_scope%5D=production"),
            None,
        )
        .await;
    assert_ne!(prod_after.body["value"], "newstagingvalue1");
    let dup = env
        .gl(
            Method::POST,
            &admin,
            &format!("/projects/{}/variables", enc("support/ops/zendesk-sync")),
            Some(
                json!({"key": "SYNC_TOKEN", "value": "abcdefgh1", "environment_scope": "staging"}),
            ),
        )
        .await;
    assert_eq!(dup.status, 400);
    let gone = env
        .gl(
            Method::DELETE,
            &admin,
            &format!("{path}?filter%5Benvironment_scope%5D=staging"),
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        env.gl(Method::GET, &admin, &path, None).await.status,
        200,
        "one left: no ambiguity"
    );
}

#[tokio::test]
async fn group_variables_create_update_delete() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!("/groups/{}/variables", enc("support/ops"));
    let list = env.gl(Method::GET, &admin, &base, None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let c = env
        .gl(
            Method::POST,
            &admin,
            &base,
            Some(json!({"key": "G1", "value": "groupvalue1", "protected": true})),
        )
        .await;
    assert_eq!(c.status, 201);
    let u = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/G1"),
            Some(json!({"value": "groupvalue2"})),
        )
        .await;
    assert_eq!(u.body["value"], "groupvalue2");
    assert_eq!(u.body["protected"], true);
    assert_eq!(
        env.gl(Method::DELETE, &admin, &format!("{base}/G1"), None)
            .await
            .status,
        204
    );
    let missing = env
        .gl(Method::GET, &admin, &format!("{base}/G1"), None)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["message"], "404 Variable Not Found");
}
