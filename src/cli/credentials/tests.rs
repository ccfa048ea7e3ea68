//! Tests of credential resolution: which variable is read for which access, and what a
//! missing or misplaced one says.

use std::collections::HashMap;

use secrecy::ExposeSecret;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn gitlab() -> GitlabInstance {
    GitlabInstance {
        name: "gitlab.com".into(),
        url: "https://gitlab.com".into(),
        token_env: "GITLAB_TOKEN".into(),
        read_token_env: Some("GITLAB_READ_TOKEN".into()),
    }
}

fn zendesk() -> ZendeskInstance {
    ZendeskInstance {
        name: "global".into(),
        display_name: None,
        url: "https://example.zendesk.com".into(),
        client_id_env: None,
        client_secret_env: None,
        oauth_token_env: Some("ZENDESK_GLOBAL_OAUTH_TOKEN".into()),
        email_env: None,
        api_token_env: None,
        read_oauth_token_env: Some("ZENDESK_GLOBAL_READ_TOKEN".into()),
    }
}

fn secret(access: &InstanceAccess) -> &str {
    access.credential.expose_secret()
}

#[test]
fn a_refused_url_names_the_instance_and_where_it_came_from() {
    let lookup = env(&[
        ("GITLAB_TOKEN", "glpat-w"),
        (
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            "http://gitlab.example.com",
        ),
    ]);
    let err = gitlab_access(&gitlab(), Access::Write, &lookup).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`gitlab.com`"), "{text}");
    assert!(text.contains("TOKENOPS_GITLAB_GITLAB_COM_URL"), "{text}");
}

#[test]
fn an_age_identity_is_never_sent_as_a_credential() {
    let lookup = env(&[
        ("GITLAB_TOKEN", "AGE-SECRET-KEY-1QQQQQQQQQQQQ"),
        ("ZENDESK_GLOBAL_OAUTH_TOKEN", "AGE-SECRET-KEY-1QQQQQQQQQQQQ"),
    ]);
    let err = gitlab_access(&gitlab(), Access::Write, &lookup).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("GITLAB_TOKEN holds an age secret key"),
        "{text}"
    );
    assert!(!text.contains("QQQQ"), "{text}");
    let err = zendesk_access(&zendesk(), Access::Write, &lookup).unwrap_err();
    assert!(
        err.to_string()
            .contains("ZENDESK_GLOBAL_OAUTH_TOKEN holds an age"),
        "{err}"
    );
}

#[test]
fn reads_use_the_read_credential_and_writes_the_other() {
    let lookup = env(&[
        ("GITLAB_TOKEN", "glpat-w"),
        ("GITLAB_READ_TOKEN", "glpat-r"),
    ]);
    let read = gitlab_access(&gitlab(), Access::Read, &lookup).unwrap();
    assert_eq!(secret(&read), "glpat-r");
    let write = gitlab_access(&gitlab(), Access::Write, &lookup).unwrap();
    assert_eq!(secret(&write), "glpat-w");
    // Without a read credential, reads fall back to the instance's credential.
    let lookup = env(&[("GITLAB_TOKEN", "glpat-w")]);
    let read = gitlab_access(&gitlab(), Access::Read, &lookup).unwrap();
    assert_eq!(secret(&read), "glpat-w");
}

#[test]
fn overrides_come_first() {
    let lookup = env(&[
        ("GITLAB_READ_TOKEN", "glpat-r"),
        ("TOKENOPS_GITLAB_GITLAB_COM_TOKEN", "glpat-o"),
    ]);
    let read = gitlab_access(&gitlab(), Access::Read, &lookup).unwrap();
    assert_eq!(secret(&read), "glpat-o");
    let lookup = env(&[
        ("TOKENOPS_GITLAB_GITLAB_COM_TOKEN", "glpat-o"),
        ("TOKENOPS_GITLAB_GITLAB_COM_READ_TOKEN", "glpat-or"),
    ]);
    let read = gitlab_access(&gitlab(), Access::Read, &lookup).unwrap();
    assert_eq!(secret(&read), "glpat-or");
    let write = gitlab_access(&gitlab(), Access::Write, &lookup).unwrap();
    assert_eq!(secret(&write), "glpat-o");
}

#[test]
fn a_missing_read_credential_names_the_instance_the_variable_and_the_template() {
    let err = gitlab_access(&gitlab(), Access::Read, &env(&[]))
        .unwrap_err()
        .to_string();
    for part in [
        "`gitlab.com`",
        "GITLAB_READ_TOKEN (read_token_env) is not set",
        "GITLAB_TOKEN (token_env)",
        "tokenops:plan",
        "TOKENOPS_READ_TOKEN",
        "not protected",
        TEMPLATE_FILE,
        "TOKENOPS_GITLAB_GITLAB_COM_READ_TOKEN",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    let err = zendesk_access(&zendesk(), Access::Read, &env(&[]))
        .unwrap_err()
        .to_string();
    for part in [
        "Zendesk instance `global` has no read credential",
        "ZENDESK_GLOBAL_READ_TOKEN (read_oauth_token_env) is not set",
        "Settings > CI/CD > Variables, not protected",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
}

#[test]
fn a_missing_write_credential_says_it_is_protected() {
    let err = gitlab_access(
        &gitlab(),
        Access::Write,
        &env(&[("GITLAB_READ_TOKEN", "r")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("GITLAB_TOKEN (token_env) is not set"), "{err}");
    assert!(err.contains("TOKENOPS_ROTATE_TOKEN"), "{err}");
    assert!(err.contains("protected and masked"), "{err}");
    assert!(!err.contains("GITLAB_READ_TOKEN"), "{err}");
}

#[test]
fn reads_without_a_declared_read_credential_say_to_declare_one() {
    let bare = GitlabInstance {
        read_token_env: None,
        ..gitlab()
    };
    let err = gitlab_access(&bare, Access::Read, &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("declares no read credential"), "{err}");
    assert!(err.contains("`read_token_env: GITLAB_READ_TOKEN`"), "{err}");
    let bare = ZendeskInstance {
        read_oauth_token_env: None,
        ..zendesk()
    };
    let err = zendesk_access(&bare, Access::Read, &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`read_oauth_token_env: ZENDESK_GLOBAL_READ_TOKEN`"),
        "{err}"
    );
}

#[test]
fn an_unexpanded_reference_is_not_a_credential() {
    let lookup = env(&[("GITLAB_READ_TOKEN", "$TOKENOPS_READ_TOKEN")]);
    let err = gitlab_access(&gitlab(), Access::Read, &lookup)
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds `$TOKENOPS_READ_TOKEN`"), "{err}");
    assert!(err.contains("TOKENOPS_READ_TOKEN is not defined"), "{err}");
    assert!(is_reference("${X_1}"));
    assert!(!is_reference("$ecret-with-dash"));
    assert!(!is_reference("glpat-$x"));
}

#[test]
fn zendesk_reads_prefer_the_read_token() {
    let lookup = env(&[
        ("ZENDESK_GLOBAL_OAUTH_TOKEN", "w"),
        ("ZENDESK_GLOBAL_READ_TOKEN", "r"),
    ]);
    assert_eq!(
        secret(&zendesk_access(&zendesk(), Access::Read, &lookup).unwrap()),
        "r"
    );
    assert_eq!(
        secret(&zendesk_access(&zendesk(), Access::Write, &lookup).unwrap()),
        "w"
    );
    let legacy = ZendeskInstance {
        oauth_token_env: None,
        email_env: Some("ZD_EMAIL".into()),
        api_token_env: Some("ZD_TOKEN".into()),
        ..zendesk()
    };
    let lookup = env(&[("ZD_TOKEN", "t"), ("ZD_EMAIL", "ops@example.com")]);
    let write = zendesk_access(&legacy, Access::Write, &lookup).unwrap();
    assert_eq!(write.email.as_deref(), Some("ops@example.com"));
    let read = zendesk_access(&legacy, Access::Read, &lookup).unwrap();
    assert_eq!(read.email.as_deref(), Some("ops@example.com"), "falls back");
    let lookup = env(&[("ZD_TOKEN", "t")]);
    let err = zendesk_access(&legacy, Access::Write, &lookup).unwrap_err();
    assert!(err.to_string().contains("ZD_EMAIL"), "{err}");
}

#[test]
fn client_credentials_sign_in_reads_both_variables() {
    let client = ZendeskInstance {
        oauth_token_env: None,
        read_oauth_token_env: None,
        client_id_env: Some("ZD_CLIENT_ID".into()),
        client_secret_env: Some("ZD_CLIENT_SECRET".into()),
        ..zendesk()
    };
    let lookup = env(&[
        ("ZD_CLIENT_ID", "tokenops"),
        ("ZD_CLIENT_SECRET", "s3cr3t-v4lue"),
    ]);
    let (access, creds) = zendesk_sign_in(&client, Access::Read, &lookup).unwrap();
    let creds = creds.expect("client credentials");
    assert_eq!(creds.client_id, "tokenops");
    assert_eq!(
        creds.scope, "read write",
        "the end-of-run revoke is a write"
    );
    assert_eq!(secret(&access), "s3cr3t-v4lue");
    // An override still comes first (how a sandbox points a run elsewhere).
    let lookup = env(&[("TOKENOPS_ZENDESK_GLOBAL_TOKEN", "o")]);
    let (access, creds) = zendesk_sign_in(&client, Access::Write, &lookup).unwrap();
    assert!(creds.is_none());
    assert_eq!(secret(&access), "o");
    let err = zendesk_sign_in(&client, Access::Read, &env(&[("ZD_CLIENT_ID", "x")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ZD_CLIENT_SECRET (client_secret_env) is not set"),
        "{err}"
    );
    assert!(err.contains("protected"), "{err}");
}
