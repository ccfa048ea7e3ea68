//! Diagnostics: one problem found in a user's files, with where it is and how to fix it.
//! A message can quote the user's text, so each is kept on one line and cut; a run keeps at
//! most [`MAX_DIAGNOSTICS`] of them and counts the rest.

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

/// The most problems one run reports; the others are counted.
pub const MAX_DIAGNOSTICS: usize = 500;

/// The longest message or hint, in characters (quoted text is usually cut well before).
const MAX_MESSAGE: usize = 600;

impl Diagnostic {
    /// A problem at `line:column` of `file`.
    pub fn new(file: &Path, line: u64, column: u64, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message: crate::text::shown(&message.into(), MAX_MESSAGE),
            hint: None,
        }
    }

    /// Adds (or replaces) the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(crate::text::shown(&hint.into(), MAX_MESSAGE));
        self
    }

    /// `file:line:column`; a problem with the whole file (or directory) is placed at 1:1 so
    /// that every line of the report has the same shape for editors and CI log matchers.
    pub fn place(&self) -> String {
        format!(
            "{}:{}:{}",
            crate::text::one_line(&self.file.display().to_string()),
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

/// A diagnostic that does not stop a run, printed as `file:line:column: warning: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub Diagnostic);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: warning: {}", self.0.place(), self.0.message)?;
        if let Some(hint) = &self.0.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one run, in file and position order: the first
/// [`MAX_DIAGNOSTICS`] found, and how many more there were.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>, usize);

impl Diagnostics {
    /// Adds one problem (counts it only, past [`MAX_DIAGNOSTICS`]).
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if self.0.len() < MAX_DIAGNOSTICS {
            self.0.push(diagnostic);
        } else {
            self.1 += 1;
        }
    }
    /// Adds every problem of `other`.
    pub fn append(&mut self, other: Diagnostics) {
        self.1 += other.1;
        for d in other.0 {
            self.push(d);
        }
    }
    /// True when there is no problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty() && self.1 == 0
    }
    /// The number of problems, counted ones included.
    pub fn len(&self) -> usize {
        self.0.len() + self.1
    }
    /// How many problems were counted but not kept.
    pub fn omitted(&self) -> usize {
        self.1
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
        if self.1 > 0 {
            writeln!(
                f,
                "… and {} more problem{} not shown; fix these first",
                self.1,
                if self.1 == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}
