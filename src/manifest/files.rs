//! Finding and reading the files: the manifest tree walk (symbolic links are followed only
//! while they stay inside the repository), the size limit (checked before reading), UTF-8
//! with the position of the first bad byte, and YAML syntax errors.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::yaml::Node;

/// Files larger than this are refused without being read.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Every `*.yaml` file under `dir`, recursively, in path order. A symbolic link is followed
/// only when its target is inside one of `roots` (the directories of tokenops.yaml and of the
/// manifests): a link to `/` must not make validate read the whole machine.
pub(super) fn find_manifests(
    dir: &Path,
    roots: &[PathBuf],
    diags: &mut Diagnostics,
) -> Vec<PathBuf> {
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
    // Directories already listed, so that a symbolic link loop is walked only once.
    let mut visited = std::collections::HashSet::new();
    while let Some(current) = pending.pop() {
        if !visited.insert(current.canonicalize().unwrap_or_else(|_| current.clone())) {
            continue;
        }
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
            if kind.is_symlink()
                && let Ok(target) = path.canonicalize()
                && !roots.iter().any(|root| target.starts_with(root))
            {
                diags.push(
                    Diagnostic::new(
                        &path,
                        0,
                        0,
                        format!(
                            "symbolic link to {} leaves the repository; it is not followed",
                            crate::text::echo(&target.display().to_string())
                        ),
                    )
                    .hint("point it at a file or directory inside the repository, or copy what it points at"),
                );
                continue;
            }
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
pub(super) fn read_tree(path: &Path, diags: &mut Diagnostics) -> Option<Node> {
    let text = read_text(path, diags)?;
    match crate::yaml::parse_tree(&text, &path.display().to_string()) {
        Ok(node) => Some(node),
        Err(err) => {
            let (message, hint) = yaml_problem(&err.message);
            diags.push(
                Diagnostic::new(path, err.line.max(1), err.column.max(1), message).hint(hint),
            );
            None
        }
    }
}

/// A YAML parser message in the words of this tool, with a hint.
fn yaml_problem(message: &str) -> (String, &'static str) {
    if message.contains("duplicate mapping key") {
        (
            format!("invalid YAML: {message}"),
            "remove one of the two entries with this key",
        )
    } else if message.contains("a second document") {
        (
            format!("invalid YAML: {message}"),
            "move the second document into a file of its own",
        )
    } else if message.contains("too many copies") {
        (
            format!("invalid YAML: {message}"),
            "avoid aliases that expand into many copies of large values",
        )
    } else if message.contains("more than") && message.contains("values") {
        (
            format!("invalid YAML: {message}"),
            "split the manifests into several files",
        )
    } else if message.contains("nested too deeply") || message.contains("recursion limit") {
        (
            "invalid YAML: values are nested too deeply".to_string(),
            "flatten the structure; manifests need only a few levels",
        )
    } else if message.contains("names no anchor") {
        (
            format!("invalid YAML: {message}"),
            "define the anchor (`&name`) before its alias (`*name`), or fix the alias's name",
        )
    } else {
        (
            format!("invalid YAML: {message}"),
            "fix the YAML syntax here: check indentation, quotes, brackets and `key: value` spacing",
        )
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
