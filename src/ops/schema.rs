//! `tokenops schema`: the JSON Schemas of `tokenops.yaml` and of manifest files, generated
//! from the manifest types, and the check that the committed copies in `schemas/` are current.

use std::io::Write;
use std::path::{Path, PathBuf};

use schemars::generate::SchemaSettings;

use super::Outcome;
use crate::manifest::{Config, ManifestFile};

/// File name of the `tokenops.yaml` schema.
pub const CONFIG_SCHEMA_FILE: &str = "tokenops.schema.json";
/// File name of the manifest schema.
pub const MANIFEST_SCHEMA_FILE: &str = "manifest.schema.json";

/// What `tokenops schema` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print both schemas to the output.
    Print,
    /// Write both schemas into this directory.
    Write(PathBuf),
    /// Compare both schemas with the files in this directory.
    Check(PathBuf),
}

/// A schema operation that could not run.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Writing a schema file failed.
    #[error("cannot write {path}: {source}; check that the directory exists and is writable")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing to the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

fn render<T: schemars::JsonSchema>() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut value = schema.to_value();
    let definitions = value.get("definitions").cloned().unwrap_or_default();
    for_editors(&mut value, &definitions);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Shapes the generated schema for editors (yaml-language-server): a choice of names is a
/// plain `enum` (so a wrong value reads "Value is not accepted. Valid values: ..." instead of
/// an indirect "matches none of the schemas"), with the variants' descriptions kept as
/// `enumDescriptions`; and every property carries a description, taken from the definition
/// it refers to when it has none of its own.
fn for_editors(node: &mut serde_json::Value, definitions: &serde_json::Value) {
    use serde_json::Value;
    match node {
        Value::Object(map) => {
            if let Some(Value::Array(choices)) = map.get("oneOf") {
                let names: Option<Vec<(Value, Value)>> = choices
                    .iter()
                    .map(|c| {
                        let name = c.get("const")?.clone();
                        let text = c.get("description").cloned().unwrap_or(Value::Null);
                        name.is_string().then_some((name, text))
                    })
                    .collect();
                if let Some(names) = names.filter(|n| !n.is_empty()) {
                    map.remove("oneOf");
                    map.insert("type".into(), Value::String("string".into()));
                    let (values, texts): (Vec<Value>, Vec<Value>) = names.into_iter().unzip();
                    map.insert("enum".into(), Value::Array(values));
                    if texts.iter().all(Value::is_string) {
                        map.insert("enumDescriptions".into(), Value::Array(texts));
                    }
                }
            }
            // An externally tagged choice (`- gitlab_ci_variable: {...}`): its key gets the
            // choice's description.
            if let (Some(Value::String(text)), Some(Value::Object(props))) =
                (map.get("description").cloned(), map.get_mut("properties"))
                && props.len() == 1
            {
                for prop in props.values_mut() {
                    describe(prop, Some(&text), definitions);
                }
            }
            // validate refuses an empty string anywhere; so does the schema.
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            if is_string
                && !["enum", "const", "minLength"]
                    .iter()
                    .any(|k| map.contains_key(*k))
            {
                map.insert("minLength".into(), Value::from(1));
            }
            // Descriptions the branches of a `oneOf` give their properties (a token's kind
            // keys), for the same properties at this level.
            let mut from_branches = serde_json::Map::new();
            if let Some(Value::Array(branches)) = map.get("oneOf") {
                for branch in branches {
                    if let Some(Value::Object(props)) = branch.get("properties") {
                        for (key, prop) in props {
                            let mut prop = prop.clone();
                            describe(&mut prop, None, definitions);
                            if let Some(text) = prop.get("description") {
                                from_branches.insert(key.clone(), text.clone());
                            }
                        }
                    }
                }
            }
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for (key, prop) in props.iter_mut() {
                    let text = from_branches.get(key).and_then(Value::as_str);
                    describe(prop, text, definitions);
                    // A tag's fixed value (`backend: local`) says what it selects.
                    if let Value::Object(p) = prop
                        && !p.contains_key("description")
                        && let Some(Value::String(tag)) = p.get("const").cloned()
                    {
                        p.insert(
                            "description".into(),
                            Value::String(format!("`{key}: {tag}` selects this form.")),
                        );
                    }
                }
            }
            for child in map.values_mut() {
                for_editors(child, definitions);
            }
        }
        Value::Array(items) => {
            for item in items {
                for_editors(item, definitions);
            }
        }
        _ => {}
    }
}

/// Gives a property schema a description when it has none: `text`, else the description of
/// the definition it refers to (directly or as its items').
fn describe(prop: &mut serde_json::Value, text: Option<&str>, definitions: &serde_json::Value) {
    use serde_json::Value;
    if *prop == Value::Bool(true) {
        *prop = Value::Object(serde_json::Map::new());
    }
    let Value::Object(map) = prop else {
        return;
    };
    if map.contains_key("description") {
        return;
    }
    let referred = map
        .get("$ref")
        .or_else(|| map.get("items").and_then(|i| i.get("$ref")))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/definitions/"))
        .and_then(|name| definitions.get(name))
        .and_then(|d| d.get("description"))
        .and_then(Value::as_str);
    if let Some(text) = text.or(referred) {
        map.insert("description".into(), Value::String(text.to_string()));
    }
}

/// Both schemas as `(file name, JSON text)`.
pub fn schemas() -> [(&'static str, String); 2] {
    [
        (CONFIG_SCHEMA_FILE, render::<Config>()),
        (MANIFEST_SCHEMA_FILE, render::<ManifestFile>()),
    ]
}

/// Runs `action`, reporting to `out`.
pub fn run(action: &Action, out: &mut dyn Write) -> Result<Outcome, SchemaError> {
    match action {
        Action::Print => {
            for (_, text) in schemas() {
                out.write_all(text.as_bytes())?;
            }
            Ok(Outcome::Success)
        }
        Action::Write(dir) => {
            for (name, text) in schemas() {
                let path = dir.join(name);
                std::fs::write(&path, text).map_err(|source| SchemaError::Write {
                    path: path.clone(),
                    source,
                })?;
                writeln!(out, "wrote {}", path.display())?;
            }
            Ok(Outcome::Success)
        }
        Action::Check(dir) => check(dir, out),
    }
}

fn check(dir: &Path, out: &mut dyn Write) -> Result<Outcome, SchemaError> {
    let mut stale = 0;
    for (name, text) in schemas() {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(current) if current == text => {}
            Ok(_) => {
                stale += 1;
                writeln!(out, "{}: error: schema is stale", path.display())?;
                writeln!(
                    out,
                    "  hint: run `tokenops schema --out {}` and commit the result",
                    dir.display()
                )?;
            }
            Err(_) => {
                stale += 1;
                writeln!(out, "{}: error: schema file is missing", path.display())?;
                writeln!(
                    out,
                    "  hint: run `tokenops schema --out {}` and commit the result",
                    dir.display()
                )?;
            }
        }
    }
    if stale == 0 {
        writeln!(out, "ok: schemas in {} are current", dir.display())?;
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::Problems)
    }
}
