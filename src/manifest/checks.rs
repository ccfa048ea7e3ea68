//! Semantic rules that hold once the YAML has the right shape: references to declared
//! instances, scopes per token kind, platform lifetime limits, masking rules, and the rules
//! across files (unique ids, one token per consumer).

use std::collections::HashMap;
use std::path::Path;

use super::tree::{suggest, unknown_name_hint};
use super::{
    Alphabet, Config, ConsumerKey, ConsumerSpec, LedgerSettings, Origin, Platform,
    RotationOverride, TokenKind, ZendeskWebhookAuth,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::yaml::{Node, Value};

/// What the token checks need from `tokenops.yaml`.
pub struct Context<'a> {
    /// The configuration (defaults where it failed to load).
    pub config: &'a Config,
    /// Its path, named in hints.
    pub config_file: &'a Path,
    /// Whether the `gitlab:` list was read completely.
    pub gitlab_known: bool,
    /// Whether the `zendesk:` list was read completely.
    pub zendesk_known: bool,
}

/// What earlier tokens declared, for the rules across files.
#[derive(Default)]
pub struct Seen {
    ids: HashMap<String, Origin>,
    consumers: HashMap<ConsumerKey, (String, Origin, Origin)>,
}

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

fn at(file: &Path, node: &Node, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(file, node.line, node.column, message)
}

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
            Platform::Gitlab,
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
            let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                let node = item(i).and_then(|n| n.get("url")).unwrap_or(root);
                diags.push(
                    at(file, node, format!("`{url}` is not an http(s) URL"))
                        .hint("write the base URL, e.g. https://gitlab.com or https://example.zendesk.com"),
                );
            }
        }
    }
    for (i, z) in config.zendesk.iter().enumerate() {
        let legacy = (z.email_env.is_some(), z.api_token_env.is_some());
        let node = root
            .get("zendesk")
            .and_then(|l| match &l.value {
                Value::Seq(items) => items.get(i),
                _ => None,
            })
            .unwrap_or(root);
        if z.oauth_token_env.is_none() && legacy != (true, true) {
            diags.push(
                at(
                    file,
                    node,
                    format!("Zendesk instance `{}` has no credential", z.name),
                )
                .hint(
                    "add `oauth_token_env: VAR`, or both `email_env` and `api_token_env` (legacy)",
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
                .hint("legacy API-token sign-in needs both; prefer `oauth_token_env`"),
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
    if let LedgerSettings::Http { address, .. } = &config.state
        && url::Url::parse(address).is_err()
    {
        let node = root
            .get("state")
            .and_then(|s| s.get("address"))
            .unwrap_or(root);
        diags.push(
            at(file, node, format!("`{address}` is not a URL"))
                .hint("give the Terraform HTTP state address, e.g. https://gitlab.com/api/v4/projects/42/terraform/state/tokenops"),
        );
    }
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
                    Platform::Gitlab,
                    &report.gitlab,
                    &declared_gl,
                    file,
                ));
            }
        }
    }
}

fn undeclared(
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
            "{} instance `{name}` is not declared in {}",
            platform.key(),
            config_file.display()
        ),
    )
    .hint(hint)
}

impl Context<'_> {
    fn check_instance(
        &self,
        file: &Path,
        node: &Node,
        platform: Platform,
        name: &str,
        diags: &mut Diagnostics,
    ) {
        let (known, declared): (bool, Vec<&str>) = match platform {
            Platform::Gitlab => (
                self.gitlab_known,
                self.config.gitlab.iter().map(|g| g.name.as_str()).collect(),
            ),
            Platform::Zendesk => (
                self.zendesk_known,
                self.config
                    .zendesk
                    .iter()
                    .map(|z| z.name.as_str())
                    .collect(),
            ),
        };
        if known && !declared.contains(&name) {
            let node = node.get(platform.key()).unwrap_or(node);
            diags.push(undeclared(
                file,
                node,
                platform,
                name,
                &declared,
                self.config_file,
            ));
        }
    }
}

/// The parts of one token entry that could be read.
pub struct TokenParts<'a> {
    /// The id, when it could be read.
    pub id: Option<&'a str>,
    /// Where the id's value is.
    pub id_origin: Option<&'a Origin>,
    /// Where the entry starts.
    pub origin: &'a Origin,
    /// The kind, when it could be read.
    pub kind: Option<&'a TokenKind>,
    /// The rotation override (empty when it could not be read).
    pub rotation: &'a RotationOverride,
    /// The consumers that could be read.
    pub consumers: &'a [ConsumerSpec],
    /// Where each of them starts.
    pub consumer_origins: &'a [Origin],
}

/// Checks what could be read of one token on its own (everything but the rules across
/// files).
pub fn check_token(
    ctx: &Context<'_>,
    file: &Path,
    node: &Node,
    token: &TokenParts<'_>,
    diags: &mut Diagnostics,
) {
    if let Some(kind) = token.kind {
        check_kind(ctx, file, node, kind, token.rotation, diags);
    }
    let consumer_nodes: Vec<&Node> = match node.get("consumers").map(|c| &c.value) {
        Some(Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    for (consumer, origin) in token.consumers.iter().zip(token.consumer_origins) {
        let c_node = consumer_nodes
            .iter()
            .find(|n| n.line == origin.line && n.column == origin.column)
            .copied()
            .unwrap_or(node);
        let body = c_node.get(consumer.kind_key()).unwrap_or(c_node);
        if let Some((platform, name)) = consumer.instance() {
            ctx.check_instance(file, body, platform, name, diags);
        }
        check_consumer(file, body, token.kind, consumer, diags);
    }
}

/// The rules across files: unique token ids, and one token per consumer. Tokens must come
/// in file order so the first declaration is the one named.
pub fn check_across_files(token: &TokenParts<'_>, seen: &mut Seen, diags: &mut Diagnostics) {
    let token_id = token.id.unwrap_or("(no id)");
    if let (Some(id), Some(id_origin)) = (token.id, token.id_origin) {
        match seen.ids.get(id) {
            Some(first) => diags.push(
                Diagnostic::new(
                    &id_origin.file,
                    id_origin.line,
                    id_origin.column,
                    format!("duplicate token id `{id}`: already declared at {first}"),
                )
                .hint("token ids must be unique across all manifests; rename one of them"),
            ),
            None => {
                seen.ids.insert(id.to_string(), token.origin.clone());
            }
        }
    }
    for (consumer, origin) in token.consumers.iter().zip(token.consumer_origins) {
        let Some(key) = consumer.key() else { continue };
        match seen.consumers.get(&key) {
            Some((other, other_origin, first)) => {
                let message = if other_origin == token.origin {
                    format!("consumer `{key}` is listed twice for this token: first at {first}")
                } else {
                    format!(
                        "two tokens write the same consumer `{key}`: token `{other}` already writes it at {first}"
                    )
                };
                diags.push(
                    Diagnostic::new(&origin.file, origin.line, origin.column, message)
                        .hint("a place can hold only one value; remove one of the consumers or point it at another place"),
                );
            }
            None => {
                seen.consumers.insert(
                    key,
                    (token_id.to_string(), token.origin.clone(), origin.clone()),
                );
            }
        }
    }
}

fn check_kind(
    ctx: &Context<'_>,
    file: &Path,
    node: &Node,
    kind: &TokenKind,
    rotation: &RotationOverride,
    diags: &mut Diagnostics,
) {
    let kind_node = node.get(kind.key()).unwrap_or(node);
    if let Some((platform, name)) = kind.instance() {
        ctx.check_instance(file, kind_node, platform, name, diags);
    }
    check_scopes(file, kind_node, kind, diags);
    if let TokenKind::GeneratedSecret(s) = kind
        && !(1..=1024).contains(&s.length)
    {
        let n = kind_node.get("length").unwrap_or(kind_node);
        diags.push(
            at(file, n, format!("length {} is out of range", s.length))
                .hint("use a length from 1 to 1024 (32 or more is a good secret)"),
        );
    }
    check_rotation(ctx, file, node, kind, rotation, diags);
}

fn check_scopes(file: &Path, kind_node: &Node, kind: &TokenKind, diags: &mut Diagnostics) {
    let (allowed, what): (&[&str], &str) = match kind {
        TokenKind::GitlabPersonalAccessToken(_) => (&GITLAB_PAT_SCOPES, "a personal access token"),
        TokenKind::GitlabProjectAccessToken(_) => {
            (&GITLAB_PROJECT_SCOPES, "a project access token")
        }
        TokenKind::GitlabGroupAccessToken(_) => (&GITLAB_GROUP_SCOPES, "a group access token"),
        TokenKind::ZendeskOauthToken(_) => (&[], "a Zendesk OAuth token"),
        _ => return,
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
        if matches!(kind, TokenKind::ZendeskOauthToken(_)) {
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

fn check_rotation(
    ctx: &Context<'_>,
    file: &Path,
    node: &Node,
    kind: &TokenKind,
    rotation: &RotationOverride,
    diags: &mut Diagnostics,
) {
    let defaults: &RotationOverride = &ctx.config.defaults.rotation;
    let policy = kind.rotation_policy(rotation, defaults);
    let rotation_node = node.get("rotation");
    let field = |name: &str| rotation_node.and_then(|r| r.get(name));
    if let (Some(limit), Some(life)) = (kind.lifetime_limit(), rotation.lifetime)
        && !limit.allows(life)
    {
        let n = field("lifetime").unwrap_or(node);
        let bound = if limit.exclusive { "under" } else { "at most" };
        diags.push(
            at(
                file,
                n,
                format!(
                    "lifetime {life} is over the platform maximum for {}: it must be {bound} {}",
                    kind.key(),
                    limit.max
                ),
            )
            .hint(format!("set `lifetime:` to {} or less", limit.cap())),
        );
        return;
    }
    if policy.rotate_before >= policy.lifetime {
        let from = |explicit: bool| if explicit { "" } else { ", inherited" };
        let n = field("rotate_before")
            .or_else(|| field("lifetime"))
            .or_else(|| node.get("id"))
            .unwrap_or(node);
        diags.push(
            at(file, n, format!(
                "rotate_before ({}{}) is not shorter than lifetime ({}{}): the token would always be due",
                policy.rotate_before,
                from(rotation.rotate_before.is_some()),
                policy.lifetime,
                from(rotation.lifetime.is_some()),
            ))
            .hint("set `rotation: { rotate_before: ... }` to less than the lifetime, e.g. a quarter of it"),
        );
    }
    if let TokenKind::ZendeskApiToken(_) = kind
        && rotation.strategy.is_some()
    {
        let n = field("strategy").unwrap_or(node);
        diags.push(
            at(
                file,
                n,
                "legacy Zendesk API tokens cannot be rotated by API, so a strategy does not apply",
            )
            .hint("remove `strategy:`; migrate the consumers to a zendesk_oauth_token instead"),
        );
    }
}

fn check_consumer(
    file: &Path,
    body: &Node,
    kind: Option<&TokenKind>,
    consumer: &ConsumerSpec,
    diags: &mut Diagnostics,
) {
    match consumer {
        ConsumerSpec::GitlabCiVariable(v) => {
            let key_ok = !v.key.is_empty()
                && v.key.len() <= 255
                && v.key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !key_ok {
                diags.push(
                    at(
                        file,
                        body.get("key").unwrap_or(body),
                        format!("`{}` is not a valid CI/CD variable key", v.key),
                    )
                    .hint("use only letters, digits and `_` (at most 255 characters)"),
                );
            }
            if v.hidden && !v.masked {
                diags.push(
                    at(
                        file,
                        body.get("hidden").unwrap_or(body),
                        "a hidden variable must also be masked",
                    )
                    .hint("add `masked: true` (GitLab only hides masked variables)"),
                );
            }
            if v.masked
                && let Some(kind) = kind
                && let Some((message, hint)) = mask_problem(kind, v.raw)
            {
                diags.push(at(file, body.get("masked").unwrap_or(body), message).hint(hint));
            }
        }
        ConsumerSpec::ZendeskWebhook(w) => {
            if w.webhook.is_none() && w.webhook_id.is_none() {
                diags.push(
                    at(file, body, "missing field `webhook` (or `webhook_id`)")
                        .hint("name the webhook with `webhook: NAME` or `webhook_id: ID`"),
                );
            }
            match w.auth {
                ZendeskWebhookAuth::BasicAuth if w.username.is_none() => diags.push(
                    at(
                        file,
                        body.get("auth").unwrap_or(body),
                        "basic_auth needs a `username`",
                    )
                    .hint("add `username:` (the token value becomes the password)"),
                ),
                ZendeskWebhookAuth::ApiKey if w.header.is_none() => diags.push(
                    at(
                        file,
                        body.get("auth").unwrap_or(body),
                        "api_key needs a `header`",
                    )
                    .hint("add `header:` with the name of the header that carries the value"),
                ),
                _ => {}
            }
            if w.username.is_some() && w.auth != ZendeskWebhookAuth::BasicAuth {
                diags.push(
                    at(
                        file,
                        body.get("username").unwrap_or(body),
                        "`username` is only used with `auth: basic_auth`",
                    )
                    .hint("remove it, or set `auth: basic_auth`"),
                );
            }
            if w.header.is_some() && w.auth != ZendeskWebhookAuth::ApiKey {
                diags.push(
                    at(
                        file,
                        body.get("header").unwrap_or(body),
                        "`header` is only used with `auth: api_key`",
                    )
                    .hint("remove it, or set `auth: api_key`"),
                );
            }
        }
        ConsumerSpec::ZendeskAppSetting(a) => {
            if a.app.is_none() && a.installation_id.is_none() {
                diags.push(
                    at(file, body, "missing field `app` (or `installation_id`)")
                        .hint("name the installed app with `app: NAME` or `installation_id: ID`"),
                );
            }
        }
        ConsumerSpec::GitlabWebhook(_) | ConsumerSpec::Manual(_) => {}
    }
}

/// Why values of `kind` could not be stored in a masked variable (GitLab needs at least 8
/// characters from `[A-Za-z0-9_+=/@:.~-]`, or any non-space characters with `raw: true`).
fn mask_problem(kind: &TokenKind, raw: bool) -> Option<(String, String)> {
    let TokenKind::GeneratedSecret(secret) = kind else {
        // GitLab tokens, Zendesk API tokens (40 letters and digits) and OAuth values pass.
        return None;
    };
    if secret.length < 8 {
        return Some((
            format!(
                "a masked variable needs at least 8 characters, but this secret has {}",
                secret.length
            ),
            "raise `length` to 8 or more (32 is a good choice), or set `masked: false`".into(),
        ));
    }
    if secret.alphabet == Alphabet::Printable && !raw {
        return Some((
            "GitLab cannot mask values of this secret: its `printable` alphabet has characters outside [A-Za-z0-9_+=/@:.~-]".into(),
            "add `raw: true` to the variable, or use `alphabet: alphanumeric`".into(),
        ));
    }
    None
}
