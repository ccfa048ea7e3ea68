//! A serde `Deserializer` over a [`Node`] tree. Each error carries the position of the
//! innermost node it concerns, and unknown fields and variants come with a "did you mean".

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use crate::yaml::{Node, Value};

use super::tree_error::{EMPTY_HINT, EMPTY_VALUE};
pub use super::tree_error::{HINT, TreeError, suggest, unknown_name_hint};

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Int(i) => de::Unexpected::Signed(*i),
        Value::UInt(u) => de::Unexpected::Unsigned(*u),
        Value::Float(f) => de::Unexpected::Float(*f),
        Value::Str(s) => de::Unexpected::Str(s),
        Value::Seq(_) => de::Unexpected::Seq,
        Value::Map(_) => de::Unexpected::Map,
    }
}

/// Reads `node` into `T`.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &Node) -> Result<T, TreeError> {
    T::deserialize(NodeDe(node)).map_err(|e| e.locate(node))
}

/// Reads a `KEY: VALUE` entry into an externally tagged enum `T` (variant `KEY`).
pub fn enum_from_entry<'de, T: de::Deserialize<'de>>(
    key: &Node,
    value: &Node,
) -> Result<T, TreeError> {
    T::deserialize(EntryDe { key, value }).map_err(|e| e.locate(key))
}

/// Reads the mapping `map` with `read`, and when that fails reports every bad field of it, not
/// only the first: each entry is read again on its own (a mapping holding just that entry), and
/// each error found inside an entry is kept; errors about the mapping as a whole (a missing
/// field) are kept once. `read` is handed the mapping (or a one-entry copy of it) and may wrap
/// it, e.g. under a consumer's kind key.
pub fn read_fields<T>(
    map: &Node,
    read: impl Fn(&Node) -> Result<T, TreeError>,
) -> Result<T, Vec<TreeError>> {
    let first = match read(map) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let Value::Map(entries) = &map.value else {
        return Err(vec![first]);
    };
    let mut errors: Vec<TreeError> = Vec::new();
    for entry in entries {
        let single = Node {
            value: Value::Map(vec![entry.clone()]),
            ..map.clone()
        };
        if let Err(e) = read(&single)
            && (e.line, e.column) != (map.line, map.column)
            && !errors.contains(&e)
        {
            errors.push(e);
        }
    }
    if !errors.contains(&first) {
        errors.push(first);
    }
    errors.sort_by_key(|e| (e.line, e.column));
    Err(errors)
}

/// A deserializer over one node.
#[derive(Clone, Copy)]
pub struct NodeDe<'a>(pub &'a Node);

impl NodeDe<'_> {
    fn wrong_type(&self, exp: &dyn de::Expected) -> TreeError {
        <TreeError as de::Error>::invalid_type(unexpected(&self.0.value), exp).locate(self.0)
    }
}

struct Expecting(&'static str);

impl de::Expected for Expecting {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! via_any {
    ($($name:ident)*) => {$(
        fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let node = self.0;
        let result = match &node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter(),
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                key: None,
                entries: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.locate(node))
    }

    via_any! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Value::Bool(b) => visitor
                .visit_bool(*b)
                .map_err(|e: TreeError| e.locate(self.0)),
            _ => Err(self.wrong_type(&Expecting("true or false"))),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let node = self.0;
        let result = match &node.value {
            // An empty string is never a valid name, id, path or setting: refuse it here, so
            // that it stops at validate (with its place) instead of failing a plan later.
            Value::Str(s) if s.trim().is_empty() => {
                return Err(TreeError {
                    hint: Some(EMPTY_HINT.to_string()),
                    ..TreeError::at(node, EMPTY_VALUE)
                });
            }
            Value::Str(s) => visitor.visit_str(s),
            // A number where text is expected is taken as its text (`name: 2024`).
            Value::Int(i) => visitor.visit_string(i.to_string()),
            Value::UInt(u) => visitor.visit_string(u.to_string()),
            Value::Float(f) => visitor.visit_string(f.to_string()),
            _ => return Err(self.wrong_type(&Expecting("a string"))),
        };
        result.map_err(|e: TreeError| e.locate(node))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Value::Str(s) => visitor
                .visit_str(s)
                .map_err(|e: TreeError| e.locate(self.0)),
            _ => Err(self.wrong_type(&Expecting("a name"))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.wrong_type(&Expecting("nothing"))),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        visitor
            .visit_newtype_struct(self)
            .map_err(|e: TreeError| e.locate(self.0))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Value::Seq(items) => visitor
                .visit_seq(SeqDe {
                    items: items.iter(),
                })
                .map_err(|e: TreeError| e.locate(self.0)),
            _ => Err(self.wrong_type(&Expecting("a list"))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Value::Map(entries) => visitor
                .visit_map(MapDe {
                    key: None,
                    entries: entries.iter(),
                    value: None,
                })
                .map_err(|e: TreeError| e.locate(self.0)),
            _ => Err(self.wrong_type(&Expecting("a mapping"))),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Value::Str(_) => visitor
                .visit_enum(UnitVariant(self.0))
                .map_err(|e: TreeError| e.locate(self.0)),
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                EntryDe { key, value }
                    .deserialize_enum(_name, _variants, visitor)
                    .map_err(|e: TreeError| e.locate(self.0))
            }
            Value::Map(entries) if entries.len() > 1 => {
                let mut err = TreeError::at(
                    &entries[1].0,
                    format!("expected one key here, found {}", entries.len()),
                );
                err.hint = Some(
                    "each list item names one kind; indent the settings under it or start a new item with `-`"
                        .to_string(),
                );
                Err(err)
            }
            _ => Err(self.wrong_type(&Expecting("a name or a mapping with one key"))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        visitor.visit_unit()
    }
}

struct SeqDe<'a> {
    items: std::slice::Iter<'a, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = TreeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TreeError> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(NodeDe(node))
                .map(Some)
                .map_err(|e| e.locate(node)),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    key: Option<&'a Node>,
    value: Option<&'a Node>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = TreeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TreeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.key = Some(key);
                self.value = Some(value);
                seed.deserialize(NodeDe(key))
                    .map(Some)
                    .map_err(|e| e.locate(key))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TreeError> {
        let node = self
            .value
            .take()
            .ok_or_else(|| <TreeError as de::Error>::custom("value without a key"))?;
        let field = self.key.take();
        seed.deserialize(NodeDe(node)).map_err(|mut e| {
            // Name the field of a bad value given right here (`auth: oauth`).
            if (e.line == 0 || (e.line, e.column) == (node.line, node.column))
                && let Some(name) = field.and_then(Node::as_str)
            {
                if e.message.starts_with("unknown value") {
                    e.message = format!("{} for `{name}`", e.message);
                } else if e.message == EMPTY_VALUE {
                    e.message = format!("`{name}` is empty");
                    e.hint = Some(format!(
                        "fill in `{name}` (the comment next to it or the JSON Schema says what \
                         it holds); an empty string is not accepted, and an optional field can \
                         be left out"
                    ));
                }
            }
            e.locate(node)
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A `KEY: VALUE` pair read as an externally tagged enum.
#[derive(Clone, Copy)]
struct EntryDe<'a> {
    key: &'a Node,
    value: &'a Node,
}

impl<'de> de::Deserializer<'de> for EntryDe<'_> {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, TreeError> {
        Err(TreeError::at(self.key, "expected a single kind entry"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de> de::EnumAccess<'de> for EntryDe<'_> {
    type Error = TreeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), TreeError> {
        let variant = seed
            .deserialize(NodeDe(self.key))
            .map_err(|e| e.locate(self.key))?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for EntryDe<'_> {
    type Error = TreeError;

    fn unit_variant(self) -> Result<(), TreeError> {
        match self.value.value {
            Value::Null => Ok(()),
            _ => Err(TreeError::at(self.value, "this kind takes no settings")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, TreeError> {
        seed.deserialize(NodeDe(self.value))
            .map_err(|e| e.locate(self.value))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        de::Deserializer::deserialize_seq(NodeDe(self.value), visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        de::Deserializer::deserialize_map(NodeDe(self.value), visitor)
    }
}

/// A plain string read as a unit variant.
struct UnitVariant<'a>(&'a Node);

impl<'de> de::EnumAccess<'de> for UnitVariant<'_> {
    type Error = TreeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), TreeError> {
        let name = self.0.as_str().unwrap_or_default();
        let variant = seed
            .deserialize(name.into_deserializer())
            .map_err(|e: TreeError| e.locate(self.0))?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'_> {
    type Error = TreeError;

    fn unit_variant(self) -> Result<(), TreeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        _seed: T,
    ) -> Result<T::Value, TreeError> {
        Err(TreeError::at(
            self.0,
            "this kind needs settings: write it as `KIND: { ... }`",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, TreeError> {
        Err(TreeError::at(self.0, "this kind needs a list of settings"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, TreeError> {
        Err(TreeError::at(
            self.0,
            "this kind needs settings: write it as `KIND: { ... }`",
        ))
    }
}
