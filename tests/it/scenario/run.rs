//! Running `tokenops` in a scenario: the command wired to every sandbox instance (URL and
//! admin token overrides, the escrow identity, the Zendesk client secrets, the clock), and
//! the one place a run ends, [`Run::expect`], which checks the exit and scans the output
//! for leaks.

use std::os::unix::process::ExitStatusExt;

use secrecy::ExposeSecret;
use tokenops::cli::env::override_var;
use tokenops::http::Platform;

use super::Scenario;

/// How a run must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// With this exit code.
    Code(i32),
    /// Killed by SIGKILL (a `TOKENOPS_TEST_CRASH_AT` fault point).
    Killed,
    /// Any way at all (the test inspects [`Output`] itself).
    Any,
}

impl From<i32> for Exit {
    fn from(code: i32) -> Self {
        Exit::Code(code)
    }
}

/// What a finished run printed; already checked for leaks.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    /// The signal that killed it.
    pub signal: Option<i32>,
}

impl Output {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
    /// stdout then stderr.
    pub fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A `tokenops` command about to run in a scenario.
pub struct Run<'a> {
    scenario: &'a Scenario,
    what: String,
    cmd: assert_cmd::Command,
    /// `tokenops init`, which prints its new age identity on purpose.
    init: bool,
}

impl Run<'_> {
    /// Sets an environment variable for this run.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Unsets an environment variable the scenario would set.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// Feeds `text` on stdin.
    pub fn stdin(mut self, text: impl Into<Vec<u8>>) -> Self {
        self.cmd.write_stdin(text.into());
        self
    }

    /// Runs it; panics unless it ends as `exit` says, or when stdout or stderr holds a
    /// secret the sandbox issued or holds.
    pub fn expect(mut self, exit: impl Into<Exit>) -> Output {
        let out = self.cmd.output().expect("run tokenops");
        let output = Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code(),
            signal: out.status.signal(),
        };
        let ok = match exit.into() {
            Exit::Code(code) => output.code == Some(code),
            Exit::Killed => output.signal == Some(9),
            Exit::Any => true,
        };
        assert!(
            ok,
            "{}: ended with {:?} (signal {:?})\nstdout:\n{}\nstderr:\n{}",
            self.what, output.code, output.signal, output.stdout, output.stderr
        );
        let scenario = self.scenario;
        let stdout = format!("{} stdout", self.what);
        if self.init && output.success() {
            scenario.printed_once(&stdout, &output.stdout);
        } else {
            scenario.assert_no_secret_in(&stdout, &output.stdout);
        }
        scenario.assert_no_secret_in(&format!("{} stderr", self.what), &output.stderr);
        output
    }
}

impl Scenario {
    /// `tokenops ARGS…` in the project directory, wired to the sandbox; finish it with
    /// [`Run::expect`].
    pub fn cmd(&self, args: &[&str]) -> Run<'_> {
        let mut cmd = plain_command(self.path());
        // The example's vault scripts keep a digest in `.vault/` instead of calling 1Password.
        cmd.env("TOKENOPS_VAULT_STANDIN", self.path().join(".vault"));
        for name in self.instances("gitlab") {
            cmd.env(
                override_var(Platform::GitLab, &name, "URL"),
                self.sandbox.gitlab_url(&name),
            );
            cmd.env(
                override_var(Platform::GitLab, &name, "TOKEN"),
                self.sandbox.gitlab_admin_token(&name).expose_secret(),
            );
        }
        for name in self.instances("zendesk") {
            cmd.env(
                override_var(Platform::Zendesk, &name, "URL"),
                self.sandbox.zendesk_url(&name),
            );
            cmd.env(
                override_var(Platform::Zendesk, &name, "TOKEN"),
                self.sandbox.zendesk_admin_token(&name).expose_secret(),
            );
        }
        for (var, secret) in self.client_secrets() {
            cmd.env(var, secret);
        }
        cmd.env("TOKENOPS_ESCROW_IDENTITY", self.identity.expose_secret())
            .env(tokenops::cli::env::NOW_VAR, self.now().to_string())
            .args(args);
        Run {
            scenario: self,
            what: format!("tokenops {}", args.join(" ")),
            cmd,
            init: args.first() == Some(&"init"),
        }
    }

    /// Runs `tokenops ARGS…` and expects exit `code` (see [`Run::expect`]).
    pub fn run(&self, args: &[&str], code: i32) -> Output {
        self.cmd(args).expect(code)
    }

    /// `apply --auto-approve EXTRA…`, however it ends.
    pub fn apply(&self, extra: &[&str]) -> Output {
        let mut args = vec!["apply", "--auto-approve"];
        args.extend_from_slice(extra);
        self.cmd(&args).expect(Exit::Any)
    }

    fn instances(&self, platform: &str) -> Vec<String> {
        self.sandbox.describe()[platform]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// `TOKENOPS_ZENDESK_CLIENT_SECRET_<INSTANCE>_<CLIENT>` for every confidential OAuth
    /// client, as an operator exports them for the client-credentials grant.
    fn client_secrets(&self) -> Vec<(String, String)> {
        self.sandbox.with_state(|w| {
            let mut out = Vec::new();
            for (name, zd) in &w.zendesk {
                for client in zd.clients.values().filter(|c| c.kind != "public") {
                    out.push((
                        tokenops::kinds::zendesk::secret_env(name, &client.identifier),
                        client.secret.reveal().to_string(),
                    ));
                }
            }
            out
        })
    }
}

/// The `tokenops` binary run from `dir` with nothing wired (no sandbox): for `validate`,
/// `schema`, `demo` and the like. Colour off, no log filter, no crash point, and none of the
/// variables of a CI job the tests themselves may run in (the pipeline tests set them).
pub fn plain_command(dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("tokenops").expect("tokenops binary");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("TOKENOPS_CONFIG")
        .env_remove("TOKENOPS_MANIFESTS")
        .env_remove(tokenops::cli::apply::CRASH_ENV)
        .env_remove("TOKENOPS_NOTE_TOKEN");
    for var in CI_VARIABLES {
        cmd.env_remove(var);
    }
    cmd
}

/// The CI variables tokenops reads.
pub const CI_VARIABLES: [&str; 7] = [
    "CI",
    "CI_JOB_TOKEN",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
    "CI_PROJECT_PATH",
    "CI_MERGE_REQUEST_IID",
    "CI_COMMIT_SHA",
];
