//! The credentials a GitLab pipeline has, as the sandbox answers them: a CI/CD job token
//! (`CI_JOB_TOKEN`) reaches its own project's Terraform state as basic auth with the user
//! `gitlab-ci-token`, with the role of the job's user, and nothing else; a `read_api` GitLab
//! token and a read-scoped Zendesk OAuth token read but are refused every write with 403.

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::scenario::{Answer, Scenario, enc};

const STATE_PROJECT: &str = "support/ops/tokenops";

fn lock_body(id: &str) -> serde_json::Value {
    json!({"ID": id, "Operation": "apply", "Info": "", "Who": "ci", "Version": "1",
           "Created": "2026-11-28T09:00:00Z", "Path": "tokenops"})
}

fn state_url(env: &Scenario, project: &str) -> String {
    format!(
        "{}/api/v4/projects/{}/terraform/state/tokenops",
        env.sandbox.gitlab_url("gitlab.com"),
        enc(project)
    )
}

/// A request to a state URL with the job token as `gitlab-ci-token` basic auth.
async fn as_job(
    env: &Scenario,
    method: Method,
    url: &str,
    job: &str,
    body: Option<serde_json::Value>,
) -> Answer {
    let mut req = env
        .http
        .request(method, url)
        .basic_auth("gitlab-ci-token", Some(job));
    if let Some(body) = body {
        req = req.json(&body);
    }
    Answer::read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn a_job_token_reads_locks_and_writes_its_projects_state_as_the_jobs_user() {
    let env = Scenario::demo().start();
    let job = env
        .sandbox
        .issue_ci_job_token("gitlab.com", STATE_PROJECT, "alice");
    let job = job.expose_secret();
    assert!(job.starts_with("glcbt-"), "GitLab's job token prefix");
    let url = state_url(&env, STATE_PROJECT);
    assert_eq!(as_job(&env, Method::GET, &url, job, None).await.status, 404);
    let lock = as_job(
        &env,
        Method::POST,
        &format!("{url}/lock"),
        job,
        Some(lock_body("L1")),
    )
    .await;
    assert_eq!(lock.status, 200);
    assert_eq!(
        lock.body["Who"], "alice",
        "the lock belongs to the job's user"
    );
    let write = env
        .http
        .post(format!("{url}?ID=L1"))
        .basic_auth("gitlab-ci-token", Some(job))
        .body("{\"serial\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(write.status().as_u16(), 200);
    let read = as_job(&env, Method::GET, &url, job, None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["serial"], 1);
    let unlock = as_job(
        &env,
        Method::DELETE,
        &format!("{url}/lock?ID=L1"),
        job,
        None,
    )
    .await;
    assert_eq!(unlock.status, 200);
    assert!(
        env.sandbox
            .issued_values()
            .iter()
            .any(|v| v.expose_secret() == job),
        "job tokens count as issued values for leak checks"
    );
}

#[tokio::test]
async fn a_job_token_is_refused_everywhere_else() {
    let env = Scenario::demo().start();
    let job = env
        .sandbox
        .issue_ci_job_token("gitlab.com", STATE_PROJECT, "alice");
    let job = job.expose_secret().to_string();
    let url = state_url(&env, STATE_PROJECT);
    // Not as a private token: GitLab takes job tokens on these routes as basic auth only.
    let header = Answer::read(
        env.http
            .get(&url)
            .header("PRIVATE-TOKEN", &job)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(header.status, 401);
    // Not on another API route.
    let other = Answer::read(
        env.http
            .get(format!(
                "{}/api/v4/projects/{}",
                env.sandbox.gitlab_url("gitlab.com"),
                enc(STATE_PROJECT)
            ))
            .basic_auth("gitlab-ci-token", Some(&job))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(other.status, 401);
    // Not on another project's state, even one the user may see.
    let elsewhere = as_job(
        &env,
        Method::GET,
        &state_url(&env, "support/ops/bridge"),
        &job,
        None,
    )
    .await;
    assert_eq!(elsewhere.status, 404);
    assert_eq!(elsewhere.body["message"], "404 Project Not Found");
    // Not once the job finished.
    env.sandbox
        .finish_ci_job("gitlab.com", &secrecy::SecretString::from(job.clone()));
    assert_eq!(
        as_job(&env, Method::GET, &url, &job, None).await.status,
        401
    );
}

#[tokio::test]
async fn a_developers_job_token_reads_the_state_but_may_not_lock_it() {
    let env = Scenario::demo().start();
    env.sandbox.with_state(|w| {
        let gl = w.gitlab.get_mut("gitlab.com").unwrap();
        let dev = gl.add_user("dev", "A Developer", false, false);
        let project = gl.project(STATE_PROJECT).unwrap().id;
        gl.projects
            .get_mut(&project)
            .unwrap()
            .members
            .insert(dev, 30);
    });
    let job = env
        .sandbox
        .issue_ci_job_token("gitlab.com", STATE_PROJECT, "dev");
    let url = state_url(&env, STATE_PROJECT);
    let read = as_job(&env, Method::GET, &url, job.expose_secret(), None).await;
    assert_eq!(read.status, 404, "read_terraform_state: Developer may read");
    let lock = as_job(
        &env,
        Method::POST,
        &format!("{url}/lock"),
        job.expose_secret(),
        Some(lock_body("L2")),
    )
    .await;
    assert_eq!(lock.status, 403, "admin_terraform_state needs Maintainer");
}

#[tokio::test]
async fn a_read_api_token_reads_and_is_refused_every_write_with_403() {
    let env = Scenario::demo().start();
    let read = env
        .sandbox
        .issue_gitlab_token("gitlab.com", "tokenops-admin", &["read_api"]);
    let read = read.expose_secret();
    let url = state_url(&env, STATE_PROJECT);
    let get = Answer::read(
        env.http
            .get(&url)
            .header("PRIVATE-TOKEN", read)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(get.status, 404);
    let lock = Answer::read(
        env.http
            .post(format!("{url}/lock"))
            .header("PRIVATE-TOKEN", read)
            .json(&lock_body("L3"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(lock.status, 403);
    assert_eq!(lock.body["error"], "insufficient_scope");
    let vars = env
        .gl(
            Method::GET,
            read,
            "/projects/support%2Fops%2Ftriage/variables",
            None,
        )
        .await;
    assert_eq!(vars.status, 200);
    let write = env
        .gl(
            Method::PUT,
            read,
            "/projects/support%2Fops%2Ftriage/variables/TRIAGE_HOOK_SECRET",
            Some(json!({"value": "x".repeat(40)})),
        )
        .await;
    assert_eq!(write.status, 403);
}

#[tokio::test]
async fn a_read_scoped_zendesk_token_reads_and_is_refused_every_write_with_403() {
    let env = Scenario::demo().start();
    let read = env.sandbox.issue_zendesk_token("global", &["read"]);
    let read = read.expose_secret();
    let hooks = env
        .zd("global", Method::GET, read, "/api/v2/webhooks", None)
        .await;
    assert_eq!(hooks.status, 200);
    let id = hooks.body["webhooks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let apps = env
        .zd(
            "global",
            Method::GET,
            read,
            "/api/v2/apps/installations",
            None,
        )
        .await;
    assert_eq!(apps.status, 200);
    let app = apps.body["installations"][0]["id"].clone();
    let clients = env
        .zd("global", Method::GET, read, "/api/v2/oauth/clients", None)
        .await;
    assert_eq!(clients.status, 200);
    let client = clients.body["clients"][0]["id"].clone();
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v2/webhooks/{id}"),
            Some(
                json!({"webhook": {"authentication": {"type": "bearer_token", "add_position": "header", "data": {"token": "x"}}}}),
            ),
        ),
        (
            Method::PUT,
            format!("/api/v2/apps/installations/{app}"),
            Some(json!({"settings": {"subdomain": "x"}})),
        ),
        (
            Method::POST,
            "/api/v2/oauth/tokens".to_string(),
            Some(json!({"token": {"client_id": client, "scopes": ["read"]}})),
        ),
        (
            Method::PUT,
            format!("/api/v2/oauth/clients/{client}/generate_secret"),
            None,
        ),
        (
            Method::DELETE,
            "/api/v2/oauth/tokens/current".to_string(),
            None,
        ),
    ] {
        let answer = env.zd("global", method.clone(), read, &path, body).await;
        assert_eq!(answer.status, 403, "{method} {path}");
    }
    let still = env
        .zd(
            "global",
            Method::GET,
            read,
            "/api/v2/oauth/tokens/current",
            None,
        )
        .await;
    assert_eq!(still.status, 200, "the refused DELETE revoked nothing");
}
