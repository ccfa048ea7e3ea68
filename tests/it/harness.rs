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

/// The sandbox clock's start used by tests that do not care about the date.
pub const SANDBOX_NOW: &str = "2026-11-28T09:00:00Z";

/// A sandbox on 127.0.0.1 (any free port) with the default seed (the example manifests'
/// estate), its clock at [`SANDBOX_NOW`].
pub async fn demo_sandbox() -> tokenops::sandbox::SandboxHandle {
    let now = SANDBOX_NOW.parse().expect("constant time");
    tokenops::sandbox::Sandbox::start(
        tokenops::sandbox::Seed::default_demo(),
        tokenops::sandbox::SandboxOptions::at(now),
    )
    .await
    .expect("the demo sandbox starts")
}
