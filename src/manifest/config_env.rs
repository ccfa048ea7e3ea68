//! The environment variables `tokenops.yaml` names: each must be a POSIX name, and each
//! holds one thing only (an instance's credential and its read credential may share one).
//! The escrow identity is never an instance's credential (it would be sent to the platform
//! as one), and no variable is the credential of two instances (the value would reach a host
//! it does not belong to).

use std::path::Path;

use super::checks::at;
use super::names::{ENV_HINT, env_problem};
use super::{Config, LedgerSettings};
use crate::diag::Diagnostics;
use crate::text::echo;
use crate::yaml::{Node, Value};

/// The variable the escrow identity is read from when `escrow.identity_env` is not set.
pub const DEFAULT_IDENTITY_ENV: &str = "TOKENOPS_ESCROW_IDENTITY";

/// What a variable is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// The credential of an instance (GitLab token, Zendesk OAuth or API token).
    Credential {
        platform: &'static str,
        instance: String,
    },
    /// The read-only credential of an instance (for `plan`, `check`, `import`).
    ReadCredential {
        platform: &'static str,
        instance: String,
    },
    /// The sign-in email of a Zendesk instance (not a secret, but not a credential either).
    Email { instance: String },
    /// The OAuth client identifier a Zendesk instance signs in with (not a secret either).
    ClientId { instance: String },
    /// The escrow's age identity.
    Identity,
    /// The user name or password of the `http` ledger.
    State { what: &'static str },
    /// The token of the `gitlab` ledger.
    StateToken,
}

impl Role {
    fn words(&self) -> String {
        match self {
            Role::Credential { platform, instance } => {
                format!("the credential of {platform} instance `{}`", echo(instance))
            }
            Role::ReadCredential { platform, instance } => {
                format!(
                    "the read credential of {platform} instance `{}`",
                    echo(instance)
                )
            }
            Role::Email { instance } => {
                format!("the sign-in email of zendesk instance `{}`", echo(instance))
            }
            Role::ClientId { instance } => format!(
                "the OAuth client identifier of zendesk instance `{}`",
                echo(instance)
            ),
            Role::Identity => "the escrow identity (`escrow.identity_env`)".to_string(),
            Role::State { what } => format!("the ledger's {what} (`state.{what}_env`)"),
            Role::StateToken => "the ledger's token (`state.token_env`)".to_string(),
        }
    }
}

struct Named<'a> {
    var: &'a str,
    role: Role,
    node: &'a Node,
}

fn item<'a>(root: &'a Node, list: &str, i: usize) -> Option<&'a Node> {
    root.get(list).and_then(|l| match &l.value {
        Value::Seq(items) => items.get(i),
        _ => None,
    })
}

/// Checks every variable name and that no variable has two roles.
pub fn check_env_names(file: &Path, root: &Node, config: &Config, diags: &mut Diagnostics) {
    let mut named: Vec<Named<'_>> = Vec::new();
    // The identity first, so that a credential naming its variable is the one reported.
    let escrow_node = root.get("escrow");
    let identity = config
        .escrow
        .as_ref()
        .map_or(DEFAULT_IDENTITY_ENV, |e| e.identity_env.as_str());
    let identity_node = escrow_node.and_then(|e| e.get("identity_env"));
    if config.escrow.is_some() {
        named.push(Named {
            var: identity,
            role: Role::Identity,
            node: identity_node.or(escrow_node).unwrap_or(root),
        });
    }
    for (i, g) in config.gitlab.iter().enumerate() {
        let entry = item(root, "gitlab", i).unwrap_or(root);
        named.push(Named {
            var: &g.token_env,
            role: Role::Credential {
                platform: "gitlab",
                instance: g.name.clone(),
            },
            node: entry.get("token_env").unwrap_or(entry),
        });
        if let Some(read) = &g.read_token_env {
            named.push(Named {
                var: read,
                role: Role::ReadCredential {
                    platform: "gitlab",
                    instance: g.name.clone(),
                },
                node: entry.get("read_token_env").unwrap_or(entry),
            });
        }
    }
    for (i, z) in config.zendesk.iter().enumerate() {
        let entry = item(root, "zendesk", i).unwrap_or(root);
        let credential = || Role::Credential {
            platform: "zendesk",
            instance: z.name.clone(),
        };
        for (field, var, role) in [
            ("client_secret_env", &z.client_secret_env, credential()),
            (
                "client_id_env",
                &z.client_id_env,
                Role::ClientId {
                    instance: z.name.clone(),
                },
            ),
            ("oauth_token_env", &z.oauth_token_env, credential()),
            ("api_token_env", &z.api_token_env, credential()),
            (
                "read_oauth_token_env",
                &z.read_oauth_token_env,
                Role::ReadCredential {
                    platform: "zendesk",
                    instance: z.name.clone(),
                },
            ),
            (
                "email_env",
                &z.email_env,
                Role::Email {
                    instance: z.name.clone(),
                },
            ),
        ] {
            if let Some(var) = var {
                named.push(Named {
                    var,
                    role,
                    node: entry.get(field).unwrap_or(entry),
                });
            }
        }
    }
    if let LedgerSettings::Gitlab {
        token_env: Some(var),
        ..
    } = &config.state
    {
        let state = root.get("state").unwrap_or(root);
        named.push(Named {
            var,
            role: Role::StateToken,
            node: state.get("token_env").unwrap_or(state),
        });
    }
    if let LedgerSettings::Http {
        username_env,
        password_env,
        ..
    } = &config.state
    {
        let state = root.get("state").unwrap_or(root);
        for (field, var, what) in [
            ("username_env", username_env, "username"),
            ("password_env", password_env, "password"),
        ] {
            if let Some(var) = var {
                named.push(Named {
                    var,
                    role: Role::State { what },
                    node: state.get(field).unwrap_or(state),
                });
            }
        }
    }

    for (i, n) in named.iter().enumerate() {
        if let Some(problem) = env_problem(n.var) {
            diags.push(
                at(
                    file,
                    n.node,
                    format!(
                        "`{}` is not an environment-variable name: it {problem} ({})",
                        echo(n.var),
                        n.role.words()
                    ),
                )
                .hint(ENV_HINT),
            );
            continue;
        }
        // Without an `escrow:` section the default identity variable is still reserved.
        if n.var == DEFAULT_IDENTITY_ENV && n.role != Role::Identity && config.escrow.is_none() {
            diags.push(
                at(
                    file,
                    n.node,
                    format!(
                        "{} is where tokenops reads the escrow identity; it cannot also be {}",
                        n.var,
                        n.role.words()
                    ),
                )
                .hint("name another variable for this credential"),
            );
            continue;
        }
        let Some(first) = named[..i]
            .iter()
            .find(|m| m.var == n.var && env_problem(m.var).is_none())
        else {
            continue;
        };
        if allowed_twice(config, &first.role, &n.role) {
            continue;
        }
        let (earlier, later) = (&first.role, &n.role);
        let hint = if matches!(earlier, Role::Identity) || matches!(later, Role::Identity) {
            "the escrow identity is a secret key that must never be sent to a platform; keep it \
             in a variable of its own"
        } else {
            "give each credential a variable of its own, so that no instance is sent another's"
        };
        diags.push(
            at(
                file,
                n.node,
                format!(
                    "{} is already {} (line {}); it cannot also be {}",
                    n.var,
                    earlier.words(),
                    first.node.line,
                    later.words()
                ),
            )
            .hint(hint),
        );
    }
}

/// The one sharing that is fine: the `http` ledger's password may be the credential of the
/// GitLab instance that serves the state (that is whom it is sent to).
fn allowed_twice(config: &Config, a: &Role, b: &Role) -> bool {
    // The `gitlab` ledger's token may be the credential of the instance holding the state.
    if let LedgerSettings::Gitlab { gitlab, .. } = &config.state
        && let (Role::Credential { instance, .. }, Role::StateToken)
        | (Role::StateToken, Role::Credential { instance, .. }) = (a, b)
    {
        return gitlab.as_deref().is_none_or(|g| g == instance);
    }
    // An instance's read credential may be the same variable as its credential.
    if let (
        Role::Credential {
            platform: p,
            instance: i,
        },
        Role::ReadCredential {
            platform: q,
            instance: j,
        },
    )
    | (
        Role::ReadCredential {
            platform: q,
            instance: j,
        },
        Role::Credential {
            platform: p,
            instance: i,
        },
    ) = (a, b)
    {
        return p == q && i == j;
    }
    let (instance, state) = match (a, b) {
        (Role::Credential { instance, .. }, Role::State { what: "password" })
        | (Role::State { what: "password" }, Role::Credential { instance, .. }) => {
            (instance, &config.state)
        }
        _ => return false,
    };
    let LedgerSettings::Http { address, .. } = state else {
        return false;
    };
    config.gitlab(instance).is_some_and(|g| {
        crate::ledger::http::StateAddress::parse(address)
            .is_ok_and(|a| a.base.trim_end_matches('/') == g.url.trim_end_matches('/'))
    })
}
