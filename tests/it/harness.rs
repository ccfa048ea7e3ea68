//! Small builders shared by the integration tests: the `tokenops` command and temporary
//! manifest trees.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The `tokenops` binary under test, run from `dir`, with a clean environment for colour.
pub fn tokenops(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("tokenops").expect("tokenops binary");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    cmd
}

/// The repository root (where the shipped `tokenops.yaml` and `manifests/` live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the directory tree `from` into `to` (created if needed).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).expect("read directory") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Writes `text` to `dir/relative`, creating parent directories.
pub fn write_file(dir: &Path, relative: &str, text: &str) -> PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
    std::fs::write(&path, text).expect("write file");
    path
}

/// An insta filter that replaces `dir` (and its canonical form) with `[TMP]`.
pub fn tmp_filters(dir: &Path) -> Vec<(String, &'static str)> {
    let mut filters = vec![(regex_escape(&dir.display().to_string()), "[TMP]")];
    if let Ok(canonical) = dir.canonicalize() {
        filters.push((regex_escape(&canonical.display().to_string()), "[TMP]"));
    }
    filters
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
