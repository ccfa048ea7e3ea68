//! tokenops keeps GitLab and Zendesk API tokens alive the GitOps way.
//!
//! # Map of the crate
//!
//! ```text
//!  main.rs ── cli/ ──────────────► ops/ (verbs) ───────────► nouns
//!  exit codes  clap → typed options  validate, schema, plan,   manifest  (desired state, YAML)
//!              one run context       apply, check, import,     kinds     (one driver per kind)
//!                                    sandbox, demo, unlock     discover  (live state, read once)
//!                                                              inventory (live state, plain data)
//!                                                              plan      (the diff, pure)
//!                                                              ledger    (rotation records)
//!                                                              clients   (one client per instance)
//!                                                              gitlab, zendesk (API clients)
//!                                                              http      (retry, budget, errors)
//!                                                              sandbox   (the fake platforms)
//! ```
//!
//! Where a behaviour lives:
//!
//! * anything about one token or consumer kind (its fields, validation, what is listed to
//!   find it, how its live record is matched, how a value is obtained, written, verified and
//!   retired): its driver, `kinds/tokens/KIND.rs` or `kinds/consumers/KIND.rs`; the list of
//!   kinds is `kinds/mod.rs`, the traits `kinds/token.rs` and `kinds/consumer.rs`;
//! * a command's flags: `cli/COMMAND.rs`; what it does: `ops/COMMAND.rs` (or `ops/COMMAND/`);
//!   what every command starts with (paths, manifests, clients, ledger): `cli/session.rs`;
//!   how every run ends (sign-out, and SIGTERM or SIGINT): `cli/context.rs`, `finish_run`;
//! * how tokenops signs in (credentials from the environment; Zendesk's client-credentials
//!   session): `cli/credentials/`, `zendesk/session.rs`; its own credentials' rotation:
//!   `kinds/consumers/tokenops_credential.rs`, `ops/apply/own.rs`;
//! * the rotation protocol (intent, escrow, distribute, verify, finish, resume):
//!   `ops/apply/protocol.rs`; the statuses and actions a plan gives: `plan/engine.rs`;
//! * the YAML contract and its checks: `manifest/`; every rule reports file:line:column;
//! * retries, rate limits and error messages of platform calls: `http/`;
//! * a platform endpoint: `gitlab/` or `zendesk/` (client), `sandbox/gitlab/` or
//!   `sandbox/zendesk/` (the simulator).
//!
//! `cli` only turns arguments and the environment into typed options and the run context
//! (clients, `now`); the library never reads `std::env` or the clock on its own. Secret values
//! are `secrecy::SecretString` from the moment they arrive; they leave only in an HTTP body to
//! the platform that needs them.

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
pub mod text;
pub mod time;
pub mod watch;
pub mod yaml;
pub mod zendesk;

pub use platform::Platform;
