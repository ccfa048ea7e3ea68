//! Diagnostics: one problem found in a user's files, with where it is and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem, printed as `file:line:column: error: message` and `  hint: ...`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file (or directory) the problem is in, as the user named it.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file (printed as 1).
    pub line: u64,
    /// 1-based column; 0 when the problem concerns the whole file (printed as 1).
    pub column: u64,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A problem at `line:column` of `file`.
    pub fn new(file: &Path, line: u64, column: u64, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds (or replaces) the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:column`; a problem with the whole file (or directory) is placed at 1:1 so
    /// that every line of the report has the same shape for editors and CI log matchers.
    pub fn place(&self) -> String {
        format!(
            "{}:{}:{}",
            self.file.display(),
            self.line.max(1),
            self.column.max(1)
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.place(), self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one run, in file and position order.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }
    /// True when there is no problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Sorts by file, line and column, keeping the order of problems at one place.
    pub fn sort(&mut self) {
        self.0
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}
