//! Every YAML call of the crate goes through this module, so the YAML library can be swapped
//! in one place. `from_str` reads typed values with `serde-saphyr`; `parse_tree` builds a
//! [`Node`] tree with the line and column of every node from the events of `granit-parser`
//! (the parser `serde-saphyr` itself uses).

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

/// Deepest nesting of sequences and mappings accepted (manifests need a handful of levels).
pub const MAX_DEPTH: usize = 64;

/// Most values one file may hold (tens of thousands of tokens), so that a file of tiny
/// values cannot make the tree, and the work over it, grow without bound.
pub const MAX_NODES: usize = 1_000_000;

/// Parses `text` into a [`Node`] tree, straight from the parser's events (no intermediate
/// serde layer: this is the hot path of `validate`). Plain scalars are typed with the YAML 1.2
/// core schema; aliases are expanded within a budget; `<<` merge keys are applied; duplicate
/// keys, a second document and nesting deeper than [`MAX_DEPTH`] are errors. An empty document
/// is a `Null` node at 1:1.
pub fn parse_tree(text: &str, origin: &str) -> Result<Node, YamlError> {
    let fail = |line: u64, column: u64, message: String| YamlError {
        origin: origin.to_string(),
        line,
        column,
        message,
    };
    let mut builder = TreeBuilder::default();
    let mut documents = 0;
    for event in granit_parser::Parser::new_from_str(text) {
        let (event, span) = event.map_err(|err| {
            let marker = err.marker();
            fail(
                marker.line() as u64,
                marker.col() as u64 + 1,
                err.info().to_string(),
            )
        })?;
        let (line, column) = (span.start.line() as u64, span.start.col() as u64 + 1);
        let at = |message: String| fail(line, column, message);
        match event {
            granit_parser::Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(at(
                        "a second document (`---`) starts here; a file holds one document".into(),
                    ));
                }
            }
            granit_parser::Event::Scalar(value, style, anchor, tag) => {
                let core_str = tag
                    .as_deref()
                    .is_some_and(|t| t.handle() == "tag:yaml.org,2002:" && t.suffix() == "str");
                let value = if style == granit_parser::ScalarStyle::Plain && !core_str {
                    resolve_plain(&value)
                } else {
                    Value::Str(value.into_owned())
                };
                builder
                    .push(
                        Node {
                            value,
                            line,
                            column,
                        },
                        anchor,
                    )
                    .map_err(at)?;
            }
            granit_parser::Event::SequenceStart(_, anchor, _) => {
                builder.open(false, line, column, anchor).map_err(at)?
            }
            granit_parser::Event::MappingStart(_, anchor, _) => {
                builder.open(true, line, column, anchor).map_err(at)?
            }
            granit_parser::Event::SequenceEnd | granit_parser::Event::MappingEnd => {
                builder.close().map_err(|(l, c, m)| fail(l, c, m))?
            }
            granit_parser::Event::Alias(id) => builder.alias(id, line, column).map_err(at)?,
            _ => {}
        }
    }
    Ok(builder.root.unwrap_or(Node {
        value: Value::Null,
        line: 1,
        column: 1,
    }))
}

/// A collection being read.
struct Frame {
    is_map: bool,
    line: u64,
    column: u64,
    anchor: usize,
    /// Sequence items, or mapping keys and values alternating.
    items: Vec<Node>,
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    /// Nodes read from the text, and nodes copied by aliases (bounded by the former).
    direct: usize,
    copied: usize,
}

impl TreeBuilder {
    fn open(&mut self, is_map: bool, line: u64, column: u64, anchor: usize) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err("values are nested too deeply".into());
        }
        self.stack.push(Frame {
            is_map,
            line,
            column,
            anchor,
            items: Vec::new(),
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), (u64, u64, String)> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let value = if frame.is_map {
            Value::Map(build_map(frame.items)?)
        } else {
            Value::Seq(frame.items)
        };
        let node = Node {
            value,
            line: frame.line,
            column: frame.column,
        };
        self.push(node, frame.anchor)
            .map_err(|m| (frame.line, frame.column, m))
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), String> {
        self.direct += 1;
        if self.direct > MAX_NODES {
            return Err(format!(
                "the file holds more than {MAX_NODES} values; reading stopped here"
            ));
        }
        if anchor != 0 {
            let size = count_nodes(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.attach(node);
        Ok(())
    }

    fn alias(&mut self, id: usize, line: u64, column: u64) -> Result<(), String> {
        let Some((node, size)) = self.anchors.get(&id) else {
            return Err("this alias names no anchor defined before it".into());
        };
        self.copied += size;
        if self.copied > 100_000 + 10 * self.direct {
            return Err("aliases expand into too many copies".into());
        }
        let mut copy = node.clone();
        copy.line = line;
        copy.column = column;
        self.attach(copy);
        Ok(())
    }

    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(frame) => frame.items.push(node),
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| count_nodes(k) + count_nodes(v))
            .sum(),
        _ => 0,
    }
}

/// Pairs keys with values, applies `<<` merges (explicit keys win) and rejects duplicate keys.
fn build_map(items: Vec<Node>) -> Result<Vec<(Node, Node)>, (u64, u64, String)> {
    let mut entries: Vec<(Node, Node)> = Vec::with_capacity(items.len() / 2);
    let mut merges = Vec::new();
    let mut iter = items.into_iter();
    while let Some(key) = iter.next() {
        let value = iter.next().unwrap_or(Node {
            value: Value::Null,
            line: key.line,
            column: key.column,
        });
        if matches!(&key.value, Value::Str(k) if k == "<<") {
            merges.push((key, value));
            continue;
        }
        if let Some((first, _)) = entries.iter().find(|(k, _)| k.value == key.value) {
            let name = match &first.value {
                Value::Str(s) => s.clone(),
                other => other.kind().to_string(),
            };
            return Err((
                key.line,
                key.column,
                format!("duplicate mapping key: {name}"),
            ));
        }
        entries.push((key, value));
    }
    for (key, value) in merges {
        let sources = match value.value {
            Value::Map(_) => vec![value],
            Value::Seq(items) => items,
            _ => {
                return Err((
                    key.line,
                    key.column,
                    "a `<<` merge takes a mapping or a list of mappings".into(),
                ));
            }
        };
        for source in sources {
            let Value::Map(merged) = source.value else {
                return Err((
                    source.line,
                    source.column,
                    "a `<<` merge takes a mapping or a list of mappings".into(),
                ));
            };
            for (k, v) in merged {
                if !entries.iter().any(|(e, _)| e.value == k.value) {
                    entries.push((k, v));
                }
            }
        }
    }
    Ok(entries)
}

/// Types a plain scalar with the YAML 1.2 core schema (leading-zero numbers stay text).
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return Value::Str(text.to_string());
        }
        let digits = text.strip_prefix('+').unwrap_or(text);
        if let Ok(i) = digits.parse::<i64>() {
            return Value::Int(i);
        }
        if let Ok(u) = digits.parse::<u64>() {
            return Value::UInt(u);
        }
        return Value::Str(text.to_string());
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8)] {
        if let Some(rest) = text.strip_prefix(prefix)
            && !rest.is_empty()
            && let Ok(i) = i64::from_str_radix(rest, radix)
        {
            return Value::Int(i);
        }
    }
    if is_float(unsigned)
        && let Ok(f) = text.parse::<f64>()
        && f.is_finite()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` with a dot or an exponent.
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits(int),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (frac.is_some() || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("True"), Value::Bool(true));
        assert_eq!(resolve_plain("yes"), Value::Str("yes".into()));
        assert_eq!(resolve_plain("9001"), Value::Int(9001));
        assert_eq!(resolve_plain("-3"), Value::Int(-3));
        assert_eq!(resolve_plain("0755"), Value::Str("0755".into()));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("21d"), Value::Str("21d".into()));
        assert_eq!(resolve_plain(".inf"), Value::Str(".inf".into()));
        assert_eq!(resolve_plain("18446744073709551615"), Value::UInt(u64::MAX));
    }

    #[test]
    fn tree_keeps_positions_aliases_and_merges() {
        let text =
            "base: &b { gitlab: gitlab.com }\nitem:\n  <<: *b\n  project: x\nlist: [*b, 'q']\n";
        let root = parse_tree(text, "t").unwrap();
        let item = root.get("item").unwrap();
        assert_eq!(item.get("gitlab").unwrap().as_str(), Some("gitlab.com"));
        assert_eq!(item.get("project").unwrap().line, 4);
        assert_eq!(item.get("project").unwrap().column, 12);
        let list = root.get("list").unwrap();
        assert_eq!((list.line, list.column), (5, 7));
    }

    #[test]
    fn tree_rejects_duplicates_documents_and_depth() {
        let dup = parse_tree("a: 1\nb: 2\na: 3\n", "t").unwrap_err();
        assert_eq!((dup.line, dup.column), (3, 1));
        assert!(dup.message.contains("duplicate mapping key: a"));
        assert!(parse_tree("a: 1\n---\nb: 2\n", "t").is_err());
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(
            parse_tree(&deep, "t")
                .unwrap_err()
                .message
                .contains("nested too deeply")
        );
        assert_eq!(
            parse_tree("# only a comment\n", "t").unwrap().value,
            Value::Null
        );
    }
}
