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
