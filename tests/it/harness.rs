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

/// A sandbox running in-process on 127.0.0.1, a temporary project directory holding a
/// `tokenops.yaml` and `manifests/`, and the `tokenops` binary pointed at both.
pub struct SandboxEnv {
    /// Runs the sandbox server in the background; tests stay synchronous.
    pub rt: tokio::runtime::Runtime,
    /// The running sandbox.
    pub sandbox: tokenops::sandbox::SandboxHandle,
    /// The project directory.
    pub dir: tempfile::TempDir,
}

/// The fixed start of the sandbox clock in tests.
pub const TEST_NOW: &str = "2026-11-28T12:00:00Z";

impl SandboxEnv {
    /// Starts a sandbox from `seed_yaml` (its clock at [`TEST_NOW`] unless the seed sets it)
    /// and writes `config` and each `(relative path, text)` manifest into a temporary dir.
    pub fn start(seed_yaml: &str, config: &str, manifests: &[(&str, &str)]) -> SandboxEnv {
        let seed = tokenops::sandbox::Seed::from_yaml_str(seed_yaml, "<test seed>").expect("seed");
        Self::start_with(seed, config, manifests)
    }

    /// Like [`SandboxEnv::start`] with a seed already built.
    pub fn start_with(
        seed: tokenops::sandbox::Seed,
        config: &str,
        manifests: &[(&str, &str)],
    ) -> SandboxEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let now: jiff::Timestamp = TEST_NOW.parse().unwrap();
        let sandbox = rt
            .block_on(tokenops::sandbox::Sandbox::start(
                seed,
                tokenops::sandbox::SandboxOptions::at(now),
            ))
            .expect("sandbox starts");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("tokenops.yaml"), config).unwrap();
        for (path, text) in manifests {
            let path = dir.path().join("manifests").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        SandboxEnv { rt, sandbox, dir }
    }

    /// `tokenops` run in the project directory, every instance of the sandbox wired in
    /// through the `TOKENOPS_*_URL` / `_TOKEN` overrides and the clock through `TOKENOPS_NOW`.
    pub fn tokenops(&self) -> assert_cmd::Command {
        use secrecy::ExposeSecret;
        let mut cmd = tokenops(self.dir.path());
        let described = self.sandbox.describe();
        use tokenops::cli::env::override_var;
        use tokenops::http::Platform;
        for (platform, kind) in [("gitlab", Platform::GitLab), ("zendesk", Platform::Zendesk)] {
            if let Some(instances) = described[platform].as_object() {
                for name in instances.keys() {
                    let (url, token) = if platform == "gitlab" {
                        (
                            self.sandbox.gitlab_url(name),
                            self.sandbox.gitlab_admin_token(name),
                        )
                    } else {
                        (
                            self.sandbox.zendesk_url(name),
                            self.sandbox.zendesk_admin_token(name),
                        )
                    };
                    cmd.env(override_var(kind, name, "URL"), url);
                    cmd.env(override_var(kind, name, "TOKEN"), token.expose_secret());
                }
            }
        }
        cmd.env("TOKENOPS_NOW", self.sandbox.clock().now().to_string());
        cmd
    }

    /// Runs `tokenops SUBCOMMAND ARGS…`, checks its exit code and that neither stdout nor
    /// stderr holds a value the sandbox issued, and returns stdout.
    pub fn run_checked(&self, subcommand: &str, args: &[&str], code: i32) -> String {
        let out = self.tokenops().arg(subcommand).args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        self.assert_no_secret_in(&format!("{subcommand} stdout"), &stdout);
        self.assert_no_secret_in(&format!("{subcommand} stderr"), &stderr);
        stdout
    }

    /// Reads or changes the sandbox's `gitlab.com` instance directly.
    pub fn with_gitlab<R>(&self, f: impl FnOnce(&mut tokenops::sandbox::state::GitLab) -> R) -> R {
        self.sandbox.with_state(|w| {
            f(w.gitlab
                .get_mut("gitlab.com")
                .expect("gitlab.com is seeded"))
        })
    }

    /// Every value the sandbox ever issued, exposed for leak checks.
    pub fn issued(&self) -> Vec<String> {
        use secrecy::ExposeSecret;
        self.sandbox
            .issued_values()
            .iter()
            .map(|v| v.expose_secret().to_string())
            .collect()
    }

    /// Panics if `text` contains any value the sandbox issued.
    pub fn assert_no_secret_in(&self, what: &str, text: &str) {
        for value in self.issued() {
            assert!(
                !text.contains(&value),
                "{what} contains a value the sandbox issued"
            );
        }
    }
}

/// Snapshot filters for CLI output: loopback ports.
pub fn output_filters() -> Vec<(&'static str, &'static str)> {
    vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT")]
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
