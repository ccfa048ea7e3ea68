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
