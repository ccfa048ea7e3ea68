//! The one integration-test binary. Each module covers one area; `harness` holds the builders
//! shared by all of them.

mod apply;
mod harness;
mod http;
mod ledger;
mod plan_engine;
