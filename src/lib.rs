//! tokenops keeps GitLab and Zendesk API tokens alive the GitOps way.
//!
//! # Map of the crate
//!
//! ```text
//!  main.rs ── cli/ ──────────────► ops/ (verbs) ─────────────► nouns
//!  exit codes  clap → typed options  validate, schema, plan,     manifest  (desired state, YAML)
//!                                    apply, check, sandbox,      inventory (live state, plain data)
//!                                    demo                        plan      (the diff, pure)
//!                                                                 ledger    (rotation records)
//!                                                                 gitlab, zendesk (API clients)
//!                                                                 http      (retry, budget, errors)
//!                                                                 sandbox   (the fake platforms)
//! ```
//!
//! * `cli` only turns arguments and the environment into typed options; it never does work.
//! * `ops::*` are the operations. They receive everything they need (paths, credentials, the
//!   current time) in a context built once at the edge: the library never reads `std::env` or
//!   the clock on its own.
//! * `manifest` owns the YAML contract (`tokenops.yaml` and `manifests/**/*.yaml`), its JSON
//!   Schema and every validation rule, with file:line:column for each problem. All YAML goes
//!   through `yaml`.
//! * `sandbox` is a stateful simulator of the GitLab and Zendesk endpoints tokenops uses; the
//!   tests, `tokenops sandbox` and `tokenops demo` run against it on 127.0.0.1.
//!
//! Secret values are `secrecy::SecretString` from the moment they arrive; they leave only in an
//! HTTP body to the platform that needs them.

pub mod cli;
pub mod clients;
pub mod diag;
pub mod discover;
pub mod gitlab;
pub mod http;
pub mod inventory;
pub mod kinds;
pub mod ledger;
pub mod manifest;
pub mod ops;
pub mod plan;
pub mod platform;
pub mod progress;
pub mod sandbox;
pub mod time;
pub mod yaml;
pub mod zendesk;

pub use platform::Platform;
