//! Semantic rules for tokens once the YAML has the right shape: references to declared
//! instances, scopes (see `scopes`), platform lifetime limits, masking rules, consumer
//! settings, and the rules across files (unique ids, one token per consumer).

use std::collections::HashMap;
use std::path::Path;

use super::{Config, ConsumerKey, ConsumerSpec, Origin, Platform, RotationOverride, TokenKind};
use crate::diag::{Diagnostic, Diagnostics};
use crate::kinds::{ConsumerCheck, KindCheck};
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
    records: HashMap<String, (String, Origin)>,
}

pub(super) fn at(file: &Path, node: &Node, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(file, node.line, node.column, message)
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
            Platform::GitLab => (
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
            diags.push(super::config_checks::undeclared(
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
                    format!(
                        "duplicate token id `{}`: already declared at {first}",
                        crate::text::echo(id)
                    ),
                )
                .hint("token ids must be unique across all manifests; rename one of them"),
            ),
            None => {
                seen.ids.insert(id.to_string(), token.origin.clone());
            }
        }
    }
    if let Some(record) = token.kind.and_then(|k| k.driver().record_key()) {
        match seen.records.get(&record) {
            Some((other, first)) => diags.push(
                Diagnostic::new(
                    &token.origin.file,
                    token.origin.line,
                    token.origin.column,
                    format!(
                        "token `{token_id}` names the same platform record as token `{other}` \
                         at {first}: {record}"
                    ),
                )
                .hint(
                    "two entries would adopt and rotate the same live token; remove one, or \
                     give each the `user_id` of the user its token signs in as",
                ),
            ),
            None => {
                seen.records
                    .insert(record, (token_id.to_string(), token.origin.clone()));
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
    super::scopes::check_scopes(file, kind_node, kind, diags);
    let rotation_node = node.get("rotation");
    kind.driver().check(&mut KindCheck {
        file,
        node: kind_node,
        rotation: rotation_node,
        sets_strategy: rotation.strategy.is_some(),
        diags,
    });
    check_rotation(ctx, file, node, kind, rotation, diags);
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
    if let (Some(limit), Some(life)) = (kind.driver().lifetime_limit(), rotation.lifetime)
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
}

fn check_consumer(
    file: &Path,
    body: &Node,
    kind: Option<&TokenKind>,
    consumer: &ConsumerSpec,
    diags: &mut Diagnostics,
) {
    consumer.driver().check(&mut ConsumerCheck {
        file,
        node: body,
        token: kind,
        diags,
    });
}
