//! Reading `tokenops.yaml` and the manifest tree from disk: file limits, UTF-8, YAML syntax,
//! then each section, token and consumer on its own so that one run reports every problem.

use std::path::{Path, PathBuf};

use super::checks::{self, Context, Seen};
use super::tree::{TreeError, enum_from_entry, from_node, unknown_name_hint};
use super::{
    CONFIG_FIELDS, Config, ConsumerSpec, DeclaredToken, Desired, LoadOptions, Origin,
    RotationOverride, TOKEN_FIELDS, TOKEN_KINDS, TokenKind, TokenSpec,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::yaml::{Node, Value};

/// Files larger than this are refused without being read.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

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
    let mut seen = Seen::default();
    let mut tokens = Vec::new();
    for file in find_manifests(&options.manifests, &mut diags) {
        let Some(root) = read_tree(&file, &mut diags) else {
            continue;
        };
        read_manifest(&file, &root, &ctx, &mut seen, &mut tokens, &mut diags);
    }
    if diags.is_empty() {
        Ok(Desired { config, tokens })
    } else {
        diags.sort();
        Err(diags)
    }
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
    d.hint = hint.or_else(|| Some("see schemas/ for the expected shape".to_string()));
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
            "defaults" => from_node(value)
                .map(|v| config.defaults = v)
                .map_err(|e| vec![e]),
            "state" => from_node(value)
                .map(|v| config.state = v)
                .map_err(|e| vec![e]),
            "check" => from_node(value)
                .map(|v| config.check = v)
                .map_err(|e| vec![e]),
            "escrow" => from_node(value)
                .map(|v| config.escrow = Some(v))
                .map_err(|e| vec![e]),
            other => Err(vec![TreeError {
                hint: Some(unknown_name_hint(other, &CONFIG_FIELDS)),
                ..TreeError::at(key, format!("unknown field `{other}`"))
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
    checks::check_config(path, &root, &config, diags);
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
        match from_node::<T>(item) {
            Ok(v) => out.push(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every `*.yaml` file under `dir`, recursively, in path order.
fn find_manifests(dir: &Path, diags: &mut Diagnostics) -> Vec<PathBuf> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            diags.push(
                Diagnostic::new(dir, 0, 0, "not a directory")
                    .hint("pass the directory that holds the manifests with --manifests DIR"),
            );
            return Vec::new();
        }
        Err(err) => {
            diags.push(
                Diagnostic::new(dir, 0, 0, format!("cannot read the manifest directory: {}", io_reason(&err)))
                    .hint("create it, or pass the directory that holds the manifests with --manifests DIR"),
            );
            return Vec::new();
        }
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(err) => {
                diags.push(
                    Diagnostic::new(
                        &current,
                        0,
                        0,
                        format!("cannot list the directory: {}", io_reason(&err)),
                    )
                    .hint("check its permissions"),
                );
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
            if is_dir {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() && diags.is_empty() {
        diags.push(
            Diagnostic::new(dir, 0, 0, "no manifest files (*.yaml) in this directory")
                .hint("add a file such as manifests/tokens.yaml with a `tokens:` list, or point --manifests at the right directory"),
        );
    }
    files
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

/// Reads `path` as UTF-8 text within the size limit, then parses it into a node tree.
fn read_tree(path: &Path, diags: &mut Diagnostics) -> Option<Node> {
    let text = read_text(path, diags)?;
    match crate::yaml::parse_tree(&text, &path.display().to_string()) {
        Ok(node) => Some(node),
        Err(err) => {
            let hint = if err.message.contains("duplicate mapping key") {
                "remove one of the two entries with this key"
            } else {
                "fix the YAML syntax here: check indentation, quotes, brackets and `key: value` spacing"
            };
            diags.push(
                Diagnostic::new(
                    path,
                    err.line.max(1),
                    err.column.max(1),
                    format!("invalid YAML: {}", err.message),
                )
                .hint(hint),
            );
            None
        }
    }
}

fn read_text(path: &Path, diags: &mut Diagnostics) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) => {
            let hint = if path.file_name().is_some_and(|n| n == "tokenops.yaml") {
                "create tokenops.yaml (see README.md), or pass its path with --config FILE"
            } else {
                "check the path"
            };
            diags.push(
                Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("cannot read the file: {}", io_reason(&err)),
                )
                .hint(hint),
            );
            return None;
        }
    };
    if !meta.is_file() {
        diags.push(
            Diagnostic::new(path, 0, 0, "not a regular file").hint("pass the path of a YAML file"),
        );
        return None;
    }
    if meta.len() > MAX_FILE_BYTES {
        diags.push(
            Diagnostic::new(
                path,
                0,
                0,
                format!(
                    "file is too large ({} MiB; the limit is {} MiB)",
                    meta.len() / (1024 * 1024),
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            )
            .hint("split it into several files under the manifest directory"),
        );
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            diags.push(
                Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("cannot read the file: {}", io_reason(&err)),
                )
                .hint("check its permissions"),
            );
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(err) => {
            let bytes = err.as_bytes();
            let offset = err.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
            let line = valid.matches('\n').count() as u64 + 1;
            let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
            diags.push(
                Diagnostic::new(
                    path,
                    line,
                    column,
                    format!("file is not valid UTF-8 (byte offset {offset})"),
                )
                .hint("save the file as UTF-8"),
            );
            None
        }
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
    seen: &mut Seen,
    tokens: &mut Vec<DeclaredToken>,
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
    for (key, value) in entries {
        match key.as_str() {
            Some("tokens") => token_list = Some(value),
            Some(other) => diags.push(
                Diagnostic::new(
                    file,
                    key.line,
                    key.column,
                    format!("unknown field `{other}`"),
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
            checks::check_token(ctx, file, item, &token, seen, diags);
            tokens.push(token);
        }
    }
}

/// Reads one token entry. Every field is read on its own; the token is returned when its
/// id and kind could be read (consumers that failed are left out, their errors reported).
fn read_token(file: &Path, node: &Node, diags: &mut Diagnostics) -> Option<DeclaredToken> {
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
    let mut description = None;
    let mut kind: Option<(TokenKind, &Node)> = None;
    let mut kind_failed = false;
    let mut rotation = RotationOverride::default();
    let mut consumers = Vec::new();
    let mut consumer_origins = Vec::new();
    let push = |e: TreeError, diags: &mut Diagnostics| diags.push(tree_diag(file, e));
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
            "id" => match from_node::<String>(value) {
                Ok(v) if v.trim().is_empty() => push(
                    TreeError {
                        hint: Some("give the token a stable, unique id such as `zd-global-gitlab-sync`".into()),
                        ..TreeError::at(value, "the token id is empty")
                    },
                    diags,
                ),
                Ok(v) => id = Some(v),
                Err(e) => push(e, diags),
            },
            "description" => match from_node::<Option<String>>(value) {
                Ok(v) => description = v,
                Err(e) => push(e, diags),
            },
            "rotation" => match from_node::<Option<RotationOverride>>(value) {
                Ok(v) => rotation = v.unwrap_or_default(),
                Err(e) => push(e, diags),
            },
            "consumers" => match &value.value {
                Value::Seq(items) => {
                    for item in items {
                        match from_node::<ConsumerSpec>(item) {
                            Ok(c) => {
                                consumers.push(c);
                                consumer_origins.push(origin(file, item));
                            }
                            Err(e) => push(consumer_error(e), diags),
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
                match enum_from_entry::<TokenKind>(key, value) {
                    Ok(k) => kind = Some((k, value)),
                    Err(e) => {
                        kind_failed = true;
                        push(e, diags);
                    }
                }
            }
            other => push(
                TreeError {
                    hint: Some(unknown_name_hint(other, &expected)),
                    ..TreeError::at(key, format!("unknown field `{other}`"))
                },
                diags,
            ),
        }
    }
    if id.is_none() && !entries.iter().any(|(k, _)| k.as_str() == Some("id")) {
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
    if kind.is_none() && !kind_failed {
        push(
            TreeError {
                hint: Some(format!("add one of: {}", TOKEN_KINDS.join(", "))),
                ..TreeError::at(node, "the token has no kind")
            },
            diags,
        );
    }
    let ((kind, _), id) = (kind?, id?);
    Some(DeclaredToken {
        spec: TokenSpec {
            id,
            description,
            kind,
            rotation,
            consumers,
        },
        origin: origin(file, node),
        consumer_origins,
    })
}

/// Names the consumer kinds when a consumer's kind key is unknown.
fn consumer_error(mut e: TreeError) -> TreeError {
    if e.message.starts_with("unknown value") {
        e.message = e
            .message
            .replacen("unknown value", "unknown consumer kind", 1);
    }
    e
}
