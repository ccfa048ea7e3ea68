//! tokenops under hostile input, tried from outside as an attacker would: servers that echo
//! credentials, loop their pagination or send too much; odd manifests; damaged ledgers. Each
//! case must end with a clear error and exit 1, never a panic, and no credential in any
//! output. One module per failure; `suite` runs the whole adversarial corpus and reports its
//! figures.

mod bounds;
mod escrow;
mod ledger;
mod lock;
mod names;
mod pagination;
mod rules;
mod secrets;
mod suite;
mod write_failure;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::http::server::{Reply, Scripted, Seen, serve};
use crate::scenario::plain_command;

/// The credential the hostile tests give tokenops for `gitlab.com`; no output may hold it.
pub const CREDENTIAL: &str = "glpat-Hostile0Credential0abcdefGHIJ";

/// A second secret: the escrow identity variable's name is given a value of this shape.
pub const AGE_IDENTITY: &str =
    "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";

/// One PAT with one CI-variable consumer, on `gitlab.com`.
pub const ONE_TOKEN: &str = "tokens:
  - id: bot
    gitlab_personal_access_token: { gitlab: gitlab.com, user: support-ops-bot, name: ops-automation, scopes: [api] }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: support/ops/reports, key: BOT_TOKEN, masked: true }
";

/// `tokenops.yaml` declaring `gitlab.com` at `url`, its credential in `GITLAB_TOKEN`, with
/// `extra` appended (e.g. a `check:` section).
pub fn config(url: &str, extra: &str) -> String {
    format!(
        "version: 1\ngitlab:\n  - name: gitlab.com\n    url: {url}\n    token_env: GITLAB_TOKEN\n\
         state: {{ backend: local, path: .tokenops/state.json }}\n{extra}"
    )
}

/// A project directory with `config` and one manifest.
pub fn project(config: &str, manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tokenops.yaml"), config).expect("config");
    std::fs::create_dir_all(dir.path().join("manifests")).expect("manifests");
    std::fs::write(dir.path().join("manifests/tokens.yaml"), manifest).expect("manifest");
    dir
}

/// What one run of the binary came to.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// Both streams.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The first of `secrets` (or a long piece of it) that some output holds.
    pub fn leaked<'a>(&self, secrets: &[&'a str]) -> Option<&'a str> {
        let all = self.all();
        secrets
            .iter()
            .find(|s| {
                all.contains(**s)
                    || (s.len() > 20
                        && s.as_bytes()
                            .windows(16)
                            .any(|w| all.contains(std::str::from_utf8(w).unwrap_or("\u{0}"))))
            })
            .copied()
    }

    /// Whether the run panicked.
    pub fn panicked(&self) -> bool {
        self.code == Some(101) || self.stderr.contains("panicked at")
    }

    /// Whether it ended as a refusal should: exit 1, a message that says `error` (or an
    /// apply summary giving each token's state), no panic, no control character a terminal
    /// would act on.
    pub fn clear_refusal(&self) -> bool {
        let all = self.all();
        self.code == Some(1)
            && !self.panicked()
            && (all.contains("error") || all.contains("Summary:"))
            && !all.contains('\u{1b}')
    }

    /// Panics unless the run was a clear refusal that leaked none of `secrets`.
    pub fn assert_refused(&self, secrets: &[&str]) {
        assert!(
            self.clear_refusal(),
            "not a clear refusal (exit {:?}):\n{}",
            self.code,
            self.all()
        );
        assert_eq!(
            self.leaked(secrets),
            None,
            "an output holds a secret:\n{}",
            self.all()
        );
    }
}

/// Runs `tokenops ARGS…` in `dir` with `env` (and `GITLAB_TOKEN` = [`CREDENTIAL`] unless
/// `env` sets it), no proxy variables from the outside.
pub fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = plain_command(dir);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GITLAB_TOKEN", CREDENTIAL)
        .env("TOKENOPS_NOW", "2026-11-28T12:00:00Z");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.args(args).output().expect("run tokenops");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// A scripted server in a runtime of its own, so the binary can be run synchronously.
pub struct Hostile {
    /// Serves the script (kept alive while the test runs).
    pub _rt: tokio::runtime::Runtime,
    /// The server.
    pub server: Scripted,
}

impl Hostile {
    /// Serves `script` on 127.0.0.1.
    pub fn serve<F>(script: F) -> Hostile
    where
        F: Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(serve(script));
        Hostile { _rt: rt, server }
    }

    /// A project pointing `gitlab.com` at this server, with `extra` config.
    pub fn project(&self, extra: &str) -> tempfile::TempDir {
        project(&config(&self.server.origin, extra), ONE_TOKEN)
    }
}

/// The credential as the server saw it (the header tokenops sent), so that echoes are of the
/// real value.
pub fn sent_credential(seen: &Seen) -> String {
    seen.header("private-token").unwrap_or_default()
}

/// A scenario's run (`sc.cmd(..)….expect(Exit::Any)`, leak-checked by the scenario) as an
/// [`Outcome`], timed.
pub fn timed(run: impl FnOnce() -> crate::scenario::Output) -> Outcome {
    let started = Instant::now();
    let out = run();
    Outcome {
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
        elapsed: started.elapsed(),
    }
}
