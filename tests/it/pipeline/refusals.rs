//! What tokenops refuses in a pipeline, each with the fix in its message: `apply` with a
//! local ledger in CI (unless `--local-ledger-kept`), a read credential the plan job does not
//! have, a plan job whose Zendesk read credential was never defined (GitLab leaves the
//! reference unexpanded), and the `gitlab` backend outside a pipeline without a project.

use super::{Pipeline, Project, USER};

const LOCAL_CONFIG: &str = "version: 1
gitlab:
  - name: gitlab.com
    url: https://gitlab.com
    token_env: GITLAB_TOKEN
    read_token_env: GITLAB_READ_TOKEN
state:
  backend: local
  path: .tokenops/state.json
escrow:
  recipient: age1-replaced
";

fn gitlab_estate(config: &str) -> Project {
    let manifests = vec![(
        "gitlab.yaml".to_string(),
        crate::scenario::GITLAB_MANIFEST.to_string(),
    )];
    let mut project = Project::new(config, &manifests);
    project.set_template_credentials(&[]);
    project
}

#[test]
fn apply_in_ci_refuses_a_local_ledger_and_names_the_fix() {
    let project = gitlab_estate(LOCAL_CONFIG);
    let mark = project.sandbox.requests().entries.len();
    let apply = project.run(Pipeline::DefaultBranch, "tokenops:apply");
    assert_eq!(apply.code, Some(1), "{}", apply.log);
    for part in [
        "local file",
        "CI=true",
        "backend: gitlab",
        "--local-ledger-kept",
    ] {
        assert!(apply.log.contains(part), "{part}: {}", apply.log);
    }
    let writes: Vec<_> = project.sandbox.requests().entries[mark..]
        .iter()
        .filter(|e| e.method != "GET")
        .map(|e| e.route.clone())
        .collect();
    assert!(writes.is_empty(), "nothing was changed: {writes:?}");
}

#[test]
fn apply_in_ci_takes_a_local_ledger_the_job_says_it_keeps() {
    let project = gitlab_estate(LOCAL_CONFIG);
    let dir = tempfile::tempdir().expect("dir");
    crate::scenario::copy_tree(project.repo.path(), dir.path());
    let out = crate::scenario::plain_command(dir.path())
        .env("CI", "true")
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            project.sandbox.gitlab_url("gitlab.com"),
        )
        .env(
            "GITLAB_TOKEN",
            secrecy::ExposeSecret::expose_secret(&project.sandbox.gitlab_admin_token("gitlab.com")),
        )
        .env(
            "TOKENOPS_ESCROW_IDENTITY",
            secrecy::ExposeSecret::expose_secret(
                &project
                    .variables
                    .iter()
                    .find(|v| v.name == "TOKENOPS_ESCROW_IDENTITY")
                    .expect("identity")
                    .value,
            ),
        )
        .env("TOKENOPS_NOW", project.sandbox.clock().now().to_string())
        .args(["apply", "--auto-approve", "--local-ledger-kept"])
        .output()
        .expect("apply");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(dir.path().join(".tokenops/state.json").exists());
    project.assert_no_secret_in("apply", &text);
}

#[test]
fn plan_in_ci_warns_about_a_local_ledger_but_plans() {
    let project = gitlab_estate(LOCAL_CONFIG);
    let plan = project.run(Pipeline::MergeRequest, "tokenops:plan");
    plan.assert_passed("plan with a local ledger");
    assert!(
        plan.log.contains("warning: the ledger is the local file"),
        "{}",
        plan.log
    );
    assert!(plan.log.contains("`missing`"), "{}", plan.log);
    assert!(plan.log.contains("`unverifiable`"), "{}", plan.log);
}

#[test]
fn a_plan_job_without_the_read_credential_names_the_instance_the_variable_and_the_template() {
    let mut project = gitlab_estate(
        LOCAL_CONFIG
            .replace("backend: local", "backend: gitlab")
            .replace("  path: .tokenops/state.json\n", "")
            .as_str(),
    );
    project
        .variables
        .retain(|v| v.name != "TOKENOPS_READ_TOKEN");
    let plan = project.run(Pipeline::MergeRequest, "tokenops:plan");
    assert_eq!(plan.code, Some(1), "{}", plan.log);
    for part in [
        "GitLab instance `gitlab.com` has no read credential",
        "GITLAB_READ_TOKEN (read_token_env) holds `$TOKENOPS_READ_TOKEN`",
        "TOKENOPS_READ_TOKEN is not defined",
        "GITLAB_TOKEN (token_env) is not set",
        "templates/tokenops.gitlab-ci.yml sets GITLAB_READ_TOKEN in the tokenops:plan job",
        "not protected",
    ] {
        assert!(plan.log.contains(part), "{part}:\n{}", plan.log);
    }
    // The protected rotate token exists, but a merge-request pipeline cannot read it.
    assert!(
        project
            .variables
            .iter()
            .any(|v| v.name == "TOKENOPS_ROTATE_TOKEN")
    );
}

#[test]
fn a_plan_job_without_a_zendesk_read_token_names_it_and_where_to_add_it() {
    let config = std::fs::read_to_string(crate::scenario::repo_root().join("tokenops.yaml"))
        .expect("config");
    let mut project = Project::new(&config, &super::shipped_manifests());
    project.set_template_credentials(&[
        ("global", "ZENDESK_GLOBAL"),
        ("us-government", "ZENDESK_USGOV"),
    ]);
    project
        .variables
        .retain(|v| v.name != "ZENDESK_USGOV_READ_TOKEN");
    let plan = project.run(Pipeline::MergeRequest, "tokenops:plan");
    assert_eq!(plan.code, Some(1), "{}", plan.log);
    for part in [
        "Zendesk instance `us-government` has no read credential",
        "ZENDESK_USGOV_READ_TOKEN (read_oauth_token_env) is not set",
        "ZENDESK_USGOV_CLIENT_SECRET (client_secret_env) is not set",
        "Settings > CI/CD > Variables, not protected",
    ] {
        assert!(plan.log.contains(part), "{part}:\n{}", plan.log);
    }
}

#[test]
fn the_gitlab_backend_outside_a_pipeline_needs_its_project() {
    let project = gitlab_estate(
        &LOCAL_CONFIG
            .replace("backend: local", "backend: gitlab\n  gitlab: gitlab.com")
            .replace("  path: .tokenops/state.json\n", ""),
    );
    let out = crate::scenario::plain_command(project.repo.path())
        .env("GITLAB_TOKEN", "glpat-not-used-00000000")
        .arg("plan")
        .output()
        .expect("plan");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("outside a GitLab pipeline"), "{stderr}");
    assert!(stderr.contains("needs `project:`"), "{stderr}");
}

#[test]
fn an_apply_started_by_a_developer_explains_the_job_tokens_role() {
    let mut project = gitlab_estate(
        &LOCAL_CONFIG
            .replace("backend: local", "backend: gitlab")
            .replace("  path: .tokenops/state.json\n", ""),
    );
    project.sandbox.with_state(|w| {
        let gl = w.gitlab.get_mut("gitlab.com").unwrap();
        let dev = gl.add_user("dev", "A Developer", false, false);
        let id = gl.project(super::PROJECT).unwrap().id;
        gl.projects.get_mut(&id).unwrap().members.insert(dev, 30);
    });
    project.user = "dev".to_string();
    let apply = project.run(Pipeline::DefaultBranch, "tokenops:apply");
    assert_eq!(apply.code, Some(1), "{}", apply.log);
    assert!(apply.log.contains("403"), "{}", apply.log);
    assert!(apply.log.contains("CI_JOB_TOKEN"), "{}", apply.log);
    assert!(apply.log.contains("Maintainer"), "{}", apply.log);
    assert_ne!(USER, "dev");
}
