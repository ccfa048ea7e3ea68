//! The scopes each token kind can carry: GitLab's table for personal, project and group
//! tokens, and Zendesk's OAuth scope grammar.

use std::path::Path;

use super::TokenKind;
use super::checks::at;
use super::tree::{suggest, unknown_name_hint};
use crate::diag::Diagnostics;
use crate::kinds::ScopeRules;
use crate::yaml::{Node, Value};

/// Scopes of GitLab personal access tokens.
pub const GITLAB_PAT_SCOPES: [&str; 17] = [
    "api",
    "read_api",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "self_rotate",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "read_user",
    "sudo",
    "admin_mode",
    "read_service_ping",
];

/// Scopes of GitLab group access tokens.
pub const GITLAB_GROUP_SCOPES: [&str; 13] = [
    "api",
    "read_api",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "self_rotate",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
];

/// Scopes of GitLab project access tokens.
pub const GITLAB_PROJECT_SCOPES: [&str; 11] = [
    "api",
    "read_api",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "self_rotate",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
];

/// Scopes of GitLab deploy tokens (Git, container registry, package registry and, for
/// group tokens, the virtual registries).
pub const GITLAB_DEPLOY_SCOPES: [&str; 7] = [
    "read_repository",
    "read_registry",
    "write_registry",
    "read_package_registry",
    "write_package_registry",
    "read_virtual_registry",
    "write_virtual_registry",
];

/// Zendesk resources that take `RESOURCE:read` / `RESOURCE:write` scopes, with the
/// directions each allows.
pub const ZENDESK_RESOURCES: [(&str, bool, bool); 17] = [
    ("tickets", true, true),
    ("users", true, true),
    ("auditlogs", true, false),
    ("organizations", true, true),
    ("hc", true, true),
    ("apps", true, true),
    ("triggers", true, true),
    ("automations", true, true),
    ("targets", true, true),
    ("webhooks", true, true),
    ("macros", true, true),
    ("requests", true, true),
    ("satisfaction_ratings", true, true),
    ("dynamic_content", true, true),
    ("any_channel", false, true),
    ("web_widget", false, true),
    ("unrestricted", true, true),
];

/// Why `scope` is not a valid Zendesk OAuth scope, if it is not.
fn zendesk_scope_problem(scope: &str) -> Option<(String, String)> {
    if ["read", "write", "impersonate"].contains(&scope) {
        return None;
    }
    let names: Vec<&str> = ZENDESK_RESOURCES.iter().map(|r| r.0).collect();
    let Some((resource, access)) = scope.split_once(':') else {
        let mut all: Vec<String> = vec!["read".into(), "write".into(), "impersonate".into()];
        all.extend(
            names
                .iter()
                .flat_map(|n| [format!("{n}:read"), format!("{n}:write")]),
        );
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let hint = match suggest(scope, &refs) {
            Some(best) => format!("did you mean `{best}`?"),
            None => {
                "use `read`, `write`, `impersonate` or `RESOURCE:read|write` (e.g. `tickets:read`)"
                    .into()
            }
        };
        return Some((format!("unknown Zendesk scope `{scope}`"), hint));
    };
    let Some(&(_, read, write)) = ZENDESK_RESOURCES.iter().find(|r| r.0 == resource) else {
        return Some((
            format!("unknown Zendesk scope resource `{resource}`"),
            unknown_name_hint(resource, &names),
        ));
    };
    match access {
        "read" if read => None,
        "write" if write => None,
        "read" | "write" => Some((
            format!(
                "Zendesk scope `{scope}` does not exist: `{resource}` is {} only",
                if read { "read" } else { "write" }
            ),
            format!("use `{resource}:{}`", if read { "read" } else { "write" }),
        )),
        other => Some((
            format!("unknown access `{other}` in Zendesk scope `{scope}`"),
            format!("use `{resource}:read` or `{resource}:write`"),
        )),
    }
}

/// Reports every scope the token kind cannot carry.
pub(super) fn check_scopes(
    file: &Path,
    kind_node: &Node,
    kind: &TokenKind,
    diags: &mut Diagnostics,
) {
    let (allowed, what, zendesk): (&[&str], &str, bool) = match kind.driver().scope_rules() {
        ScopeRules::Gitlab { allowed, what } => (allowed, what, false),
        ScopeRules::Zendesk { what } => (&[], what, true),
        ScopeRules::None => return,
    };
    let scopes_node = kind_node.get("scopes");
    let items: Vec<&Node> = match scopes_node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    if kind.scopes().is_empty() {
        diags.push(
            at(
                file,
                scopes_node.unwrap_or(kind_node),
                format!("{what} needs at least one scope"),
            )
            .hint("list the scopes it needs, e.g. `scopes: [read_api]`"),
        );
        return;
    }
    for (i, scope) in kind.scopes().iter().enumerate() {
        let n = items.get(i).copied().unwrap_or(kind_node);
        if zendesk {
            if let Some((message, hint)) = zendesk_scope_problem(scope) {
                diags.push(at(file, n, message).hint(hint));
            }
            continue;
        }
        if allowed.contains(&scope.as_str()) {
            continue;
        }
        if GITLAB_PAT_SCOPES.contains(&scope.as_str()) {
            diags.push(
                at(
                    file,
                    n,
                    format!("scope `{scope}` cannot be given to {what}"),
                )
                .hint(format!("{what} can carry: {}", allowed.join(", "))),
            );
        } else {
            diags.push(
                at(file, n, format!("unknown GitLab scope `{scope}`"))
                    .hint(unknown_name_hint(scope, allowed)),
            );
        }
    }
}

/// Every valid Zendesk OAuth scope: `read`, `write`, `impersonate` and each allowed
/// `RESOURCE:read|write`.
pub fn zendesk_scopes() -> Vec<String> {
    let mut all: Vec<String> = vec!["read".into(), "write".into(), "impersonate".into()];
    for (resource, read, write) in ZENDESK_RESOURCES {
        if read {
            all.push(format!("{resource}:read"));
        }
        if write {
            all.push(format!("{resource}:write"));
        }
    }
    all
}

fn scope_list_schema(description: &str, scopes: &[String]) -> schemars::Schema {
    schemars::json_schema!({
        "description": description,
        "type": "array",
        "minItems": 1,
        "uniqueItems": true,
        "items": { "type": "string", "enum": scopes }
    })
}

fn owned(scopes: &[&str]) -> Vec<String> {
    scopes.iter().map(|s| s.to_string()).collect()
}

/// The JSON Schema of a personal access token's `scopes` (an editor then refuses `read_usr`).
pub fn gitlab_pat_scopes_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    scope_list_schema(
        "GitLab scopes of a personal access token, e.g. `[api]` or `[read_api]`.",
        &owned(&GITLAB_PAT_SCOPES),
    )
}

/// The JSON Schema of a group access token's `scopes`.
pub fn gitlab_group_scopes_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    scope_list_schema(
        "GitLab scopes of a group access token, e.g. `[api]` or `[read_api]`.",
        &owned(&GITLAB_GROUP_SCOPES),
    )
}

/// The JSON Schema of a project access token's `scopes`.
pub fn gitlab_project_scopes_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    scope_list_schema(
        "GitLab scopes of a project access token, e.g. `[api]` or `[read_api]`.",
        &owned(&GITLAB_PROJECT_SCOPES),
    )
}

/// The JSON Schema of a deploy token's `scopes`.
pub fn gitlab_deploy_scopes_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    scope_list_schema(
        "GitLab scopes of a deploy token, e.g. `[read_registry]` or `[read_repository, \
         read_package_registry]`.",
        &owned(&GITLAB_DEPLOY_SCOPES),
    )
}

/// The JSON Schema of a Zendesk OAuth token's `scopes`.
pub fn zendesk_scopes_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    scope_list_schema(
        "Zendesk scopes: `read`, `write`, `impersonate` or `RESOURCE:read|write` (e.g. \
         `tickets:read`).",
        &zendesk_scopes(),
    )
}
