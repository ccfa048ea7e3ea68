//! Turns a platform's error body into one readable sentence. GitLab and Zendesk use several
//! shapes (`message` as string or object, `error` + `error_description`, `description` +
//! `details`, an `errors` array, plain text, HTML); all are accepted, none is required.
//! Whatever the body says is cleaned (see `redact`) before it becomes part of a message.

use serde_json::Value;

use super::redact::Secrets;

/// What an error body said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The platform's message, or a placeholder when the body said nothing useful.
    pub message: String,
    /// The scope the platform says is missing (GitLab's `insufficient_scope` body).
    pub scope: Option<String>,
}

/// The most of a body that is read to find its message.
const MAX_BODY: usize = 64 * 1024;

/// Decodes an error body of either platform, removing `secrets` and anything shaped like a
/// credential from what it says.
pub fn decode_error_body(body: &[u8], secrets: &Secrets) -> Decoded {
    let raw = decode_raw(body);
    Decoded {
        message: secrets.clean(&raw.message),
        scope: raw
            .scope
            .map(|s| crate::text::cut(&secrets.clean(&s), 40).into_owned()),
    }
}

fn decode_raw(body: &[u8]) -> Decoded {
    let body = &body[..body.len().min(MAX_BODY)];
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Decoded {
            message: "no details in the response".to_string(),
            scope: None,
        };
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => decode_json(&value),
        Err(_) if trimmed.starts_with('<') => Decoded {
            message: "the response was an HTML page".to_string(),
            scope: None,
        },
        Err(_) => Decoded {
            message: trimmed.to_string(),
            scope: None,
        },
    }
}

/// A serde error message without the values it quotes from the body (`invalid type: string
/// "…"`, ``unknown variant `…` ``): a server could put a credential there. Field and variant
/// names of the expected shape (short lower-case words) are kept.
pub fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find(quote) {
            Some(close) => {
                let inner = &after[..close];
                let name_like = inner.len() <= 32
                    && inner
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if quote == '`' && name_like {
                    out.push_str(inner);
                } else {
                    out.push('…');
                }
                out.push(quote);
                rest = &after[close + 1..];
            }
            None => {
                out.push('…');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_json(value: &Value) -> Decoded {
    let scope = value
        .get("scope")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut parts: Vec<String> = Vec::new();
    if let Some(message) = value.get("message") {
        push_flat(&mut parts, message);
    }
    match value.get("error") {
        Some(Value::String(error)) => {
            let described = value
                .get("error_description")
                .or_else(|| value.get("description"))
                .and_then(Value::as_str);
            match described {
                Some(desc) => parts.push(format!("{error}: {desc}")),
                None => parts.push(error.clone()),
            }
        }
        Some(other @ Value::Object(_)) => push_flat(&mut parts, other),
        _ => {
            if let Some(desc) = value.get("description").and_then(Value::as_str) {
                parts.push(desc.to_string());
            }
        }
    }
    if let Some(details) = value.get("details") {
        let mut found = Vec::new();
        push_flat(&mut found, details);
        if !found.is_empty() {
            parts.push(found.join("; "));
        }
    }
    if let Some(Value::Array(errors)) = value.get("errors") {
        for error in errors {
            push_flat(&mut parts, error);
        }
    }
    if parts.is_empty() {
        if let Value::String(s) = value {
            parts.push(s.clone());
        } else {
            parts.push(value.to_string());
        }
    }
    Decoded {
        message: parts.join("; "),
        scope,
    }
}

/// Flattens a message that may be a string, an array, or a map of field → reasons.
fn push_flat(out: &mut Vec<String>, value: &Value) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => {
            for item in items {
                push_flat(out, item);
            }
        }
        Value::Object(map) => {
            // A JSON:API error or a Zendesk detail entry speaks for itself.
            for key in ["detail", "description", "title", "error", "message"] {
                if let Some(Value::String(s)) = map.get(key) {
                    out.push(s.clone());
                    return;
                }
            }
            for (field, reasons) in map {
                let mut inner = Vec::new();
                push_flat(&mut inner, reasons);
                out.push(format!("{field}: {}", inner.join(", ")));
            }
        }
        Value::Null => {}
        other => out.push(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> String {
        decode_error_body(body.as_bytes(), &Secrets::default()).message
    }

    #[test]
    fn gitlab_shapes() {
        assert_eq!(msg(r#"{"message":"401 Unauthorized"}"#), "401 Unauthorized");
        assert_eq!(
            msg(r#"{"message":{"key":["has already been taken"],"value":["is invalid"]}}"#),
            "key: has already been taken; value: is invalid"
        );
        assert_eq!(
            msg(r#"{"error":"invalid_token","error_description":"Token was revoked."}"#),
            "invalid_token: Token was revoked."
        );
        let scoped = decode_error_body(
            br#"{"error":"insufficient_scope","error_description":"higher privileges","scope":"api"}"#,
            &Secrets::default(),
        );
        assert_eq!(scoped.scope.as_deref(), Some("api"));
        assert_eq!(msg("Retry later\n"), "Retry later");
        assert_eq!(
            msg(r#"{"message":{"error":"requested too many times"}}"#),
            "requested too many times"
        );
        assert_eq!(
            msg("<html><body>502</body></html>"),
            "the response was an HTML page"
        );
    }

    #[test]
    fn zendesk_shapes() {
        assert_eq!(
            msg(r#"{"error":"RecordNotFound","description":"Not found"}"#),
            "RecordNotFound: Not found"
        );
        assert_eq!(
            msg(
                r#"{"error":"RecordInvalid","description":"Record validation errors","details":{"name":[{"description":"Name: cannot be blank","error":"BlankValue"}]}}"#
            ),
            "RecordInvalid: Record validation errors; name: Name: cannot be blank"
        );
        assert_eq!(
            msg(
                r#"{"errors":[{"code":"InvalidValue","title":"Invalid","detail":"endpoint is invalid"}]}"#
            ),
            "endpoint is invalid"
        );
        assert_eq!(
            msg(r#"{"error":{"title":"Forbidden","message":"no"}}"#),
            "Forbidden"
        );
        assert_eq!(msg(r#""Not Found""#), "Not Found");
        assert_eq!(msg(""), "no details in the response");
    }

    #[test]
    fn quoted_values_are_dropped() {
        assert_eq!(
            without_quoted_values(
                "invalid type: string \"glpat-abc\", expected u64 at line 1 column 9"
            ),
            "invalid type: string \"…\", expected u64 at line 1 column 9"
        );
        assert_eq!(
            without_quoted_values("missing field `id` at line 1 column 2"),
            "missing field `id` at line 1 column 2"
        );
        assert_eq!(
            without_quoted_values("unknown variant `Wf5pKRdCE2vvz9FyRPp4`, expected `a`"),
            "unknown variant `…`, expected `a`"
        );
    }
}
