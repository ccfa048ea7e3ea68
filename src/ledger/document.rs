//! The ledger as bytes: written with a format version, and read only when it is a ledger.
//! Anything else (a list, `{}`, a Terraform state, a newer format) is refused instead of
//! being taken for an empty ledger, because an empty ledger means "nothing is pending" and
//! apply would rotate everything again, then overwrite the damaged file.
//!
//! A ledger written before the format version existed has no `format`; it is accepted when
//! it has the shape that version always wrote (`serial` and `tokens`, nothing unknown), and
//! gets the version on its next write.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Ledger, LedgerError};

/// The format this version writes and reads.
pub const FORMAT: u64 = 1;

/// The top-level fields of a ledger document.
const FIELDS: [&str; 4] = ["format", "serial", "fingerprint_key", "tokens"];

#[derive(Serialize)]
struct Versioned<'a> {
    format: u64,
    #[serde(flatten)]
    ledger: &'a Ledger,
}

/// The document for `ledger`, with the format version.
pub fn to_bytes(ledger: &Ledger, pretty: bool) -> Result<Vec<u8>, serde_json::Error> {
    let doc = Versioned {
        format: FORMAT,
        ledger,
    };
    if pretty {
        serde_json::to_vec_pretty(&doc)
    } else {
        serde_json::to_vec(&doc)
    }
}

/// Reads a ledger document; `path` names it in errors.
pub fn parse(bytes: &[u8], path: &str) -> Result<Ledger, LedgerError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|source| LedgerError::Corrupt {
        path: path.to_string(),
        source,
    })?;
    let not_a_ledger = |reason: String| LedgerError::NotALedger {
        path: path.to_string(),
        reason,
    };
    let Value::Object(mut top) = value else {
        return Err(not_a_ledger(format!(
            "it holds {}, not an object",
            kind(&value)
        )));
    };
    if let Some(unknown) = top.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let hint = if top.contains_key("terraform_version") || top.contains_key("lineage") {
            " (it looks like a Terraform state)"
        } else {
            ""
        };
        return Err(not_a_ledger(format!(
            "it has a field `{}` no ledger has{hint}",
            crate::text::echo(unknown)
        )));
    }
    match top.remove("format") {
        Some(Value::Number(n)) if n.as_u64() == Some(FORMAT) => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v > FORMAT) => {
            return Err(LedgerError::NewerFormat {
                path: path.to_string(),
                format: n.as_u64().unwrap_or_default(),
            });
        }
        Some(other) => {
            return Err(not_a_ledger(format!(
                "its `format` is {}, not a format version",
                crate::text::echo(&other.to_string())
            )));
        }
        // Written before the format version: the shape that version always wrote.
        None => {
            for required in ["serial", "tokens"] {
                if !top.contains_key(required) {
                    return Err(not_a_ledger(format!(
                        "it has neither a `format` nor a `{required}` field"
                    )));
                }
            }
        }
    }
    check_shape(&top).map_err(not_a_ledger)?;
    serde_json::from_value(Value::Object(top)).map_err(|source| LedgerError::Corrupt {
        path: path.to_string(),
        source,
    })
}

/// Checks that every record is an object where the ledger has one (serde would also take a
/// list for a record, and `null` for a map).
fn check_shape(top: &Map<String, Value>) -> Result<(), String> {
    if let Some(serial) = top.get("serial")
        && !serial.is_u64()
    {
        return Err(format!(
            "its `serial` is {}, not a whole number",
            kind(serial)
        ));
    }
    if let Some(key) = top.get("fingerprint_key")
        && !key.is_string()
    {
        return Err(format!("its `fingerprint_key` is {}", kind(key)));
    }
    let tokens = match top.get("tokens") {
        None => return Ok(()),
        Some(Value::Object(tokens)) => tokens,
        Some(other) => return Err(format!("its `tokens` is {}, not an object", kind(other))),
    };
    for (id, record) in tokens {
        let Value::Object(record) = record else {
            return Err(format!(
                "the record of `{}` is {}, not an object",
                crate::text::echo(id),
                kind(record)
            ));
        };
        for field in ["consumers", "pending"] {
            match record.get(field) {
                None | Some(Value::Null) | Some(Value::Object(_)) => {}
                Some(other) => {
                    return Err(format!(
                        "`{field}` in the record of `{}` is {}, not an object",
                        crate::text::echo(id),
                        kind(other)
                    ));
                }
            }
        }
        if let Some(Value::Object(pending)) = record.get("pending")
            && let Some(verified) = pending.get("verified")
            && !verified.is_object()
        {
            return Err(format!(
                "`pending.verified` in the record of `{}` is {}, not an object",
                crate::text::echo(id),
                kind(verified)
            ));
        }
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        parse(text.as_bytes(), "state.json")
            .expect_err(text)
            .to_string()
    }

    #[test]
    fn only_ledgers_are_read() {
        assert!(refused("[]").contains("a list"));
        assert!(refused("{}").contains("neither a `format`"));
        assert!(
            refused(r#"{"version":4,"terraform_version":"1.9.0","serial":3,"lineage":"x","outputs":{},"resources":[]}"#)
                .contains("Terraform state")
        );
        assert!(refused(r#"{"format":2,"serial":1,"tokens":{}}"#).contains("newer"));
        assert!(refused(r#"{"format":"1","serial":1,"tokens":{}}"#).contains("format"));
        assert!(refused(r#"{"serial":1,"tokens":[]}"#).contains("`tokens` is a list"));
        assert!(refused(r#"{"serial":1,"tokens":{"a":[1]}}"#).contains("record of `a`"));
        assert!(refused("").contains("restore"));
    }

    #[test]
    fn versioned_and_unversioned_ledgers_are_read() {
        let old = r#"{"serial":4,"fingerprint_key":"k","tokens":{"a":{"platform_id":"9"}}}"#;
        let ledger = parse(old.as_bytes(), "x").unwrap();
        assert_eq!(ledger.serial, 4);
        let bytes = to_bytes(&ledger, true).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"format\": 1"), "{text}");
        assert_eq!(parse(&bytes, "x").unwrap(), ledger);
        let empty = to_bytes(&Ledger::default(), false).unwrap();
        assert_eq!(parse(&empty, "x").unwrap(), Ledger::default());
    }
}
