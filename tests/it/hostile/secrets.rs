//! No credential in any message: a server that echoes the credential it was sent (in JSON, as
//! text, escaped, percent-encoded, base64, cut short), or a value being written, never gets it
//! printed; secrets in instance URLs are refused and never echoed.

use serde_json::json;
use tokenops::http::ApiError;

use super::{CREDENTIAL, Hostile, run, sent_credential};
use crate::http::server::{Reply, serve};
use crate::http::{fast, gitlab};

/// Every way a server might hand the credential back.
pub fn echoes(credential: &str) -> Vec<(u16, Reply)> {
    let escaped: String = credential
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let percent: String = url::form_urlencoded::byte_serialize(credential.as_bytes()).collect();
    let basic = base64(format!("ops@example.com/token:{credential}").as_bytes());
    let hex: String = credential.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        (
            401,
            Reply::json(
                401,
                json!({"message": format!("the token {credential} is not valid")}),
            ),
        ),
        (
            500,
            Reply::text(500, &format!("token {credential} broke us")),
        ),
        (
            422,
            Reply::json(
                422,
                json!({"message": {"token": [format!("{credential} is invalid")]}}),
            ),
        ),
        (
            401,
            Reply {
                status: 401,
                headers: vec![("content-type".into(), "application/json".into())],
                body: format!(r#"{{"error":"invalid_token","error_description":"{escaped}"}}"#),
                delay: None,
            },
        ),
        (
            400,
            Reply::text(400, &format!("bad ?private_token={percent}")),
        ),
        (
            401,
            Reply::text(401, &format!("Authorization: Basic {basic}")),
        ),
        (403, Reply::text(403, &format!("hex {hex}"))),
        (
            404,
            Reply::text(
                404,
                &format!("not found: {}…", &credential[..credential.len() - 3]),
            ),
        ),
        (
            403,
            Reply::json(
                403,
                json!({"error": "insufficient_scope", "scope": credential}),
            ),
        ),
    ]
}

/// Standard base64 of `text` (how a Basic header carries a credential).
pub fn base64_of(text: &str) -> String {
    base64(text.as_bytes())
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn an_echoed_credential_never_reaches_an_error_message() {
    for (status, reply) in echoes(super::super::http::TOKEN) {
        let reply = std::sync::Mutex::new(Some(reply));
        let server =
            serve(move |_, _| reply.lock().unwrap().take().unwrap_or(Reply::empty(599))).await;
        let (client, _) = gitlab(&server.origin, fast());
        let err = client.get_personal_token(1).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains(&super::super::http::TOKEN[6..22]),
            "{status}: {text}"
        );
        if status < 500 {
            assert_eq!(err.status(), Some(status), "{err}");
        }
    }
}

#[tokio::test]
async fn a_value_introspected_and_echoed_back_is_removed() {
    // Verifying a consumer's value: the request authenticates with it; the server echoes it.
    let server = serve(|seen, _| {
        let sent = seen.header("private-token").unwrap_or_default();
        Reply::json(401, json!({"message": format!("{sent} was revoked")}))
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let value = secrecy::SecretString::from("glpat-ConsumerValue0123456789");
    let err = client.introspect_token(&value).await.unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains("ConsumerValue"), "{err}");
}

#[tokio::test]
async fn a_value_in_flight_echoed_back_is_removed() {
    // Writing a CI variable: the body carries the new value; the server echoes it.
    let server = serve(|seen, _| {
        let value = seen.json()["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Reply::json(
            400,
            json!({"message": {"value": [format!("{value} is invalid")]}}),
        )
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let value = secrecy::SecretString::from("glpat-NewValueInFlight0123456789");
    let owner = tokenops::gitlab::Owner::Project("support/ops/reports".into());
    let variable = tokenops::gitlab::NewVariable {
        key: "BOT_TOKEN".into(),
        value: value.clone(),
        variable_type: None,
        protected: false,
        masked: true,
        masked_and_hidden: false,
        raw: false,
        environment_scope: None,
        description: None,
    };
    let err = client.create_variable(&owner, &variable).await.unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("NewValueInFlight"), "{text}");
    assert!(text.contains("[REDACTED] is invalid"), "{text}");
}

#[test]
fn plan_and_check_never_print_the_instance_credential() {
    let hostile = Hostile::serve(|seen, _| {
        let credential = sent_credential(seen);
        Reply::json(
            401,
            json!({"message": format!("the token {credential} is not valid")}),
        )
    });
    let dir = hostile.project("check:\n  discover: { gitlab_users: [support-ops-bot] }\n");
    for command in [&["plan"][..], &["check"][..]] {
        let out = run(dir.path(), command, &[]);
        out.assert_refused(&[CREDENTIAL]);
        assert!(out.stderr.contains("[REDACTED]"), "{}", out.stderr);
    }
    assert!(hostile.server.count() > 0, "the server was asked");
}

#[test]
fn text_and_server_errors_with_the_credential_are_cleaned() {
    for status in [500u16, 422] {
        let hostile = Hostile::serve(move |seen, _| {
            Reply::text(status, &format!("echo: {} end", sent_credential(seen)))
        });
        let dir = hostile.project("");
        let out = run(dir.path(), &["plan"], &[]);
        out.assert_refused(&[CREDENTIAL]);
    }
}

#[test]
fn user_information_in_an_instance_url_is_refused_and_never_echoed() {
    let dir = super::project(
        &super::config("ftp://user:s3cretPW99@host", ""),
        super::ONE_TOKEN,
    );
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&["s3cretPW99"]);
    assert!(out.stdout.contains("tokenops.yaml:4:10"), "{}", out.stdout);
    let out = run(dir.path(), &["plan"], &[]);
    out.assert_refused(&["s3cretPW99"]);
}

#[test]
fn a_credential_in_a_url_query_is_refused_and_never_echoed() {
    let secret = "glpat-InTheQuery0123456789ab";
    let dir = super::project(
        &super::config(&format!("https://gitlab.com/?private_token={secret}"), ""),
        super::ONE_TOKEN,
    );
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[secret]);
    assert!(out.stdout.contains("private_token"), "{}", out.stdout);
    // From the URL override, plan names the variable and the instance.
    let dir = super::project(&super::config("https://gitlab.com", ""), super::ONE_TOKEN);
    let out = run(
        dir.path(),
        &["plan"],
        &[(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            &format!("https://gitlab.example.com/?private_token={secret}"),
        )],
    );
    out.assert_refused(&[secret]);
    assert!(
        out.stderr.contains("TOKENOPS_GITLAB_GITLAB_COM_URL")
            && out.stderr.contains("`gitlab.com`"),
        "{}",
        out.stderr
    );
}
