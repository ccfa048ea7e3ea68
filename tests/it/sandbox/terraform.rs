//! The Terraform HTTP state endpoints, as the ledger's `http` backend uses them.

use serde_json::json;

use crate::scenario::{Answer, Scenario, enc};

fn lock_body(id: &str) -> serde_json::Value {
    json!({"ID": id, "Operation": "apply", "Info": "", "Who": "ci@runner", "Version": "1", "Created": "2026-11-28T09:00:00Z", "Path": "ledger"})
}

#[tokio::test]
async fn terraform_state_round_trips_bytes_and_honours_locks() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let base = format!(
        "{}/api/v4/projects/{}/terraform/state/ledger",
        env.sandbox.gitlab_url("gitlab.com"),
        enc("support/ops/tokenops")
    );
    let get = |url: String| {
        let http = env.http.clone();
        let admin = admin.clone();
        async move {
            Answer::read(
                http.get(url)
                    .header("PRIVATE-TOKEN", admin)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let never = get(base.clone()).await;
    assert_eq!(
        never.status, 404,
        "a state never locked nor written is not found"
    );
    assert_eq!(never.body["message"], "404 Not found");
    let doc = "{\"serial\": 1, \"lineage\": \"x\",  \"odd spacing\": true}";
    let post = env
        .http
        .post(&base)
        .header("PRIVATE-TOKEN", &admin)
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 200);
    let back = env
        .http
        .get(&base)
        .header("PRIVATE-TOKEN", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(back, doc, "stored byte for byte");
    // An `ID` on an unlocked state matches no lock: GitLab's `handle_with_lock` answers 409.
    let stray = env
        .http
        .post(format!("{base}?ID=nobody"))
        .header("PRIVATE-TOKEN", &admin)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stray.status().as_u16(),
        409,
        "a write with a lock id needs that lock"
    );

    // Lock: all fields are required.
    let incomplete = env
        .http
        .post(format!("{base}/lock"))
        .header("PRIVATE-TOKEN", &admin)
        .json(&json!({"ID": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(incomplete.status().as_u16(), 400);
    let locked = Answer::read(
        env.http
            .post(format!("{base}/lock"))
            .header("PRIVATE-TOKEN", &admin)
            .json(&lock_body("lock-a"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(locked.status, 200);
    let conflict = Answer::read(
        env.http
            .post(format!("{base}/lock"))
            .header("PRIVATE-TOKEN", &admin)
            .json(&lock_body("lock-b"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.body["ID"], "lock-a");
    assert_eq!(conflict.body["Who"], "tokenops-admin");
    // Writes need the holder's ID.
    let blind = env
        .http
        .post(&base)
        .header("PRIVATE-TOKEN", &admin)
        .body("{\"serial\":2}")
        .send()
        .await
        .unwrap();
    assert_eq!(blind.status().as_u16(), 409);
    let held = env
        .http
        .post(format!("{base}?ID=lock-a"))
        .header("PRIVATE-TOKEN", &admin)
        .body("{\"serial\":2}")
        .send()
        .await
        .unwrap();
    assert_eq!(held.status().as_u16(), 200);
    let wrong_unlock = env
        .http
        .delete(format!("{base}/lock?ID=lock-b"))
        .header("PRIVATE-TOKEN", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_unlock.status().as_u16(), 409);
    let unlock = env
        .http
        .delete(format!("{base}/lock?ID=lock-a"))
        .header("PRIVATE-TOKEN", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status().as_u16(), 200);
    let relock = env
        .http
        .post(format!("{base}/lock"))
        .header("PRIVATE-TOKEN", &admin)
        .json(&lock_body("lock-b"))
        .send()
        .await
        .unwrap();
    assert_eq!(relock.status().as_u16(), 200);
    let force = env
        .http
        .delete(format!("{base}/lock"))
        .header("PRIVATE-TOKEN", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        force.status().as_u16(),
        200,
        "unlock without ID releases any lock"
    );
    let del = env
        .http
        .delete(&base)
        .header("PRIVATE-TOKEN", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status().as_u16(), 200);
    assert_eq!(
        get(base.clone()).await.status,
        404,
        "a deleted state is gone"
    );
}

#[tokio::test]
async fn terraform_state_answers_404_until_locked_or_written_and_204_while_empty() {
    let env = Scenario::demo().start();
    let admin = env.admin();
    let url = |name: &str| {
        format!(
            "{}/api/v4/projects/{}/terraform/state/{name}",
            env.sandbox.gitlab_url("gitlab.com"),
            enc("support/ops/tokenops")
        )
    };
    let get = |name: &str| {
        let req = env.http.get(url(name)).header("PRIVATE-TOKEN", &admin);
        async move { Answer::read(req.send().await.unwrap()).await }
    };
    assert_eq!(get("fresh").await.status, 404);
    // An empty POST stores nothing and creates no record.
    let empty = env
        .http
        .post(url("fresh"))
        .header("PRIVATE-TOKEN", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status().as_u16(), 204);
    assert_eq!(get("fresh").await.status, 404);
    // The first lock creates the record: it exists, with no file yet.
    let lock = env
        .http
        .post(format!("{}/lock", url("fresh")))
        .header("PRIVATE-TOKEN", &admin)
        .json(&lock_body("first"))
        .send()
        .await
        .unwrap();
    assert_eq!(lock.status().as_u16(), 200);
    assert_eq!(get("fresh").await.status, 204);
    // A project the caller cannot see is a different 404, naming the project.
    let hidden = env
        .gl(
            reqwest::Method::GET,
            &env.token_value("legacy-exporter"),
            "/projects/support%2Fops%2Ftokenops/terraform/state/fresh",
            None,
        )
        .await;
    assert_eq!(hidden.status, 404);
    assert_eq!(hidden.body["message"], "404 Project Not Found");
}

#[tokio::test]
async fn terraform_state_accepts_basic_auth_and_needs_maintainer_to_write() {
    let env = Scenario::demo().start();
    let base = format!(
        "{}/api/v4/projects/{}/terraform/state/ledger",
        env.sandbox.gitlab_url("gitlab.com"),
        enc("support/ops/tokenops")
    );
    let basic = env
        .http
        .post(&base)
        .basic_auth("tokenops-admin", Some(env.admin()))
        .body("{\"serial\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 200);
    // A reporter-level project token may neither read nor write another project's state.
    let reader = env.token_value("bridge-deploy");
    let denied = env
        .http
        .get(&base)
        .header("PRIVATE-TOKEN", reader)
        .send()
        .await
        .unwrap();
    assert_eq!(
        denied.status().as_u16(),
        403,
        "read_repository/read_registry only: no API scope"
    );
}
