//! Rules for `tokenops.yaml` beyond its shape: unique instance names, URLs (the very rules
//! `plan` applies before sending a credential), credentials, default rotation, the ledger's
//! state and escrow settings, and the instances the state and check settings name.
//! Environment-variable names are in `config_env`.

use std::path::Path;

use super::checks::at;
use super::names;
use super::tree::suggest;
use super::{Config, LedgerSettings, Platform};
use crate::diag::{Diagnostic, Diagnostics};
use crate::text::echo;
use crate::yaml::{Node, Value};

/// Checks `tokenops.yaml` beyond its shape.
pub fn check_config(file: &Path, root: &Node, config: &Config, diags: &mut Diagnostics) {
    if let Some(v) = root.get("version")
        && config.version != 1
        && matches!(v.value, Value::Int(_))
    {
        diags.push(
            at(file, v, format!("unsupported version {}", config.version)).hint("set `version: 1`"),
        );
    }
    for (platform, names, urls) in [
        (
            Platform::GitLab,
            config
                .gitlab
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>(),
            config
                .gitlab
                .iter()
                .map(|g| g.url.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            Platform::Zendesk,
            config.zendesk.iter().map(|z| z.name.as_str()).collect(),
            config.zendesk.iter().map(|z| z.url.as_str()).collect(),
        ),
    ] {
        let list = root.get(platform.key());
        let item = |i: usize| {
            list.and_then(|l| match &l.value {
                Value::Seq(items) => items.get(i),
                _ => None,
            })
        };
        for (i, name) in names.iter().enumerate() {
            if let Some(problem) = names::id_problem(name) {
                let node = item(i).and_then(|n| n.get("name")).unwrap_or(root);
                diags.push(
                    at(
                        file,
                        node,
                        format!(
                            "{} instance name `{}` {problem}",
                            platform.key(),
                            echo(name)
                        ),
                    )
                    .hint(names::id_hint()),
                );
                continue;
            }
            if names[..i].contains(name) {
                let node = item(i).and_then(|n| n.get("name")).unwrap_or(root);
                diags.push(
                    at(
                        file,
                        node,
                        format!("{} instance `{name}` is declared twice", platform.key()),
                    )
                    .hint("instance names must be unique; rename or remove one"),
                );
            }
        }
        for (i, url) in urls.iter().enumerate() {
            if let Err(problem) = crate::http::base_url_problem(url) {
                let node = item(i).and_then(|n| n.get("url")).unwrap_or(root);
                diags.push(
                    at(
                        file,
                        node,
                        format!(
                            "{} instance `{}`: `{}` is refused: {}",
                            platform.key(),
                            echo(names.get(i).copied().unwrap_or_default()),
                            problem.url,
                            problem.reason
                        ),
                    )
                    .hint(
                        "write the instance's base URL, e.g. https://gitlab.com or https://example.zendesk.com",
                    ),
                );
            }
        }
    }
    for (i, z) in config.zendesk.iter().enumerate() {
        let legacy = (z.email_env.is_some(), z.api_token_env.is_some());
        let client = (z.client_id_env.is_some(), z.client_secret_env.is_some());
        let node = root
            .get("zendesk")
            .and_then(|l| match &l.value {
                Value::Seq(items) => items.get(i),
                _ => None,
            })
            .unwrap_or(root);
        let field = |name: &str| node.get(name).unwrap_or(node);
        if z.oauth_token_env.is_none() && legacy != (true, true) && client == (false, false) {
            diags.push(
                at(
                    file,
                    node,
                    format!("Zendesk instance `{}` has no credential", z.name),
                )
                .hint(
                    "add `client_id_env: VAR` and `client_secret_env: VAR` (an OAuth client's \
                     identifier and secret), or `oauth_token_env: VAR`, or both `email_env` and \
                     `api_token_env` (legacy)",
                ),
            );
        } else if legacy.0 != legacy.1 {
            diags.push(
                at(
                    file,
                    node,
                    format!(
                        "Zendesk instance `{}` sets only one of `email_env` and `api_token_env`",
                        z.name
                    ),
                )
                .hint(
                    "legacy API-token sign-in needs both; prefer `client_id_env` and \
                     `client_secret_env`",
                ),
            );
        }
        if client.0 != client.1 {
            let (set, unset) = if client.0 {
                ("client_id_env", "client_secret_env")
            } else {
                ("client_secret_env", "client_id_env")
            };
            diags.push(
                at(
                    file,
                    field(set),
                    format!(
                        "Zendesk instance `{}` sets `{set}` without `{unset}`",
                        z.name
                    ),
                )
                .hint(
                    "the client-credentials grant needs both the client's identifier and its \
                     secret",
                ),
            );
        } else if client == (true, true) && (z.oauth_token_env.is_some() || legacy.1) {
            let other = if z.oauth_token_env.is_some() {
                "oauth_token_env"
            } else {
                "api_token_env"
            };
            diags.push(
                at(
                    file,
                    field(other),
                    format!(
                        "Zendesk instance `{}` names two credentials: the OAuth client \
                         (`client_id_env`, `client_secret_env`) and `{other}`",
                        z.name
                    ),
                )
                .hint(format!(
                    "remove `{other}`{}: tokenops signs in with the client",
                    if legacy.0 { " and `email_env`" } else { "" }
                )),
            );
        }
    }
    if let Some(rotation) = root.get("defaults").and_then(|d| d.get("rotation")) {
        let d = &config.defaults.rotation;
        if let (Some(before), Some(life)) = (d.rotate_before, d.lifetime)
            && before >= life
        {
            let node = rotation.get("rotate_before").unwrap_or(rotation);
            diags.push(
                at(
                    file,
                    node,
                    format!("rotate_before ({before}) is not shorter than lifetime ({life})"),
                )
                .hint("rotate_before must be shorter than lifetime, or tokens are always due"),
            );
        }
    }
    check_state(file, root, config, diags);
    check_escrow(file, root, config, diags);
    super::config_env::check_env_names(file, root, config, diags);
    if let Some(check) = root.get("check") {
        let declared_zd: Vec<&str> = config.zendesk.iter().map(|z| z.name.as_str()).collect();
        if let Some(Value::Seq(items)) = check
            .get("discover")
            .and_then(|d| d.get("zendesk"))
            .map(|n| &n.value)
        {
            for item in items {
                if let Some(name) = item.as_str()
                    && !declared_zd.contains(&name)
                {
                    diags.push(undeclared(
                        file,
                        item,
                        Platform::Zendesk,
                        name,
                        &declared_zd,
                        file,
                    ));
                }
            }
        }
        if let Some(report) = &config.check.report {
            let declared_gl: Vec<&str> = config.gitlab.iter().map(|g| g.name.as_str()).collect();
            if !declared_gl.contains(&report.gitlab.as_str()) {
                let node = check
                    .get("report")
                    .and_then(|r| r.get("gitlab"))
                    .unwrap_or(check);
                diags.push(undeclared(
                    file,
                    node,
                    Platform::GitLab,
                    &report.gitlab,
                    &declared_gl,
                    file,
                ));
            }
        }
    }
}

/// The ledger settings, as `plan` and `apply` will use them.
fn check_state(file: &Path, root: &Node, config: &Config, diags: &mut Diagnostics) {
    let state = root.get("state");
    let field = |name: &str| state.and_then(|s| s.get(name)).or(state).unwrap_or(root);
    match &config.state {
        LedgerSettings::Local { path } => {
            if path.trim().is_empty() {
                diags.push(
                    at(file, field("path"), "the ledger path `state.path` is empty")
                        .hint("give the ledger file's path, e.g. `.tokenops/state.json` (relative to tokenops.yaml)"),
                );
                return;
            }
            let dir = file.parent().unwrap_or(Path::new("."));
            if dir.join(path).is_dir() {
                diags.push(
                    at(
                        file,
                        field("path"),
                        format!("the ledger path `{}` is a directory", echo(path)),
                    )
                    .hint("name a file inside it, e.g. `.tokenops/state.json`"),
                );
            }
        }
        LedgerSettings::Http { address, .. } => {
            let node = field("address");
            let hint = "give the Terraform HTTP state address, e.g. https://gitlab.com/api/v4/projects/42/terraform/state/tokenops";
            match crate::ledger::http::StateAddress::parse(address) {
                Err(_) => diags.push(
                    at(
                        file,
                        node,
                        format!(
                            "`{}` is not a GitLab Terraform state address",
                            crate::http::shown_url(address)
                        ),
                    )
                    .hint(hint),
                ),
                Ok(parsed) => {
                    if let Err(problem) = crate::http::base_url_problem(&parsed.base) {
                        diags.push(
                            at(
                                file,
                                node,
                                format!("the state address ({}) is refused", problem.url),
                            )
                            .hint(problem.reason),
                        );
                    }
                }
            }
        }
        LedgerSettings::Gitlab { gitlab, name, .. } => {
            let state = root.get("state").unwrap_or(root);
            if let Some(instance) = gitlab {
                let declared: Vec<&str> = config.gitlab.iter().map(|g| g.name.as_str()).collect();
                if !declared.contains(&instance.as_str()) {
                    let node = state.get("gitlab").unwrap_or(state);
                    diags.push(undeclared(
                        file,
                        node,
                        Platform::GitLab,
                        instance,
                        &declared,
                        file,
                    ));
                }
            }
            if name.trim().is_empty() || name.contains('/') {
                let node = state.get("name").unwrap_or(state);
                diags.push(
                    at(
                        file,
                        node,
                        format!("`{}` is not a Terraform state name", echo(name)),
                    )
                    .hint(
                        "GitLab state names may not be empty or contain `/`; the default is `tokenops`",
                    ),
                );
            }
        }
    }
}

/// The escrow recipient must be an age X25519 recipient, as `apply` requires. What is there
/// instead is not echoed: it may be the secret key pasted in by mistake.
fn check_escrow(file: &Path, root: &Node, config: &Config, diags: &mut Diagnostics) {
    let Some(escrow) = &config.escrow else { return };
    let text = escrow.recipient.trim();
    if <age::x25519::Recipient as std::str::FromStr>::from_str(text).is_ok() {
        return;
    }
    let node = root
        .get("escrow")
        .and_then(|e| e.get("recipient"))
        .unwrap_or(root);
    let secret = text
        .get(..15)
        .is_some_and(|h| h.eq_ignore_ascii_case("AGE-SECRET-KEY-"));
    let diag = if secret {
        at(
            file,
            node,
            "escrow.recipient holds an age secret key (not shown): the secret key must never be in tokenops.yaml",
        )
        .hint("remove it from the file (and from its history), keep it in the identity variable, and put its public recipient here (`age-keygen -y` prints it)")
    } else {
        at(
            file,
            node,
            "escrow.recipient is not an age X25519 recipient (`age1…`; the value is not shown)",
        )
        .hint("generate a key with `age-keygen` and put its public `age1…` line here")
    };
    diags.push(diag);
}

pub(super) fn undeclared(
    file: &Path,
    node: &Node,
    platform: Platform,
    name: &str,
    declared: &[&str],
    config_file: &Path,
) -> Diagnostic {
    let hint = match suggest(name, declared) {
        Some(best) => format!("did you mean `{best}`?"),
        None if declared.is_empty() => format!(
            "declare it under `{}:` in {}",
            platform.key(),
            config_file.display()
        ),
        None => format!(
            "declare it under `{}:` in {}, or use one of: {}",
            platform.key(),
            config_file.display(),
            declared.join(", ")
        ),
    };
    at(
        file,
        node,
        format!(
            "{} instance `{}` is not declared in {}",
            platform.key(),
            echo(name),
            config_file.display()
        ),
    )
    .hint(hint)
}
