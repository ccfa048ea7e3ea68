//! The one integration-test binary. Each module covers one area; `harness` holds the builders
//! shared by all of them.

mod apply;
mod check_engine;
mod check_sandbox;
mod check_scan;
mod ci_file;
mod demo;
mod harness;
mod http;
mod import_sandbox;
mod ledger;
mod manifest;
mod plan_engine;
mod plan_sandbox;
mod sandbox;
mod scenario;
mod schema;
mod validate;
