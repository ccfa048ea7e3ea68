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
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
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
