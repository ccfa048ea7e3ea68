//! `command`: a receiver tokenops cannot write through an API of its own (a password
//! manager's CLI, `kubectl`, a secret store's CLI, a deploy hook). `write` runs a program with
//! the new value on standard input, never in its arguments or environment (a deploy token's
//! username, which is not secret, arrives in `TOKENOPS_USERNAME`); `verify`, when
//! declared, runs a program that exits 0 when the receiver holds the value (on stdin again).
//! Only apply runs them, never plan or check: discovery knows a command consumer only by the
//! fingerprint the ledger recorded when tokenops last wrote it. Each run has a timeout, gets a
//! cleared environment (`PATH`, `HOME`, the locale and the variables the manifest names), and
//! its output is shown with the value removed. A failed write is retried in the same run only
//! when the manifest says the command is idempotent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Stdio;

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::Platform;
use crate::clients::{Clients, CommandEnv};
use crate::discover::lists::ListKey;
use crate::inventory::{Holds, LiveConsumer};
use crate::kinds::{
    ConsumerCheck, ConsumerDriver, ConsumerKindId, ConsumerLiveCx, Credential, Proof,
};
use crate::manifest::{ConsumerKey, Duration};

/// Variables every command gets from tokenops's environment, when set.
const BASE_ENV: [&str; 5] = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"];
/// The variable a command finds the credential's username in (deploy tokens; not secret).
const USERNAME_ENV: &str = "TOKENOPS_USERNAME";
/// Attempts of an idempotent write in one run.
const IDEMPOTENT_ATTEMPTS: u32 = 3;
/// Output shown per run, in characters.
const OUTPUT_LIMIT: usize = 2_000;

/// A receiver written by running a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// A name for the receiver, unique across manifests (`team-vault`, `prod-cluster`).
    pub name: String,
    /// The program and its arguments (no shell); the value arrives on standard input,
    /// without a trailing newline. A relative program path with a `/` is found next to
    /// tokenops.yaml.
    pub write: Vec<String>,
    /// A program that exits 0 when the receiver holds the value given on standard input.
    /// Without it, a write that exits 0 is the proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Vec<String>>,
    /// How long one run may take before it is killed (default `60s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Running the write twice leaves the same state, so a failed write may be retried.
    #[serde(default)]
    pub idempotent: bool,
    /// Variables of tokenops's environment the commands need (`OP_SERVICE_ACCOUNT_TOKEN`,
    /// `KUBECONFIG`); nothing else is passed on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

/// How one run of a command ended.
#[derive(Debug)]
enum Ran {
    /// Exited 0.
    Ok(String),
    /// Exited otherwise.
    Exit(String, String),
    /// Killed at the timeout.
    TimedOut(String),
    /// Could not be started.
    NotStarted(String),
}

impl Command {
    fn timeout(&self) -> std::time::Duration {
        self.timeout
            .map(Duration::to_std)
            .unwrap_or(std::time::Duration::from_secs(60))
    }

    fn program(&self, argv: &[String], env: &CommandEnv) -> PathBuf {
        let program = PathBuf::from(&argv[0]);
        match &env.base_dir {
            Some(base) if program.is_relative() && argv[0].contains('/') => base.join(program),
            _ => program,
        }
    }

    /// Runs `argv` with the value on stdin, within the timeout, in a cleared environment
    /// (plus `TOKENOPS_USERNAME` when the credential has a username).
    async fn run(&self, argv: &[String], env: &CommandEnv, given: Credential<'_>) -> Ran {
        let value = given.value;
        let Some(first) = argv.first() else {
            return Ran::NotStarted("no program is given".to_string());
        };
        let mut cmd = tokio::process::Command::new(self.program(argv, env));
        cmd.args(&argv[1..])
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &env.base_dir {
            cmd.current_dir(dir);
        }
        for name in BASE_ENV
            .iter()
            .copied()
            .chain(self.env.iter().map(String::as_str))
        {
            if let Some(v) = env.var(name) {
                cmd.env(name, v);
            }
        }
        if let Some(username) = given.username {
            cmd.env(USERNAME_ENV, username);
        }
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ran::NotStarted(format!(
                    "`{first}` was not found (not on PATH, or no such file); install it or \
                     give its full path"
                ));
            }
            Err(e) => return Ran::NotStarted(format!("`{first}` could not be started: {e}")),
        };
        if let Some(mut stdin) = child.stdin.take() {
            // A command that exits without reading its input is judged by its exit code.
            let _ = stdin.write_all(value.expose_secret().as_bytes()).await;
            drop(stdin);
        }
        match tokio::time::timeout(self.timeout(), child.wait_with_output()).await {
            Err(_) => Ran::TimedOut(String::new()),
            Ok(Err(e)) => Ran::NotStarted(format!("`{first}` failed to run: {e}")),
            Ok(Ok(out)) => {
                let text = shown_output(&out.stdout, &out.stderr, value);
                match out.status.code() {
                    Some(0) => Ran::Ok(text),
                    Some(code) => Ran::Exit(format!("exit code {code}"), text),
                    None => Ran::Exit("killed by a signal".to_string(), text),
                }
            }
        }
    }

    fn failure(&self, what: &str, ran: Ran) -> String {
        let timeout = self.timeout().as_secs();
        let (why, output) = match ran {
            Ran::Ok(out) => (String::new(), out),
            Ran::Exit(why, out) => (why, out),
            Ran::TimedOut(out) => (
                format!("timed out after {timeout}s and was killed (raise `timeout:`)"),
                out,
            ),
            Ran::NotStarted(why) => (why, String::new()),
        };
        let mut text = format!("command {}: {what} {why}", self.name);
        if !output.is_empty() {
            text.push_str(&format!("; its output (value removed): {output}"));
        }
        text
    }
}

/// Stdout and stderr as shown: lossy UTF-8, the value removed, control characters dropped,
/// cut at [`OUTPUT_LIMIT`].
fn shown_output(stdout: &[u8], stderr: &[u8], value: &SecretString) -> String {
    let mut text = String::from_utf8_lossy(stdout).into_owned();
    let err = String::from_utf8_lossy(stderr);
    if !err.trim().is_empty() {
        if !text.trim().is_empty() {
            text.push('\n');
        }
        text.push_str(&err);
    }
    let secret = value.expose_secret();
    if !secret.is_empty() {
        text = text.replace(secret, "[value removed]");
    }
    let mut shown: String = text
        .trim()
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .take(OUTPUT_LIMIT)
        .collect();
    if text.trim().chars().count() > OUTPUT_LIMIT {
        shown.push('…');
    }
    shown
}

#[async_trait]
impl ConsumerDriver for Command {
    fn id(&self) -> ConsumerKindId {
        ConsumerKindId::Command
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        None
    }
    fn key(&self) -> Option<ConsumerKey> {
        Some(ConsumerKey(format!("command:{}", self.name)))
    }
    fn label(&self) -> String {
        format!(
            "command {} (`{}`)",
            self.name,
            self.write.first().map(String::as_str).unwrap_or("")
        )
    }
    fn settings(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn instructions(&self) -> Option<&str> {
        None
    }
    fn check(&self, cx: &mut ConsumerCheck<'_>) {
        if self.name.trim().is_empty() {
            cx.problem(
                "name",
                "a command consumer needs a `name`",
                "name the receiver, e.g. `name: team-vault`",
            );
        }
        for (field, argv) in [
            ("write", Some(&self.write)),
            ("verify", self.verify.as_ref()),
        ] {
            if let Some(argv) = argv
                && argv.first().is_none_or(|p| p.trim().is_empty())
            {
                cx.problem(
                    field,
                    format!("`{field}` needs a program"),
                    "give the program and its arguments as a list, e.g. `[kubectl, apply, -f, -]`; \
                     the value arrives on standard input",
                );
            }
        }
        if self.timeout.is_some_and(|t| t.as_secs() == 0) {
            cx.problem(
                "timeout",
                "a timeout of 0 kills every run",
                "give a timeout such as `30s`",
            );
        }
        for name in &self.env {
            if name.is_empty() || name.contains('=') {
                cx.problem(
                    "env",
                    format!("`{name}` is not a variable name"),
                    "list names only (`KUBECONFIG`); their values come from tokenops's environment",
                );
            }
        }
    }

    fn lists(&self, _needs: &mut BTreeSet<ListKey>) {}
    fn live(&self, _cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>> {
        // Plan never runs a command: what the receiver holds is known only from the ledger.
        Ok(LiveConsumer::Present {
            settings: BTreeMap::new(),
            holds: Holds::WriteOnly,
        })
    }

    fn written_by_apply(&self) -> bool {
        true
    }
    fn rewrite_safe(&self) -> bool {
        self.idempotent
    }
    async fn write(
        &self,
        clients: &Clients,
        given: Credential<'_>,
    ) -> Result<Option<Proof>, String> {
        let attempts = if self.idempotent {
            IDEMPOTENT_ATTEMPTS
        } else {
            1
        };
        let mut last = None;
        for attempt in 1..=attempts {
            match self.run(&self.write, &clients.commands, given).await {
                Ran::Ok(out) => {
                    if !out.is_empty() {
                        tracing::info!("command {} wrote the value: {out}", self.name);
                    }
                    return Ok(self.verify.is_none().then_some(Proof::Written));
                }
                // A program that is not there will not appear on a retry.
                ran @ Ran::NotStarted(_) => {
                    return Err(self.failure("the write could not run:", ran));
                }
                ran => {
                    tracing::warn!("command {}: write attempt {attempt} failed", self.name);
                    last = Some(ran);
                }
            }
        }
        let ran = last.unwrap_or(Ran::NotStarted(String::new()));
        let retry = if self.idempotent {
            format!("after {IDEMPOTENT_ATTEMPTS} attempts")
        } else {
            "and was not retried, as the manifest does not say it is idempotent (check the \
             receiver before the next apply, which runs it again)"
                .to_string()
        };
        Err(self.failure(&format!("the write failed {retry}:"), ran))
    }
    async fn verify(&self, clients: &Clients, given: Credential<'_>) -> Result<Proof, String> {
        let Some(verify) = &self.verify else {
            // Without a verify command, the write's exit code was the proof.
            return Ok(Proof::Written);
        };
        match self.run(verify, &clients.commands, given).await {
            Ran::Ok(_) => Ok(Proof::ReadBack),
            ran => Err(self.failure(
                "the verify command says the receiver does not hold the new value:",
                ran,
            )),
        }
    }
}
