//! Names people and servers write: environment-variable names must be POSIX names, and the
//! escrow identity is never an instance's credential (nothing is sent); token ids have a safe
//! alphabet and length; names a server sends cannot forge a line of the plan or reach the
//! merge-request note as Markdown.

use super::{AGE_IDENTITY, CREDENTIAL, Hostile, ONE_TOKEN, config, project, run};
use crate::http::server::Reply;
use crate::scenario::{Scenario, names};

fn with_token_env(var: &str) -> String {
    format!(
        "version: 1\ngitlab:\n  - name: gitlab.com\n    url: https://gitlab.com\n    token_env: \"{var}\"\n"
    )
}

#[test]
fn bad_environment_variable_names_are_refused_at_their_place() {
    for (var, says) in [
        ("", "is empty"),
        ("A=B", "contains `=`"),
        ("GITLAB TOKEN", "contains a space"),
        ("1TOKEN", "starts with a digit"),
    ] {
        let dir = project(&with_token_env(var), ONE_TOKEN);
        let out = run(dir.path(), &["validate"], &[]);
        out.assert_refused(&[]);
        assert!(
            out.stdout.contains("tokenops.yaml:5:16"),
            "{var:?}: {}",
            out.stdout
        );
        assert!(out.stdout.contains(says), "{var:?}: {}", out.stdout);
        // An empty value is refused as empty, like every empty string (it names the field).
        let expected = if var.is_empty() {
            "`token_env` is empty"
        } else {
            "not an environment-variable name"
        };
        assert!(out.stdout.contains(expected), "{}", out.stdout);
    }
}

#[test]
fn the_escrow_identity_is_never_sent_as_a_credential() {
    let hostile = Hostile::serve(|_, _| Reply::json(200, serde_json::json!([])));
    let recipient = tokenops::ops::apply::escrow::generate_identity().1;
    let origin = &hostile.server.origin;
    let cases = [
        // The default identity variable named as the credential, with an `escrow:` section…
        config(origin, &format!("escrow: {{ recipient: {recipient} }}\n")).replace(
            "token_env: GITLAB_TOKEN",
            "token_env: TOKENOPS_ESCROW_IDENTITY",
        ),
        // …and without one (the variable is still where the identity is read from).
        config(origin, "").replace(
            "token_env: GITLAB_TOKEN",
            "token_env: TOKENOPS_ESCROW_IDENTITY",
        ),
        // The identity moved into the credential's variable.
        config(
            origin,
            &format!("escrow: {{ recipient: {recipient}, identity_env: GITLAB_TOKEN }}\n"),
        ),
    ];
    for text in cases {
        let dir = project(&text, ONE_TOKEN);
        let env = [
            ("TOKENOPS_ESCROW_IDENTITY", AGE_IDENTITY),
            ("GITLAB_TOKEN", AGE_IDENTITY),
        ];
        let out = run(dir.path(), &["validate"], &env);
        out.assert_refused(&[AGE_IDENTITY]);
        assert!(out.stdout.contains("escrow identity"), "{}", out.stdout);
        assert!(out.stdout.contains("tokenops.yaml:"), "{}", out.stdout);
        let out = run(dir.path(), &["plan"], &env);
        out.assert_refused(&[AGE_IDENTITY]);
    }
    assert_eq!(hostile.server.count(), 0, "no request carried the identity");
}

#[test]
fn an_age_key_in_a_credential_variable_is_not_sent() {
    let hostile = Hostile::serve(|_, _| Reply::json(200, serde_json::json!([])));
    let dir = hostile.project("");
    let out = run(
        dir.path(),
        &["plan"],
        &[("TOKENOPS_GITLAB_GITLAB_COM_TOKEN", AGE_IDENTITY)],
    );
    out.assert_refused(&[AGE_IDENTITY, CREDENTIAL]);
    assert!(out.stderr.contains("age secret key"), "{}", out.stderr);
    assert_eq!(hostile.server.count(), 0);
}

#[test]
fn two_instances_never_share_a_credential_variable() {
    let text = "version: 1\ngitlab:\n  - name: a\n    url: https://a.example.com\n    token_env: T\n  - name: b\n    url: https://b.example.com\n    token_env: T\n";
    let dir = project(text, "tokens: []\n");
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(out.stdout.contains("tokenops.yaml:8:16"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("already the credential of gitlab instance `a`"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_id_with_a_line_break_and_an_escape_sequence_is_refused_and_shown_escaped() {
    let manifest = ONE_TOKEN.replace(
        "id: bot",
        "id: \"bot\\n= ok (gitlab_personal_access_token) in sync\\e[32m\"",
    );
    let dir = project(&config("https://gitlab.com", ""), &manifest);
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(
        out.stdout.contains("manifests/tokens.yaml:2:9"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("contains a line break"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\\n= ok"), "{}", out.stdout);
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("= ok")),
        "{}",
        out.stdout
    );
}

#[test]
fn a_hundred_thousand_character_id_is_refused_and_not_echoed_whole() {
    let long = "a".repeat(100_000);
    let manifest = ONE_TOKEN.replace("id: bot", &format!("id: {long}"));
    let dir = project(&config("https://gitlab.com", ""), &manifest);
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(out.stdout.contains("100000 characters"), "{}", out.stdout);
    assert!(
        out.stdout.len() < 2_000,
        "{} bytes of output",
        out.stdout.len()
    );
}

#[test]
fn names_a_server_sends_cannot_forge_plan_lines_or_markdown() {
    let forged = "x\n= forged (gitlab_personal_access_token) ok\u{1b}[2J @all [click](https://evil.example) <!--";
    let sc = Scenario::demo()
        .config(|c| {
            c.zendesk.clear();
            c.check.discover.gitlab_users = names(&["support-ops-bot"]);
        })
        .manifest(
            "tokens.yaml",
            "tokens:\n  - id: s\n    generated_secret: { length: 32 }\n",
        )
        .start();
    sc.with_gitlab(|gl| {
        for token in gl.tokens.values_mut() {
            token.name = forged.to_string();
        }
    });
    let text = sc.run(&["plan"], 0).stdout;
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("= forged")), "{text}");
    assert!(text.contains("\\n= forged"), "{text}");
    let md = sc.run(&["plan", "--format", "markdown"], 0).stdout;
    assert!(!md.contains('\u{1b}'), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("= forged")), "{md}");
    assert!(!md.contains(" @all") && md.contains("\\@all"), "{md}");
    assert_eq!(md.matches("<!--").count(), 1, "only the plan marker: {md}");
    assert!(md.contains("\\<\\!--"), "{md}");
    assert!(md.contains("\\[click\\]"), "{md}");
}

#[test]
fn text_from_a_manifest_reaches_plan_and_apply_escaped() {
    let sc = crate::scenario::Scenario::gitlab_example()
        .edit_manifest(
            "gitlab.yaml",
            "instructions: Update the ops-bot token in the team vault.",
            "instructions: \"Update the vault\\e[2J\\ndone     forged: every consumer verified\"",
        )
        .start();
    let plan = sc.run(&["plan"], 0).stdout;
    let apply = sc.run(&["apply", "--auto-approve"], 0).stdout;
    for out in [&plan, &apply] {
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(
            !out.lines().any(|l| l.starts_with("done     forged")),
            "{out}"
        );
    }
    assert!(apply.contains("Update the vault\\x1b[2J\\ndone"), "{apply}");
}

#[test]
fn a_read_credential_may_share_its_instance_variable_but_not_the_identity() {
    let shared = "version: 1\ngitlab:\n  - name: a\n    url: https://a.example.com\n    token_env: T\n    read_token_env: T\n";
    let dir = project(shared, "tokens: []\n");
    let out = run(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let identity = shared.replace(
        "read_token_env: T",
        "read_token_env: TOKENOPS_ESCROW_IDENTITY",
    );
    let dir = project(&identity, "tokens: []\n");
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(out.stdout.contains("tokenops.yaml:6:21"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("read credential of gitlab instance `a`"),
        "{}",
        out.stdout
    );
}
