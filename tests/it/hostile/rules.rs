//! `validate` applies every rule `plan` applies, at the file, line and column; `plan`'s own
//! refusal names the file (or variable) and the instance; loopback never goes through a
//! proxy, so a proxy never sees a credential sent in clear.

use serde_json::json;

use super::{CREDENTIAL, Hostile, ONE_TOKEN, config, project, run};
use crate::http::server::Reply;

#[test]
fn validate_refuses_every_url_plan_refuses() {
    for url in [
        "http://gitlab.com",
        "http://127.0.0.1.evil.com",
        "http://[::ffff:10.0.0.1]",
        "http://0.0.0.0",
        "http://10.0.0.1:8080",
        "https://",
        "gopher://gitlab.com",
    ] {
        let dir = project(&config(url, ""), ONE_TOKEN);
        let validate = run(dir.path(), &["validate"], &[]);
        validate.assert_refused(&[CREDENTIAL]);
        assert!(
            validate
                .stdout
                .contains("tokenops.yaml:4:10: error: gitlab instance `gitlab.com`"),
            "{url}: {}",
            validate.stdout
        );
        let plan = run(dir.path(), &["plan"], &[]);
        plan.assert_refused(&[CREDENTIAL]);
        assert!(
            plan.all().contains("tokenops.yaml:4:10"),
            "{url}: {}",
            plan.all()
        );
    }
}

#[test]
fn validate_refuses_an_empty_ledger_path() {
    let text = config("https://gitlab.com", "").replace(
        "state: { backend: local, path: .tokenops/state.json }",
        "state: { backend: local, path: \"\" }",
    );
    let dir = project(&text, ONE_TOKEN);
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(out.stdout.contains("tokenops.yaml:6:"), "{}", out.stdout);
    assert!(
        out.stdout.contains("`state.path` is empty"),
        "{}",
        out.stdout
    );
}

#[test]
fn validate_refuses_a_bad_escrow_recipient_and_state_address() {
    let text = config(
        "https://gitlab.com",
        "escrow: { recipient: age1notarecipient }\n",
    )
    .replace(
        "state: { backend: local, path: .tokenops/state.json }",
        "state: { backend: http, address: \"http://gitlab.com/api/v4/projects/1/terraform/state/t\" }",
    );
    let dir = project(&text, ONE_TOKEN);
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(
        out.stdout.contains("not an age X25519 recipient"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("the state address"), "{}", out.stdout);
}

#[test]
fn plan_names_the_instance_and_the_variable_of_a_refused_override() {
    let dir = project(&config("https://gitlab.com", ""), ONE_TOKEN);
    let out = run(
        dir.path(),
        &["plan"],
        &[(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            "http://gitlab.example.com",
        )],
    );
    out.assert_refused(&[CREDENTIAL]);
    assert!(
        out.stderr
            .contains("GitLab instance `gitlab.com`: the URL from TOKENOPS_GITLAB_GITLAB_COM_URL"),
        "{}",
        out.stderr
    );
}

#[test]
fn loopback_requests_never_go_through_a_proxy() {
    let proxy = Hostile::serve(|_, _| Reply::json(502, json!({"message": "proxied"})));
    let target = Hostile::serve(|_, _| Reply::json(401, json!({"message": "401 Unauthorized"})));
    let dir = target.project("");
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        let out = run(dir.path(), &["plan"], &[(var, &proxy.server.origin)]);
        out.assert_refused(&[CREDENTIAL]);
        assert!(out.stderr.contains("401"), "{var}: {}", out.stderr);
    }
    assert!(
        target.server.count() >= 3,
        "the instance was asked directly"
    );
    assert_eq!(proxy.server.count(), 0, "the proxy saw a loopback request");
}
