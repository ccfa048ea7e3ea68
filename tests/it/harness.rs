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

/// A sandbox running in its own runtime, and a working directory with a GitLab-only copy of
/// the example setup (tokenops.yaml + manifests, the ledger under `.tokenops/`), for running
/// `tokenops plan` / `apply` against it.
pub struct SandboxRun {
    /// The runtime the sandbox serves on (kept alive while the test runs).
    pub runtime: tokio::runtime::Runtime,
    /// The sandbox.
    pub handle: tokenops::sandbox::SandboxHandle,
    /// The working directory.
    pub dir: tempfile::TempDir,
    /// `--now`, equal to the sandbox clock.
    pub now: String,
    /// The escrow identity (secret) for TOKENOPS_ESCROW_IDENTITY.
    pub identity: String,
}

/// The GitLab part of the demo manifests: the tokens whose consumers all live on GitLab.
pub const GITLAB_MANIFEST: &str = r#"tokens:
  - id: gl-ops-bot-automation
    gitlab_personal_access_token: { gitlab: gitlab.com, user: support-ops-bot, name: ops-automation, scopes: [api] }
    rotation: { rotate_before: 30d }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, group: support/ops, key: OPS_BOT_TOKEN, masked: true, protected: true }
      - manual: { instructions: Update the ops-bot token in the team vault. }
  - id: gl-ops-bot-readonly
    gitlab_personal_access_token: { gitlab: gitlab.com, user: support-ops-bot, name: weekly-reports-read, scopes: [read_api] }
    rotation: { lifetime: 180d }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/reports, key: GITLAB_READ_TOKEN, masked: true, hidden: true }
  - id: zd-global-gitlab-sync
    gitlab_project_access_token: { gitlab: gitlab.com, project: support/ops/zendesk-sync, name: zendesk-global-app, scopes: [api], access_level: developer }
    rotation: { rotate_before: 30d }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/zendesk-sync, key: SYNC_TOKEN, masked: true, environment_scope: production }
  - id: bridge-deploy
    gitlab_project_access_token: { gitlab: gitlab.com, project: support/ops/bridge, name: bridge-deploy, scopes: [read_repository, read_registry], access_level: reporter }
    rotation: { lifetime: 90d, rotate_before: 14d, strategy: overlap }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/bridge, key: DEPLOY_TOKEN, masked: true, protected: true }
  - id: ops-group-triage
    gitlab_group_access_token: { gitlab: gitlab.com, group: support/ops, name: triage-bot, scopes: [api], access_level: maintainer }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/triage, key: TRIAGE_TOKEN, masked: true, protected: true }
  - id: trigger-reports-from-triage
    gitlab_pipeline_trigger_token: { gitlab: gitlab.com, project: support/ops/reports, description: "https://gitlab.com/support/ops/triage" }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/triage, key: REPORTS_TRIGGER_TOKEN, masked: true }
  - id: bridge-hook-secret
    generated_secret: { length: 48, alphabet: alphanumeric }
    rotation: { lifetime: 90d, rotate_before: 14d }
    consumers:
      - gitlab_webhook: { gitlab: gitlab.com, project: support/ops/bridge, url: "https://bridge.example.com/hooks/gitlab" }
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/bridge, key: BRIDGE_HOOK_SECRET, masked: true, hidden: true }
  - id: triage-hook-secret
    generated_secret: { length: 40, alphabet: alphanumeric }
    consumers:
      - gitlab_webhook: { gitlab: gitlab.com, group: support/ops, url: "https://triage.example.com/hooks/gitlab" }
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/triage, key: TRIAGE_HOOK_SECRET, masked: true }
"#;

impl SandboxRun {
    /// Starts the demo sandbox and writes the GitLab-only setup with an escrow recipient.
    pub fn gitlab_demo() -> SandboxRun {
        Self::with(GITLAB_MANIFEST, true)
    }

    /// Starts the demo sandbox with `manifest`; `escrow` adds an escrow key to the config.
    pub fn with(manifest: &str, escrow: bool) -> SandboxRun {
        use tokenops::sandbox::{Sandbox, SandboxOptions, Seed};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let start: jiff::Timestamp = "2026-11-28T09:00:00Z".parse().expect("time");
        let handle = runtime
            .block_on(Sandbox::start(
                Seed::default_demo(),
                SandboxOptions::at(start),
            ))
            .expect("sandbox");
        let now = handle.clock().now().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let (identity, recipient) = tokenops::ops::apply::escrow::generate_identity();
        let mut config = String::from(
            "version: 1\ngitlab:\n  - name: gitlab.com\n    url: https://gitlab.com\n    \
             token_env: GITLAB_TOKEN\nstate: { backend: local, path: .tokenops/state.json }\n",
        );
        if escrow {
            config.push_str(&format!(
                "escrow: {{ recipient: {recipient}, identity_env: TOKENOPS_ESCROW_IDENTITY }}\n"
            ));
        }
        std::fs::write(dir.path().join("tokenops.yaml"), config).expect("config");
        std::fs::create_dir_all(dir.path().join("manifests")).expect("manifests");
        std::fs::write(dir.path().join("manifests/gitlab.yaml"), manifest).expect("manifest");
        SandboxRun {
            runtime,
            handle,
            dir,
            now,
            identity: secrecy::ExposeSecret::expose_secret(&identity).to_string(),
        }
    }

    /// `tokenops ARGS…` against the sandbox, with `--now` and the credentials set.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = tokenops(self.dir.path());
        let token = self.handle.gitlab_admin_token("gitlab.com");
        cmd.env(
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            self.handle.gitlab_url("gitlab.com"),
        )
        .env(
            "TOKENOPS_GITLAB_GITLAB_COM_TOKEN",
            secrecy::ExposeSecret::expose_secret(&token),
        )
        .env("TOKENOPS_ESCROW_IDENTITY", &self.identity)
        .env_remove("TOKENOPS_TEST_CRASH_AT")
        .arg("--now")
        .arg(&self.now)
        .args(args);
        cmd
    }

    /// Runs `apply --auto-approve` (plus `extra`) and returns its output.
    pub fn apply(&self, extra: &[&str]) -> std::process::Output {
        let mut args = vec!["apply", "--auto-approve"];
        args.extend_from_slice(extra);
        self.cmd(&args).output().expect("run tokenops apply")
    }

    /// The ledger file's text ("" when absent).
    pub fn ledger_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(".tokenops/state.json")).unwrap_or_default()
    }
}
