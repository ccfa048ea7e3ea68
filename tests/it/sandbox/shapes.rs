//! Headers and small shapes as the platforms send them: Zendesk's `X-Rate-Limit` headers on
//! every answer, Grape's boolean coercion (python-gitlab sends `True`), `GET /projects` and
//! `GET /groups`, `is_admin` and `email` on an admin's user lookup, `archived` on projects,
//! `active` and `suspended` on Zendesk's `users/me`.

use reqwest::Method;

use crate::scenario::{Scenario, enc};

#[tokio::test]
async fn every_zendesk_answer_carries_its_rate_limit() {
    let sc = Scenario::demo().start();
    let admin = sc.zd_admin("global");
    let first = sc
        .zd("global", Method::GET, &admin, "/api/v2/webhooks", None)
        .await;
    let second = sc
        .zd("global", Method::GET, &admin, "/api/v2/users/me", None)
        .await;
    assert_eq!(first.header("x-rate-limit"), Some("700"));
    let left = |a: &crate::scenario::Answer| {
        a.header("x-rate-limit-remaining")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap()
    };
    assert_eq!(left(&second), left(&first) - 1);
    assert_eq!(second.body["user"]["active"], true);
    assert_eq!(second.body["user"]["suspended"], false);
    let missing = sc
        .zd("global", Method::GET, &admin, "/api/v2/webhooks/nope", None)
        .await;
    assert_eq!(missing.status, 404);
    assert!(missing.header("x-rate-limit").is_some());
}

#[tokio::test]
async fn grape_booleans_read_true_1_and_yes_as_true() {
    let sc = Scenario::demo().start();
    let admin = sc.admin();
    let path = format!("/projects/{}/variables", enc("support/ops/escalations"));
    for (n, word) in ["True", "1", "yes", "TRUE", "t"].iter().enumerate() {
        let key = format!("FLAG_{n}");
        let form = [
            ("key", key.as_str()),
            ("value", "a-long-enough-value-1234"),
            ("masked", word),
            ("protected", "False"),
        ];
        let url = format!("{}/api/v4{path}", sc.sandbox.gitlab_url("gitlab.com"));
        let made = sc
            .send(
                sc.http
                    .post(url)
                    .header("PRIVATE-TOKEN", &admin)
                    .form(&form),
            )
            .await;
        assert_eq!(made.status, 201, "{word}: {:?}", made.body);
        assert_eq!(made.body["masked"], true, "{word}");
        assert_eq!(made.body["protected"], false, "{word}");
    }
}

#[tokio::test]
async fn project_and_group_lists_and_the_admin_user_lookup() {
    let sc = Scenario::demo().start();
    let admin = sc.admin();
    let projects = sc
        .gl(Method::GET, &admin, "/projects?per_page=100", None)
        .await;
    assert_eq!(projects.status, 200);
    let list = projects.body.as_array().unwrap();
    assert!(
        list.iter()
            .any(|p| p["path_with_namespace"] == "support/ops/escalations")
    );
    assert!(list.iter().all(|p| p["archived"] == false));
    let groups = sc.gl(Method::GET, &admin, "/groups?search=ops", None).await;
    assert!(
        groups
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["full_path"] == "support/ops"),
        "{:?}",
        groups.body
    );
    let users = sc
        .gl(Method::GET, &admin, "/users?username=support-ops-bot", None)
        .await;
    let bot = &users.body[0];
    assert!(bot["is_admin"].is_boolean(), "{bot}");
    assert!(bot["email"].is_string(), "{bot}");
    let one = sc
        .gl(Method::GET, &admin, &format!("/users/{}", bot["id"]), None)
        .await;
    assert_eq!(one.body["email"], bot["email"]);
}
