//! Every YAML call of the crate goes through this module, so the YAML library can be swapped
//! in one place. It parses with `serde-saphyr`, which keeps line and column for errors.

use serde::de::DeserializeOwned;

/// A YAML document that could not be read into the expected type.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}:{column}: {message}")]
pub struct YamlError {
    /// Where the text came from (a file path, or a label such as `<seed>`).
    pub origin: String,
    /// 1-based line, 0 when the parser could not say.
    pub line: u64,
    /// 1-based column, 0 when the parser could not say.
    pub column: u64,
    /// What was wrong, without the location.
    pub message: String,
}

/// Parses `text` into `T`; `origin` names the source in errors.
pub fn from_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|err| {
        let (line, column) = err
            .location()
            .map(|loc| (loc.line(), loc.column()))
            .unwrap_or((0, 0));
        YamlError {
            origin: origin.to_string(),
            line,
            column,
            message: err.to_string(),
        }
    })
}

/// A parsed YAML value with the line and column of every node, so that each problem found
/// later (a wrong type, an unknown field, a semantic rule) can point at its exact place.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value of this node.
    pub value: Value,
    /// 1-based line of the node, 0 when unknown.
    pub line: u64,
    /// 1-based column of the node, 0 when unknown.
    pub column: u64,
}

/// The value of a [`Node`]: a scalar, a sequence or a mapping (keys keep their order).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// An unsigned integer beyond `i64`.
    UInt(u64),
    /// A floating point number.
    Float(f64),
    /// Any other scalar.
    Str(String),
    /// A block or flow sequence.
    Seq(Vec<Node>),
    /// A block or flow mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// A short noun for messages ("a string", "a mapping").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The value under `key` when this node is a mapping with a string key `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of the entry `key` when this node is a mapping.
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    /// The string value, when this node is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses `text` into a [`Node`] tree. An empty document is a `Null` node at 1:1.
pub fn parse_tree(text: &str, origin: &str) -> Result<Node, YamlError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Node {
            value: Value::Null,
            line: 1,
            column: 1,
        });
    }
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    };
    let spanned: serde_saphyr::Spanned<Value> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|err| {
            let (line, column) = err
                .location()
                .map(|loc| (loc.line(), loc.column()))
                .unwrap_or((0, 0));
            YamlError {
                origin: origin.to_string(),
                line,
                column,
                message: plain_message(&err),
            }
        })?;
    Ok(node_from(spanned))
}

/// The error text without the location suffix the YAML library appends.
fn plain_message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let mut first = text.lines().next().unwrap_or_default().trim();
    if let Some(at) = first.rfind(" at line ") {
        first = &first[..at];
    }
    if let Some(at) = first.find(", set DuplicateKeyPolicy") {
        first = &first[..at];
    }
    first.to_string()
}

fn node_from(spanned: serde_saphyr::Spanned<Value>) -> Node {
    Node {
        value: spanned.value,
        line: spanned.referenced.line(),
        column: spanned.referenced.column(),
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(v) => Ok(Value::Int(v)),
            Err(_) => Ok(Value::Str(v.to_string())),
        }
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(v) => Value::Int(v),
            Err(_) => Value::UInt(v),
        })
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Ok(Value::Str(v.to_string())),
        }
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<serde_saphyr::Spanned<Value>>()? {
            items.push(node_from(item));
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<serde_saphyr::Spanned<Value>>()? {
            let value = map.next_value::<serde_saphyr::Spanned<Value>>()?;
            entries.push((node_from(key), node_from(value)));
        }
        Ok(Value::Map(entries))
    }
}
