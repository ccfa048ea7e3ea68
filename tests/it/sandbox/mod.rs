//! The sandbox: every documented behaviour it models, each through HTTP against a sandbox
//! started on 127.0.0.1 inside the test (a [`crate::scenario::Scenario`], its raw HTTP
//! accessors), plus the `tokenops sandbox` command.

mod ci_credentials;
mod cli;
mod control;
mod deploy_tokens;
mod faults;
mod gitlab_hooks;
mod gitlab_misc;
mod gitlab_rotation;
mod gitlab_tokens;
mod gitlab_variables;
mod seed;
mod service_accounts;
mod shapes;
mod terraform;
mod zendesk;
mod zendesk_expiry;
mod zendesk_oauth;
