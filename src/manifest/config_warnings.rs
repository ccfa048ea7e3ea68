//! Warnings about `tokenops.yaml` that do not stop a run: Zendesk sign-ins that a platform
//! deadline ends. A static OAuth access token (`oauth_token_env`) lapses under Zendesk's
//! expiry policy; a legacy API token (`email_env` + `api_token_env`) dies on 2027-04-30.
//! Both point at the client-credentials sign-in (`client_id_env`, `client_secret_env`).

use std::path::Path;

use super::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::yaml::{Node, Value};

/// What to use instead, for both warnings.
const INSTEAD: &str = "sign in with a confidential OAuth client instead: set `client_id_env` \
                       and `client_secret_env` (each run mints a short-lived token and revokes \
                       it), and declare the secret as a zendesk_oauth_client_secret with a \
                       `tokenops_credential: { zendesk: NAME }` consumer and the CI/CD \
                       variable that holds it, so tokenops rotates it";

/// The warnings for the config read from `file` (whose tree gives the positions).
pub fn sign_in_warnings(file: &Path, config: &Config) -> Vec<Diagnostic> {
    let mut ignored = Diagnostics::default();
    let root = super::files::read_tree(file, &mut ignored);
    let entry = |i: usize| -> Option<&Node> {
        root.as_ref()?.get("zendesk").and_then(|l| match &l.value {
            Value::Seq(items) => items.get(i),
            _ => None,
        })
    };
    let mut out = Vec::new();
    for (i, z) in config.zendesk.iter().enumerate() {
        if z.client_credentials() {
            continue;
        }
        let at = |field: &str| {
            let node = entry(i).map(|e| e.get(field).unwrap_or(e));
            let (line, column) = node.map_or((0, 0), |n| (n.line, n.column));
            (line, column)
        };
        if let Some(var) = &z.oauth_token_env {
            let (line, column) = at("oauth_token_env");
            out.push(
                Diagnostic::new(
                    file,
                    line,
                    column,
                    format!(
                        "Zendesk instance `{}` signs in with a static OAuth access token \
                         ({var}), which lapses under Zendesk's expiry policy: tokens of clients \
                         created after 2026-04-30 live 48 hours at most, and every local \
                         client's from 2027-04-01",
                        z.name
                    ),
                )
                .hint(INSTEAD),
            );
        } else if z.api_token_env.is_some() {
            let (line, column) = at("api_token_env");
            out.push(
                Diagnostic::new(
                    file,
                    line,
                    column,
                    format!(
                        "Zendesk instance `{}` signs in with a legacy API token, which Zendesk \
                         deactivates for good on 2027-04-30 (and earlier after 30 days unused)",
                        z.name
                    ),
                )
                .hint(INSTEAD),
            );
        }
    }
    out
}
