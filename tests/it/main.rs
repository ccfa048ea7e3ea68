//! The one integration-test binary. Each module covers one area; `scenario` holds the one
//! builder (sandbox, project directory, checked runs) all of them share.

mod apply;
mod check_engine;
mod check_sandbox;
mod check_scan;
mod ci_file;
mod credential_watch;
mod demo;
mod exit_codes;
mod hostile;
mod http;
mod import_sandbox;
mod init;
mod ledger;
mod manifest;
mod operator_text;
mod pipeline;
mod plan_engine;
mod plan_sandbox;
mod read_only;
mod sandbox;
mod scenario;
mod schema;
mod validate;
mod zendesk;
