//! The operations (verbs). Each takes typed options and a context resolved at the edge, does
//! its work, writes its report, and returns an [`Outcome`] that `main` maps to an exit code.

pub mod schema;
pub mod validate;

/// How an operation ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is fine: exit code 0.
    Success,
    /// The operation ran and found problems (invalid manifests, a failed rotation): exit 1.
    Problems,
    /// Changes are pending or something needs attention (plan `--detailed-exitcode`, check
    /// finding expiring tokens): exit 2.
    Changes,
}
pub mod apply;
pub mod check;
pub mod comment;
pub mod demo;
pub mod import;
pub mod init;
pub mod plan;
pub mod unlock;
