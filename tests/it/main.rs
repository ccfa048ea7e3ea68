//! The one integration-test binary. Each module covers one area; `harness` holds the builders
//! shared by all of them.

mod apply;
mod harness;
mod http;
mod ledger;
mod manifest;
mod plan_engine;
mod plan_sandbox;
mod sandbox;
mod schema;
mod validate;
