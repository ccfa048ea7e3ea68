//! The errors of reading a manifest node into a typed value ([`super::tree`]): where each
//! one is, what was expected in words a person reads, and a "did you mean" for unknown
//! field and variant names.

use std::fmt;

use serde::de;

use crate::yaml::Node;

/// A problem found while reading one node into a typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeError {
    /// What was wrong.
    pub message: String,
    /// How to fix it, when known.
    pub hint: Option<String>,
    /// 1-based line (0 until a node claims the error).
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl TreeError {
    /// An error at `node`.
    pub fn at(node: &Node, message: impl Into<String>) -> Self {
        TreeError {
            message: message.into(),
            hint: None,
            line: node.line,
            column: node.column,
        }
    }

    pub(super) fn locate(mut self, node: &Node) -> Self {
        if self.line == 0 {
            self.line = node.line;
            self.column = node.column;
        }
        self
    }
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TreeError {}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.len() > 64 {
        return None;
    }
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// A hint for a name that is not one of `expected`.
pub fn unknown_name_hint(word: &str, expected: &[&str]) -> String {
    // A long word is no typo of a field name (and comparing it would cost).
    if word.len() > 64 {
        return match expected {
            [] => "remove it".to_string(),
            _ => format!("expected one of: {}", expected.join(", ")),
        };
    }
    match suggest(word, expected) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "remove it".to_string(),
        None => format!("expected one of: {}", expected.join(", ")),
    }
}

fn backticked(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("`{n}`")).collect()
}

/// The message of an empty string where a value is required (named by the enclosing mapping).
pub(super) const EMPTY_VALUE: &str = "empty value";
pub(super) const EMPTY_HINT: &str = "write the value here; an empty string is not accepted";

/// Separates a message from its hint in errors made by `Deserialize` impls of the model
/// (`message` + HINT + `hint`); other readers show it as a second line.
pub const HINT: &str = "\nhint: ";

/// The readable name of what serde expected.
fn friendly_expected(exp: &str) -> &str {
    match exp {
        "u8" | "u16" | "u32" | "u64" | "u128" | "i8" | "i16" | "i32" | "i64" | "i128" => {
            "a whole number"
        }
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        other => other,
    }
}

fn type_hint(exp: &str) -> String {
    match exp {
        "true or false" => "write `true` or `false`".to_string(),
        "a whole number" => "write a whole number without quotes".to_string(),
        "a string" | "a name" => {
            "write text here (quote it if it looks like a number or a list)".to_string()
        }
        "a list" => "write a list: `[a, b]`, or one `- item` per line".to_string(),
        "a mapping" => "write `key: value` pairs indented under this key".to_string(),
        other => format!("write {other} here"),
    }
}

impl de::Error for TreeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        let text = msg.to_string();
        let (message, hint) = match text.split_once(HINT) {
            Some((m, h)) => (m.to_string(), Some(h.to_string())),
            None => (text, None),
        };
        TreeError {
            message,
            hint,
            line: 0,
            column: 0,
        }
    }

    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        let exp = exp.to_string();
        let exp = friendly_expected(&exp);
        let mut err = Self::custom(format!("expected {exp}, found {}", describe(&unexp)));
        err.hint = Some(type_hint(exp));
        err
    }

    fn invalid_value(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        Self::custom(format!(
            "invalid value {}, expected {exp}",
            describe(&unexp)
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut err = Self::custom(format!("unknown field `{}`", crate::text::echo(field)));
        err.hint = Some(match suggest(field, expected) {
            Some(best) => format!("did you mean `{best}`?"),
            None if expected.is_empty() => "remove it: this entry takes no fields".to_string(),
            None => format!(
                "remove it; valid fields: {}",
                backticked(expected).join(", ")
            ),
        });
        err
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut err = Self::custom(format!("unknown value `{}`", crate::text::echo(variant)));
        err.hint = Some(match suggest(variant, expected) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("use one of: {}", backticked(expected).join(", ")),
        });
        err
    }

    fn missing_field(field: &'static str) -> Self {
        let mut err = Self::custom(format!("missing field `{field}`"));
        err.hint = Some(format!("add `{field}:` to this entry"));
        err
    }

    fn duplicate_field(field: &'static str) -> Self {
        let mut err = Self::custom(format!("field `{field}` is given twice"));
        err.hint = Some("keep one of them".to_string());
        err
    }
}

fn describe(unexp: &de::Unexpected) -> String {
    match unexp {
        de::Unexpected::Bool(b) => format!("boolean `{b}`"),
        de::Unexpected::Unsigned(n) => format!("integer `{n}`"),
        de::Unexpected::Signed(n) => format!("integer `{n}`"),
        de::Unexpected::Float(n) => format!("number `{n}`"),
        de::Unexpected::Str(s) => format!("string `{}`", crate::text::echo(s)),
        de::Unexpected::Unit => "nothing (null)".to_string(),
        de::Unexpected::Seq => "a list".to_string(),
        de::Unexpected::Map => "a mapping".to_string(),
        other => other.to_string(),
    }
}
