//! Loading the desired state: `tokenops.yaml` section by section, then every manifest file
//! (in parallel) token by token and consumer by consumer, so that one run reports every
//! problem; the rules across files run last, in path order.

use std::path::{Path, PathBuf};

use super::checks::{self, Context, Seen};
use super::files::{find_manifests, read_tree};
use super::tree::{TreeError, enum_from_entry, from_node, read_fields, unknown_name_hint};
use super::{
    CONFIG_FIELDS, Config, ConsumerSpec, DeclaredToken, Desired, LoadOptions, Origin,
    RotationOverride, TOKEN_FIELDS, TOKEN_KINDS, TokenKind, TokenSpec,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::text::echo;
use crate::yaml::{Node, Value};

/// Reads and validates the whole desired state.
pub fn load(options: &LoadOptions) -> Result<Desired, Diagnostics> {
    let mut diags = Diagnostics::default();
    let (config, sections_ok) = load_config(&options.config, &mut diags);
    let ctx = Context {
        config: &config,
        config_file: &options.config,
        gitlab_known: sections_ok.gitlab,
        zendesk_known: sections_ok.zendesk,
    };
    let roots: Vec<PathBuf> = [
        options
            .config
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        options.manifests.clone(),
    ]
    .iter()
    .map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p.as_path()
        }
    })
    .filter_map(|p| p.canonicalize().ok())
    .collect();
    let files = find_manifests(&options.manifests, &roots, &mut diags);
    // Files are read, parsed and checked on their own in parallel; the rules across files
    // then run over the results in path order, so the output does not depend on timing.
    let mut seen = Seen::default();
    let mut tokens = Vec::new();
    for result in read_files(&files, &ctx) {
        diags.append(result.diags);
        for token in result.tokens {
            checks::check_across_files(&token.parts(), &mut seen, &mut diags);
            tokens.extend(token.into_declared());
        }
    }
    if diags.is_empty() {
        Ok(Desired {
            config,
            tokens,
            manifests: options.manifests.clone(),
        })
    } else {
        diags.sort();
        // Problems in tokenops.yaml first: the others may follow from them.
        diags.0.sort_by_key(|d| d.file != options.config);
        Err(diags)
    }
}

/// What one manifest file yielded.
#[derive(Default)]
struct FileResult {
    tokens: Vec<PartialToken>,
    diags: Diagnostics,
}

fn read_one(file: &Path, ctx: &Context<'_>) -> FileResult {
    let mut result = FileResult::default();
    if let Some(root) = read_tree(file, &mut result.diags) {
        read_manifest(file, &root, ctx, &mut result.tokens, &mut result.diags);
    }
    result
}

/// Reads every file with a few worker threads; results come back in the order of `files`.
fn read_files(files: &[PathBuf], ctx: &Context<'_>) -> Vec<FileResult> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
        .min(files.len());
    if workers <= 1 {
        return files.iter().map(|f| read_one(f, ctx)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<(usize, FileResult)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break };
                        done.push((i, read_one(file, ctx)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    slots.sort_by_key(|(i, _)| *i);
    slots.into_iter().map(|(_, r)| r).collect()
}

/// Which config sections were read without error (references to instances are checked only
/// against sections that are complete, so one mistake does not cascade).
#[derive(Debug, Clone, Copy)]
struct SectionsOk {
    gitlab: bool,
    zendesk: bool,
}

fn tree_diag(file: &Path, err: TreeError) -> Diagnostic {
    let hint = err.hint.clone();
    let mut d = Diagnostic::new(file, err.line, err.column, err.message);
    d.hint = hint.or_else(|| {
        Some("compare with the example in README.md or the JSON Schema in schemas/".to_string())
    });
    d
}

fn load_config(path: &Path, diags: &mut Diagnostics) -> (Config, SectionsOk) {
    let mut config = Config::default();
    let mut ok = SectionsOk {
        gitlab: false,
        zendesk: false,
    };
    let Some(root) = read_tree(path, diags) else {
        return (config, ok);
    };
    let Value::Map(entries) = &root.value else {
        diags.push(
            Diagnostic::new(path, root.line, root.column, format!(
                "expected a mapping at the top of tokenops.yaml, found {}",
                root.value.kind()
            ))
            .hint("start with `version: 1`, then `gitlab:`, `zendesk:`, `defaults:`, `state:` and `check:`"),
        );
        return (config, ok);
    };
    ok = SectionsOk {
        gitlab: true,
        zendesk: true,
    };
    let mut has_version = false;
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            diags.push(
                Diagnostic::new(path, key.line, key.column, "expected a field name")
                    .hint(format!("valid fields: {}", CONFIG_FIELDS.join(", "))),
            );
            continue;
        };
        let result: Result<(), Vec<TreeError>> = match name {
            "version" => {
                has_version = true;
                from_node::<u32>(value)
                    .map(|v| config.version = v)
                    .map_err(|e| vec![e])
            }
            "gitlab" => read_list(value, &mut config.gitlab),
            "zendesk" => read_list(value, &mut config.zendesk),
            "defaults" => read_fields(value, from_node).map(|v| config.defaults = v),
            "state" => read_fields(value, from_node).map(|v| config.state = v),
            "check" => read_fields(value, from_node).map(|v| config.check = v),
            "escrow" => read_fields(value, from_node).map(|v| config.escrow = Some(v)),
            other => Err(vec![TreeError {
                hint: Some(unknown_name_hint(other, &CONFIG_FIELDS)),
                ..TreeError::at(key, format!("unknown field `{}`", echo(other)))
            }]),
        };
        if let Err(errors) = result {
            match name {
                "gitlab" => ok.gitlab = false,
                "zendesk" => ok.zendesk = false,
                _ => {}
            }
            for e in errors {
                diags.push(tree_diag(path, e));
            }
        }
    }
    if !has_version {
        diags.push(
            Diagnostic::new(path, root.line, root.column, "missing field `version`")
                .hint("add `version: 1` at the top of the file"),
        );
    }
    super::config_checks::check_config(path, &root, &config, diags);
    (config, ok)
}

/// Reads a list whose items are read one by one, so every bad item is reported.
fn read_list<T>(node: &Node, out: &mut Vec<T>) -> Result<(), Vec<TreeError>>
where
    T: for<'de> serde::Deserialize<'de>,
{
    let items = match &node.value {
        Value::Seq(items) => items,
        Value::Null => return Ok(()),
        other => {
            return Err(vec![TreeError {
                hint: Some("write one `- name: ...` entry per instance".to_string()),
                ..TreeError::at(node, format!("expected a list, found {}", other.kind()))
            }]);
        }
    };
    let mut errors = Vec::new();
    for item in items {
        match read_fields(item, from_node::<T>) {
            Ok(v) => out.push(v),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn origin(file: &Path, node: &Node) -> Origin {
    Origin {
        file: file.to_path_buf(),
        line: node.line,
        column: node.column,
    }
}

fn read_manifest(
    file: &Path,
    root: &Node,
    ctx: &Context<'_>,
    tokens: &mut Vec<PartialToken>,
    diags: &mut Diagnostics,
) {
    let entries = match &root.value {
        Value::Map(entries) => entries,
        Value::Null => {
            diags.push(
                Diagnostic::new(
                    file,
                    root.line,
                    root.column,
                    "empty manifest: expected a `tokens:` list",
                )
                .hint("add `tokens:` with at least one token, or delete the file"),
            );
            return;
        }
        other => {
            diags.push(
                Diagnostic::new(
                    file,
                    root.line,
                    root.column,
                    format!(
                        "expected a mapping with `tokens:` at the top, found {}",
                        other.kind()
                    ),
                )
                .hint("start the file with `tokens:` and list the tokens under it"),
            );
            return;
        }
    };
    let mut token_list = None;
    let mut unknown = false;
    for (key, value) in entries {
        unknown |= key.as_str() != Some("tokens");
        match key.as_str() {
            Some("tokens") => token_list = Some(value),
            Some(other) => diags.push(
                Diagnostic::new(
                    file,
                    key.line,
                    key.column,
                    format!("unknown field `{}`", echo(other)),
                )
                .hint(unknown_name_hint(other, &["tokens"])),
            ),
            None => diags.push(
                Diagnostic::new(file, key.line, key.column, "expected a field name")
                    .hint("a manifest holds only `tokens:`"),
            ),
        }
    }
    let Some(list) = token_list else {
        if unknown {
            // The unknown field is reported already (usually a misspelt `tokens`).
            return;
        }
        diags.push(
            Diagnostic::new(file, root.line, root.column, "missing field `tokens`")
                .hint("list the tokens under a top-level `tokens:` key"),
        );
        return;
    };
    let items = match &list.value {
        Value::Seq(items) => items,
        Value::Null => return,
        other => {
            diags.push(
                Diagnostic::new(
                    file,
                    list.line,
                    list.column,
                    format!("expected a list of tokens, found {}", other.kind()),
                )
                .hint("write each token as a list item starting with `- id: ...`"),
            );
            return;
        }
    };
    for item in items {
        if let Some(token) = read_token(file, item, diags) {
            checks::check_token(ctx, file, item, &token.parts(), diags);
            tokens.push(token);
        }
    }
}

/// Reads one token entry. Every field is read on its own, so what could be read is still
/// checked (consumers that failed are left out, their errors reported).
fn read_token(file: &Path, node: &Node, diags: &mut Diagnostics) -> Option<PartialToken> {
    let Value::Map(entries) = &node.value else {
        diags.push(
            Diagnostic::new(
                file,
                node.line,
                node.column,
                format!(
                    "expected a token (a mapping with `id:` and a kind), found {}",
                    node.value.kind()
                ),
            )
            .hint("start each token with `- id: ...`"),
        );
        return None;
    };
    let mut id = None;
    let mut id_origin = None;
    let mut description = None;
    let mut kind: Option<(TokenKind, &Node)> = None;
    let mut kind_failed = false;
    let mut rotation = RotationOverride::default();
    let mut consumers = Vec::new();
    let mut consumer_origins = Vec::new();
    let push = |e: TreeError, diags: &mut Diagnostics| diags.push(tree_diag(file, e));
    let mut unknown = false;
    let expected: Vec<&str> = TOKEN_FIELDS
        .iter()
        .chain(TOKEN_KINDS.iter())
        .copied()
        .collect();
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            push(TreeError::at(key, "expected a field name"), diags);
            continue;
        };
        match name {
            "id" => match from_node::<String>(value).inspect(|_| id_origin = Some(origin(file, value))) {
                Ok(v) if v.trim().is_empty() => push(
                    TreeError {
                        hint: Some("give the token a stable, unique id such as `zd-global-gitlab-sync`".into()),
                        ..TreeError::at(value, "the token id is empty")
                    },
                    diags,
                ),
                Ok(v) => match super::names::id_problem(&v) {
                    Some(problem) => push(
                        TreeError {
                            hint: Some(super::names::id_hint()),
                            ..TreeError::at(value, format!("token id `{}` {problem}", echo(&v)))
                        },
                        diags,
                    ),
                    None => id = Some(v),
                },
                Err(e) => push(e, diags),
            },
            "description" => match from_node::<Option<String>>(value) {
                Ok(v) => description = v,
                Err(e) => push(e, diags),
            },
            "rotation" => match read_fields(value, from_node::<Option<RotationOverride>>) {
                Ok(v) => rotation = v.unwrap_or_default(),
                Err(errors) => errors.into_iter().for_each(|e| push(e, diags)),
            },
            "consumers" => match &value.value {
                Value::Seq(items) => {
                    for item in items {
                        match read_consumer(item) {
                            Ok(c) => {
                                consumers.push(c);
                                consumer_origins.push(origin(file, item));
                            }
                            Err(errors) => errors
                                .into_iter()
                                .for_each(|e| push(consumer_error(e, item), diags)),
                        }
                    }
                }
                Value::Null => {}
                other => push(
                    TreeError {
                        hint: Some("write each consumer as a list item, e.g. `- gitlab_ci_variable: { ... }`".into()),
                        ..TreeError::at(value, format!("expected a list of consumers, found {}", other.kind()))
                    },
                    diags,
                ),
            },
            kind_key if TOKEN_KINDS.contains(&kind_key) => {
                if let Some((first, _)) = &kind {
                    push(
                        TreeError {
                            hint: Some("declare one kind per token; split it into two tokens".into()),
                            ..TreeError::at(key, format!(
                                "a token has exactly one kind, but this one also says `{}`",
                                first.key()
                            ))
                        },
                        diags,
                    );
                    continue;
                }
                match read_fields(value, |v| enum_from_entry::<TokenKind>(key, v)) {
                    Ok(k) => kind = Some((k, value)),
                    Err(errors) => {
                        kind_failed = true;
                        errors.into_iter().for_each(|e| push(e, diags));
                    }
                }
            }
            other => {
                unknown = true;
                push(
                TreeError {
                    hint: Some(unknown_name_hint(other, &expected)),
                    ..TreeError::at(key, format!("unknown field `{}`", echo(other)))
                },
                diags,
            );
            }
        }
    }
    // A misspelt `id` or kind key is reported as an unknown field; do not repeat it.
    if id.is_none() && !unknown && !entries.iter().any(|(k, _)| k.as_str() == Some("id")) {
        push(
            TreeError {
                hint: Some(
                    "add `id:` with a stable key that is unique across all manifests".into(),
                ),
                ..TreeError::at(node, "missing field `id`")
            },
            diags,
        );
    }
    if kind.is_none() && !kind_failed && !unknown {
        push(
            TreeError {
                hint: Some(format!("add one of: {}", TOKEN_KINDS.join(", "))),
                ..TreeError::at(node, "the token has no kind")
            },
            diags,
        );
    }
    Some(PartialToken {
        id,
        id_origin,
        description,
        kind: kind.map(|(k, _)| k),
        rotation,
        consumers,
        consumer_origins,
        origin: origin(file, node),
    })
}

/// What could be read of one token entry.
struct PartialToken {
    id: Option<String>,
    id_origin: Option<Origin>,
    description: Option<String>,
    kind: Option<TokenKind>,
    rotation: RotationOverride,
    consumers: Vec<ConsumerSpec>,
    consumer_origins: Vec<Origin>,
    origin: Origin,
}

impl PartialToken {
    fn parts(&self) -> checks::TokenParts<'_> {
        checks::TokenParts {
            id: self.id.as_deref(),
            id_origin: self.id_origin.as_ref(),
            origin: &self.origin,
            kind: self.kind.as_ref(),
            rotation: &self.rotation,
            consumers: &self.consumers,
            consumer_origins: &self.consumer_origins,
        }
    }

    fn into_declared(self) -> Option<DeclaredToken> {
        Some(DeclaredToken {
            spec: TokenSpec {
                id: self.id?,
                description: self.description,
                kind: self.kind?,
                rotation: self.rotation,
                consumers: self.consumers,
            },
            origin: self.origin,
            consumer_origins: self.consumer_origins,
        })
    }
}

/// Reads one consumer item (`KIND: { ... }`), reporting every bad setting of it.
fn read_consumer(item: &Node) -> Result<ConsumerSpec, Vec<TreeError>> {
    let Value::Map(entries) = &item.value else {
        return from_node::<ConsumerSpec>(item).map_err(|e| vec![e]);
    };
    let [(key, settings)] = entries.as_slice() else {
        return from_node::<ConsumerSpec>(item).map_err(|e| vec![e]);
    };
    read_fields(settings, |s| {
        from_node::<ConsumerSpec>(&Node {
            value: Value::Map(vec![(key.clone(), s.clone())]),
            ..item.clone()
        })
    })
}

/// Names the consumer kinds when a consumer's kind key is unknown; an unknown value deeper in
/// the consumer (`auth: oauth`) keeps its own message.
fn consumer_error(mut e: TreeError, item: &Node) -> TreeError {
    let kind_key = match &item.value {
        Value::Map(entries) => entries.first().map(|(k, _)| k),
        _ => Some(item),
    };
    let at_kind = kind_key.is_some_and(|k| (k.line, k.column) == (e.line, e.column));
    if at_kind && e.message.starts_with("unknown value") {
        e.message = e
            .message
            .replacen("unknown value", "unknown consumer kind", 1);
    }
    e
}
