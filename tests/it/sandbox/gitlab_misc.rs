//! Trigger tokens, issues, merge-request notes, discovery and offset pagination.

use reqwest::Method;
use serde_json::json;

use crate::scenario::{Answer, Scenario, enc};

#[tokio::test]
async fn trigger_tokens_show_four_characters_to_non_owners() {
    let env = Scenario::demo().start();
    let path = format!("/projects/{}/triggers", enc("support/ops/ticket-export"));
    let owner = env.gl(Method::GET, &env.admin(), &path, None).await;
    assert_eq!(owner.status, 200);
    let full = owner.body[0]["token"].as_str().unwrap().to_string();
    assert!(full.starts_with("glptt-") && full.len() == 46);
    // support-ops-bot owns the group, so it may list triggers, but does not own them.
    let other = env
        .gl(Method::GET, &env.token_value("ops-automation"), &path, None)
        .await;
    assert_eq!(other.status, 200);
    let short = other.body[0]["token"].as_str().unwrap();
    assert_eq!(short, &full[6..10]);
    assert_eq!(other.body[0]["owner"]["username"], "tokenops-admin");
}

#[tokio::test]
async fn trigger_create_update_delete_and_run() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!("/projects/{}/triggers", enc("support/ops/reports"));
    let missing = env.gl(Method::POST, &admin, &base, Some(json!({}))).await;
    assert_eq!(missing.status, 400);
    let c = env
        .gl(
            Method::POST,
            &admin,
            &base,
            Some(json!({"description": "new trigger"})),
        )
        .await;
    assert_eq!(c.status, 201);
    let value = c.body["token"].as_str().unwrap().to_string();
    let id = c.body["id"].as_u64().unwrap();
    let u = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({"description": "renamed"})),
        )
        .await;
    assert_eq!(u.status, 200);
    assert_eq!(u.body["description"], "renamed");
    assert_eq!(
        u.body["token"],
        value.as_str(),
        "update cannot regenerate the token"
    );
    let run = env
        .gl(
            Method::POST,
            "",
            &format!("/projects/{}/trigger/pipeline", enc("support/ops/reports")),
            Some(json!({"token": value, "ref": "main"})),
        )
        .await;
    assert_eq!(run.status, 201);
    assert_eq!(run.body["source"], "trigger");
    assert_eq!(
        env.gl(Method::DELETE, &admin, &format!("{base}/{id}"), None)
            .await
            .status,
        204
    );
    let after = env
        .gl(
            Method::POST,
            "",
            &format!("/projects/{}/trigger/pipeline", enc("support/ops/reports")),
            Some(json!({"token": value, "ref": "main"})),
        )
        .await;
    assert_eq!(after.status, 404);
}

#[tokio::test]
async fn issues_create_search_by_label_edit_and_close() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!("/projects/{}/issues", enc("support/ops/tokenops"));
    let c = env
        .gl(Method::POST, &admin, &base, Some(json!({"title": "Tokens expiring within 21 days", "description": "- [ ] one", "labels": "token-checker,security"})))
        .await;
    assert_eq!(c.status, 201);
    assert_eq!(c.body["labels"], json!(["token-checker", "security"]));
    let iid = c.body["iid"].as_u64().unwrap();
    env.gl(
        Method::POST,
        &admin,
        &base,
        Some(json!({"title": "Unrelated"})),
    )
    .await;
    let found = env
        .gl(
            Method::GET,
            &admin,
            &format!("{base}?state=opened&labels=token-checker&search=expiring&in=title"),
            None,
        )
        .await;
    let items = found.body.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["iid"].as_u64(), Some(iid));
    let e = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{iid}"),
            Some(json!({"description": "- [x] one"})),
        )
        .await;
    assert_eq!(e.body["description"], "- [x] one");
    let closed = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{iid}"),
            Some(json!({"state_event": "close"})),
        )
        .await;
    assert_eq!(closed.body["state"], "closed");
    let open = env
        .gl(
            Method::GET,
            &admin,
            &format!("{base}?state=opened&labels=token-checker"),
            None,
        )
        .await;
    assert!(open.body.as_array().unwrap().is_empty());
    let nothing = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{iid}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(nothing.status, 400);
}

#[tokio::test]
async fn merge_request_notes_list_create_update() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!(
        "/projects/{}/merge_requests/1/notes",
        enc("support/ops/tokenops")
    );
    let c = env
        .gl(
            Method::POST,
            &admin,
            &base,
            Some(json!({"body": "<!-- tokenops:plan -->\nplan v1"})),
        )
        .await;
    assert_eq!(c.status, 201);
    assert_eq!(c.body["noteable_type"], "MergeRequest");
    assert_eq!(c.body["author"]["username"], "tokenops-admin");
    let id = c.body["id"].as_u64().unwrap();
    let u = env
        .gl(
            Method::PUT,
            &admin,
            &format!("{base}/{id}"),
            Some(json!({"body": "<!-- tokenops:plan -->\nplan v2"})),
        )
        .await;
    assert_eq!(u.status, 200);
    let list = env
        .gl(Method::GET, &admin, &format!("{base}?sort=asc"), None)
        .await;
    let notes = list.body.as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0]["body"].as_str().unwrap().ends_with("plan v2"));
    let other = env
        .gl(
            Method::PUT,
            &env.token_value("ops-automation"),
            &format!("{base}/{id}"),
            Some(json!({"body": "hijack"})),
        )
        .await;
    assert_eq!(other.status, 403, "only the author edits a note");
    let none = env
        .gl(
            Method::GET,
            &admin,
            &format!(
                "/projects/{}/merge_requests/99/notes",
                enc("support/ops/tokenops")
            ),
            None,
        )
        .await;
    assert_eq!(none.status, 404);
}

#[tokio::test]
async fn group_projects_include_subgroups_only_when_asked() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let direct = env
        .gl(
            Method::GET,
            &admin,
            &format!("/groups/{}/projects", enc("support/ops")),
            None,
        )
        .await;
    let all = env
        .gl(
            Method::GET,
            &admin,
            &format!(
                "/groups/{}/projects?include_subgroups=true&per_page=100",
                enc("support/ops")
            ),
            None,
        )
        .await;
    let paths = |a: &crate::scenario::Answer| -> Vec<String> {
        a.body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["path_with_namespace"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(paths(&direct).len(), 7);
    assert!(!paths(&direct).contains(&"support/ops/tools/legacy-exporter".to_string()));
    assert_eq!(paths(&all).len(), 8);
    assert!(paths(&all).contains(&"support/ops/tools/legacy-exporter".to_string()));
}

#[tokio::test]
async fn current_user_and_user_lookup() {
    let env = Scenario::demo().start();
    let me = env
        .gl(
            Method::GET,
            &env.token_value("zendesk-global-app"),
            "/user",
            None,
        )
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["bot"], true);
    assert!(
        me.body["username"]
            .as_str()
            .unwrap()
            .starts_with("project_")
    );
    let users = env
        .gl(
            Method::GET,
            &env.admin(),
            "/users?username=support-ops-bot",
            None,
        )
        .await;
    assert_eq!(users.body.as_array().unwrap().len(), 1);
    assert_eq!(users.body[0]["id"], 2);
}

#[tokio::test]
async fn per_page_is_capped_at_100_with_pagination_headers() {
    let mut seed = String::from(
        "gitlab:\n  - name: gitlab.com\n    admin: root\n    users: [{ username: root, admin: true }]\n    tokens:\n",
    );
    for n in 0..229 {
        seed.push_str(&format!(
            "      - {{ user: root, name: t{n:03}, scopes: [api], expires_at: +100d }}\n"
        ));
    }
    let env = Scenario::seeded(&seed).start();
    let first = env
        .gl(
            Method::GET,
            &env.admin(),
            "/personal_access_tokens?per_page=500",
            None,
        )
        .await;
    assert_eq!(first.body.as_array().unwrap().len(), 100);
    assert_eq!(first.header("x-per-page"), Some("100"));
    assert_eq!(first.header("x-total"), Some("230"));
    assert_eq!(first.header("x-total-pages"), Some("3"));
    assert_eq!(first.header("x-next-page"), Some("2"));
    let link = first.header("link").unwrap();
    assert!(
        link.contains("page=2&per_page=100>; rel=\"next\""),
        "{link}"
    );
    assert!(link.contains("rel=\"last\""));
    let last = env
        .gl(
            Method::GET,
            &env.admin(),
            "/personal_access_tokens?per_page=100&page=3",
            None,
        )
        .await;
    assert_eq!(last.body.as_array().unwrap().len(), 30);
    assert_eq!(last.header("x-next-page"), Some(""));
    assert!(!last.header("link").unwrap().contains("rel=\"next\""));
    // Following the next links visits every token once.
    let mut url = format!(
        "{}/api/v4/personal_access_tokens?per_page=100",
        env.sandbox.gitlab_url("gitlab.com")
    );
    let mut seen = 0;
    loop {
        let a = Answer::read(
            env.http
                .get(&url)
                .header("PRIVATE-TOKEN", env.admin())
                .send()
                .await
                .unwrap(),
        )
        .await;
        seen += a.body.as_array().unwrap().len();
        let next = a
            .header("link")
            .unwrap()
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_string());
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(seen, 230);
}

#[tokio::test]
async fn unknown_project_answers_404_project_not_found() {
    let env = Scenario::demo().start();
    let a = env
        .gl(
            Method::GET,
            &env.admin(),
            "/projects/nope%2Fnothing/variables",
            None,
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.body["message"], "404 Project Not Found");
    let r = env
        .gl(Method::GET, &env.admin(), "/no/such/route", None)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn members_list_direct_and_inherited_with_bot_users() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let project = enc("support/ops/zendesk-sync");
    let direct = env
        .gl(
            Method::GET,
            &admin,
            &format!("/projects/{project}/members"),
            None,
        )
        .await;
    let bots: Vec<&serde_json::Value> = direct.body.as_array().unwrap().iter().collect();
    assert_eq!(bots.len(), 2, "the two project-token bots");
    assert!(
        bots.iter()
            .all(|m| m["bot"] == true && m["access_level"] == 30)
    );
    let all = env
        .gl(
            Method::GET,
            &admin,
            &format!("/projects/{project}/members/all"),
            None,
        )
        .await;
    let names: Vec<&str> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"support-ops-bot") && names.contains(&"alice"));
    let owner = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "support-ops-bot")
        .unwrap();
    assert_eq!(owner["access_level"], 50);
    let subgroups = env
        .gl(
            Method::GET,
            &admin,
            &format!("/groups/{}/subgroups", enc("support/ops")),
            None,
        )
        .await;
    assert_eq!(subgroups.body[0]["full_path"], "support/ops/tools");
    assert_eq!(subgroups.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_method_on_a_known_path_answers_405() {
    let env = Scenario::demo().start();
    let hooks = format!("/projects/{}/hooks", enc("support/ops/bridge"));
    let a = env.gl(Method::PATCH, &env.admin(), &hooks, None).await;
    assert_eq!(a.status, 405);
    assert_eq!(a.body["message"], "405 Method Not Allowed");
    let trigger = env
        .gl(
            Method::GET,
            "",
            &format!("/projects/{}/trigger/pipeline", enc("support/ops/reports")),
            None,
        )
        .await;
    assert_eq!(
        trigger.status, 404,
        "the trigger endpoint answers 404 to GET"
    );
}
