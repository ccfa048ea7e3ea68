//! Plays the jobs of `templates/tokenops.gitlab-ci.yml` the way a GitLab runner would, against
//! the sandbox: each job in a fresh copy of the repository, with only GitLab's predefined
//! variables, the project's CI/CD variables that job may see (protected ones only in
//! default-branch pipelines) and the variables the template gives it, its `before_script` and
//! `script` run by `bash` with `set -eo pipefail`, and `tokenops` on PATH as in the prebuilt
//! image. Every output and artifact is checked for values the sandbox issued. Set
//! `TOKENOPS_TEST_SHOW_JOBS=1` to print each job's log.

mod credential_watch;
mod merge_to_apply;
mod refusals;
mod source_build;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokenops::sandbox::{Sandbox, SandboxHandle, SandboxOptions, Seed};

use crate::scenario::{NOW, repo_root};

/// The project whose pipelines run the template: it holds the state and merge request !1.
pub const PROJECT: &str = "support/ops/tokenops";
/// Who pushes, merges and so starts the pipelines (Maintainer through support/ops).
pub const USER: &str = "alice";

/// Which pipeline a job runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipeline {
    /// A merge-request pipeline (`merge_request_event`): no protected variables.
    MergeRequest,
    /// A pipeline of the protected default branch: every variable.
    DefaultBranch,
    /// A pipeline a person runs on the default branch (Build > Pipelines > Run pipeline):
    /// every variable, `CI_PIPELINE_SOURCE=web`.
    Web,
}

/// One CI/CD variable of the project (Settings > CI/CD > Variables).
pub struct Variable {
    pub name: String,
    pub value: SecretString,
    pub protected: bool,
}

/// A GitLab project in the sandbox with the repository files and CI/CD variables of a team
/// that includes the template.
pub struct Project {
    /// Serves the sandbox while the jobs run.
    _runtime: tokio::runtime::Runtime,
    pub sandbox: SandboxHandle,
    /// The repository: tokenops.yaml and manifests/.
    pub repo: tempfile::TempDir,
    pub variables: Vec<Variable>,
    /// Who starts the pipelines (the job token acts as this user).
    pub user: String,
    template: Value,
    jobs_run: std::cell::Cell<u32>,
}

/// Where a job runs.
#[derive(Debug, Default)]
pub struct Runner {
    /// `None`: the prebuilt image (tokenops on PATH). `Some(dir)`: a Rust image whose tools
    /// (`cargo`) are in `dir`, without tokenops.
    pub rust_image: Option<PathBuf>,
    /// The runner's cache storage, by key; `None`: no cache.
    pub cache: Option<PathBuf>,
}

/// What a job left: its exit code, its log, and its working directory (the artifacts).
pub struct Job {
    pub code: Option<i32>,
    pub log: String,
    pub dir: tempfile::TempDir,
}

impl Job {
    /// An artifact's text.
    pub fn artifact(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path))
            .unwrap_or_else(|e| panic!("artifact {path}: {e}\n{}", self.log))
    }

    /// Panics unless the job exited 0.
    pub fn assert_passed(&self, what: &str) {
        assert_eq!(self.code, Some(0), "{what} failed:\n{}", self.log);
    }
}

impl Project {
    /// A sandbox with the demo seed and a repository holding `config` (its escrow recipient
    /// replaced by a fresh key, whose identity becomes a protected variable) and `manifests`
    /// (relative path, text).
    pub fn new(config: &str, manifests: &[(String, String)]) -> Project {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = runtime
            .block_on(Sandbox::start(
                Seed::default_demo(),
                SandboxOptions::at(NOW.parse().expect("time")),
            ))
            .expect("sandbox");
        let (identity, recipient) = tokenops::ops::apply::escrow::generate_identity();
        let repo = tempfile::tempdir().expect("tempdir");
        let config: Vec<String> = config
            .lines()
            .map(|line| match line.trim_start().strip_prefix("recipient:") {
                Some(_) => format!("  recipient: {recipient}"),
                None => line.to_string(),
            })
            .collect();
        std::fs::write(repo.path().join("tokenops.yaml"), config.join("\n") + "\n")
            .expect("config");
        for (path, text) in manifests {
            crate::scenario::write_file(&repo.path().join("manifests"), path, text);
        }
        // The example's vault scripts, run by its `command` consumer.
        for name in ["vault-put", "vault-check"] {
            use std::os::unix::fs::PermissionsExt;
            let text = std::fs::read_to_string(repo_root().join("scripts").join(name))
                .expect("shipped script");
            let path = crate::scenario::write_file(repo.path(), &format!("scripts/{name}"), &text);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let text = std::fs::read_to_string(repo_root().join("templates/tokenops.gitlab-ci.yml"))
            .expect("template");
        let template = tokenops::yaml::from_str::<Value>(&text, "template").expect("template");
        let mut project = Project {
            _runtime: runtime,
            sandbox,
            repo,
            variables: Vec::new(),
            user: USER.to_string(),
            template,
            jobs_run: std::cell::Cell::new(0),
        };
        project.set("TOKENOPS_ESCROW_IDENTITY", identity, true);
        project.set_plain("TOKENOPS_NOW", &project.sandbox.clock().now().to_string());
        // The vault scripts keep a digest next to tokenops.yaml instead of calling 1Password.
        project.set_plain("TOKENOPS_VAULT_STANDIN", ".vault");
        project.point_at_sandbox();
        project
    }

    /// The value of the project's CI/CD variable `name`.
    pub fn variable(&self, name: &str) -> String {
        self.variables
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.expose_secret().to_string())
            .unwrap_or_else(|| panic!("no CI/CD variable {name}"))
    }

    /// Adds a CI/CD variable.
    pub fn set(&mut self, name: &str, value: SecretString, protected: bool) {
        self.variables.retain(|v| v.name != name);
        self.variables.push(Variable {
            name: name.to_string(),
            value,
            protected,
        });
    }

    /// Copies what the sandbox's project holds in CI/CD variable `key` (as tokenops wrote it)
    /// into the variables later jobs see: on GitLab they are the same variable.
    pub fn read_back(&mut self, key: &str) {
        let (value, protected) = self.sandbox.with_state(|w| {
            let v = w.gitlab["gitlab.com"]
                .variables
                .iter()
                .find(|v| v.key == key)
                .unwrap_or_else(|| panic!("the sandbox holds no variable {key}"));
            (v.value.reveal().to_string(), v.protected)
        });
        self.set(key, value.into(), protected);
    }

    /// Adds a CI/CD variable that is not protected.
    pub fn set_plain(&mut self, name: &str, value: &str) {
        self.set(name, SecretString::from(value.to_string()), false);
    }

    /// The URL overrides a team would set to run its pipelines against a staging server: here
    /// the sandbox's instances (not credentials).
    fn point_at_sandbox(&mut self) {
        use tokenops::cli::env::override_var;
        use tokenops::http::Platform;
        let described = self.sandbox.describe();
        for name in described["gitlab"].as_object().unwrap().keys() {
            let url = self.sandbox.gitlab_url(name);
            self.set_plain(&override_var(Platform::GitLab, name, "URL"), &url);
        }
        for name in described["zendesk"].as_object().unwrap().keys() {
            let url = self.sandbox.zendesk_url(name);
            self.set_plain(&override_var(Platform::Zendesk, name, "URL"), &url);
        }
    }

    /// The credentials the template's variable list asks for, issued by the sandbox:
    /// unprotected read-only ones for plan, protected ones for apply.
    pub fn set_template_credentials(&mut self, zendesk: &[(&str, &str)]) {
        let read = self
            .sandbox
            .issue_gitlab_token("gitlab.com", "tokenops-admin", &["read_api"]);
        self.set("TOKENOPS_READ_TOKEN", read, false);
        let note = self
            .sandbox
            .issue_gitlab_token("gitlab.com", USER, &["api"]);
        self.set("TOKENOPS_NOTE_TOKEN", note, false);
        let rotate = self.sandbox.gitlab_admin_token("gitlab.com");
        self.set("TOKENOPS_ROTATE_TOKEN", rotate, true);
        for (instance, prefix) in zendesk {
            let read = self.sandbox.issue_zendesk_token(instance, &["read"]);
            self.set(&format!("{prefix}_READ_TOKEN"), read, false);
            // The confidential client `tokenops` the shipped config signs in with: its
            // identifier (not a secret) and its secret (protected).
            let secret = self.sandbox.with_state(|w| {
                w.zendesk[*instance]
                    .clients
                    .values()
                    .find(|c| c.identifier == "tokenops")
                    .map(|c| c.secret.reveal().to_string())
                    .expect("the seed's client tokenops")
            });
            self.set_plain(&format!("{prefix}_CLIENT_ID"), "tokenops");
            self.set(&format!("{prefix}_CLIENT_SECRET"), secret.into(), true);
        }
    }

    /// A job of the template with `extends` resolved (hashes merged, the rest replaced).
    pub fn job_definition(&self, name: &str) -> serde_json::Map<String, Value> {
        let job = self.template[name]
            .as_object()
            .unwrap_or_else(|| panic!("the template has no job {name}"))
            .clone();
        let mut merged = serde_json::Map::new();
        let parents: Vec<String> = match job.get("extends") {
            Some(Value::String(p)) => vec![p.clone()],
            Some(Value::Array(ps)) => ps
                .iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        for parent in parents {
            deep_merge(&mut merged, &self.job_definition(&parent));
        }
        deep_merge(&mut merged, &job);
        merged
    }

    /// The environment of `job` in `pipeline`: predefined variables, the template's global
    /// and job variables (references expanded), and the project's visible CI/CD variables.
    fn environment(
        &self,
        job: &serde_json::Map<String, Value>,
        name: &str,
        pipeline: Pipeline,
        dir: &Path,
        job_token: &SecretString,
    ) -> BTreeMap<String, String> {
        let server = self.sandbox.gitlab_url("gitlab.com");
        let id = self.sandbox.gitlab_project_id("gitlab.com", PROJECT);
        let n = self.jobs_run.get() + 1;
        self.jobs_run.set(n);
        let mut env = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            env.insert(k.to_string(), v);
        };
        put("CI", "true".into());
        put("GITLAB_CI", "true".into());
        put("CI_SERVER_URL", server.clone());
        put("CI_API_V4_URL", format!("{server}/api/v4"));
        put("CI_PROJECT_ID", id.to_string());
        put("CI_PROJECT_PATH", PROJECT.into());
        put("CI_PROJECT_DIR", dir.display().to_string());
        put("CI_DEFAULT_BRANCH", "main".into());
        put("CI_JOB_NAME", name.into());
        put("CI_JOB_ID", n.to_string());
        put("CI_COMMIT_SHA", format!("{n:040x}"));
        put("CI_JOB_TOKEN", job_token.expose_secret().to_string());
        put("GITLAB_USER_LOGIN", self.user.clone());
        match pipeline {
            Pipeline::MergeRequest => {
                put("CI_PIPELINE_SOURCE", "merge_request_event".into());
                put("CI_MERGE_REQUEST_IID", "1".into());
                put("CI_COMMIT_REF_NAME", "rotate-due-tokens".into());
            }
            Pipeline::DefaultBranch | Pipeline::Web => {
                let source = if pipeline == Pipeline::Web {
                    "web"
                } else {
                    "push"
                };
                put("CI_PIPELINE_SOURCE", source.into());
                put("CI_COMMIT_BRANCH", "main".into());
                put("CI_COMMIT_REF_NAME", "main".into());
            }
        }
        let visible: BTreeMap<String, String> = self
            .variables
            .iter()
            .filter(|v| !v.protected || pipeline != Pipeline::MergeRequest)
            .map(|v| (v.name.clone(), v.value.expose_secret().to_string()))
            .collect();
        // Project variables take precedence over the file's; references see all of them.
        let mut scope = env.clone();
        scope.extend(visible.clone());
        for vars in [
            &self.template["variables"],
            job.get("variables").unwrap_or(&Value::Null),
        ] {
            for (k, v) in vars.as_object().into_iter().flatten() {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let value = expand(&text, &scope);
                scope.insert(k.clone(), value.clone());
                env.insert(k.clone(), value);
            }
        }
        env.extend(visible);
        env
    }

    /// Runs job `name` of the template in `pipeline`, in a fresh copy of the repository, in
    /// the prebuilt image (tokenops on PATH).
    pub fn run(&self, pipeline: Pipeline, name: &str) -> Job {
        self.run_in(pipeline, name, &Runner::default())
    }

    /// Like [`Project::run`], on `runner`.
    pub fn run_in(&self, pipeline: Pipeline, name: &str, runner: &Runner) -> Job {
        let job = self.job_definition(name);
        let dir = tempfile::tempdir().expect("job dir");
        crate::scenario::copy_tree(self.repo.path(), dir.path());
        let token = self
            .sandbox
            .issue_ci_job_token("gitlab.com", PROJECT, &self.user);
        let env = self.environment(&job, name, pipeline, dir.path(), &token);
        // The runner restores the job's cache (by its expanded key) before the job.
        let cache = runner.cache.as_ref().map(|root| {
            let key = expand(job["cache"]["key"].as_str().expect("cache key"), &env);
            let paths: Vec<String> = job["cache"]["paths"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(|p| p.trim_end_matches('/').to_string()))
                .collect();
            (root.join(key), paths)
        });
        if let Some((stored, paths)) = &cache {
            for path in paths {
                if stored.join(path).is_dir() {
                    crate::scenario::copy_tree(&stored.join(path), &dir.path().join(path));
                }
            }
        }
        let mut script = String::from("set -eo pipefail\n");
        for key in ["before_script", "script"] {
            for line in job.get(key).and_then(Value::as_array).into_iter().flatten() {
                script.push_str(line.as_str().expect("script line"));
                script.push('\n');
            }
        }
        let image_bin = match &runner.rust_image {
            Some(cargo_dir) => cargo_dir.clone(),
            None => assert_cmd::cargo::cargo_bin("tokenops")
                .parent()
                .expect("bin dir")
                .to_path_buf(),
        };
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", image_bin.display());
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env_clear()
            .envs(&env)
            .env("PATH", path)
            .current_dir(dir.path())
            .output()
            .expect("bash runs the job");
        self.sandbox.finish_ci_job("gitlab.com", &token);
        // ... and saves it after.
        if let Some((stored, paths)) = &cache {
            for path in paths {
                if dir.path().join(path).is_dir() {
                    crate::scenario::copy_tree(&dir.path().join(path), &stored.join(path));
                }
            }
        }
        let log = format!(
            "$ {name} ({pipeline:?})\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let job = Job {
            code: out.status.code(),
            log,
            dir,
        };
        if std::env::var_os("TOKENOPS_TEST_SHOW_JOBS").is_some() {
            eprintln!("{}", job.log);
        }
        self.assert_no_secret_in(&format!("{name} log"), &job.log);
        for artifact in artifact_paths(&self.job_definition(name)) {
            if let Ok(text) = std::fs::read_to_string(job.dir.path().join(&artifact)) {
                self.assert_no_secret_in(&format!("{name} artifact {}", artifact.display()), &text);
            }
        }
        job
    }

    /// Panics if `text` holds a value the sandbox issued.
    pub fn assert_no_secret_in(&self, what: &str, text: &str) {
        for value in self.sandbox.issued_values() {
            assert!(
                !text.contains(value.expose_secret()),
                "{what} holds a value the sandbox issued"
            );
        }
    }

    /// The ledger document in the project's Terraform state (empty when never written) and
    /// whether its lock is held.
    pub fn state(&self) -> (String, bool) {
        self.sandbox.with_state(|w| {
            let gl = &w.gitlab["gitlab.com"];
            let id = gl.project(PROJECT).expect("project").id;
            gl.tf_states
                .get(&(id, "tokenops".to_string()))
                .map(|s| {
                    (
                        s.data
                            .as_ref()
                            .map(|d| String::from_utf8_lossy(d).into_owned())
                            .unwrap_or_default(),
                        s.lock.is_some(),
                    )
                })
                .unwrap_or_default()
        })
    }
}

/// The paths a job keeps as artifacts (reports included).
fn artifact_paths(job: &serde_json::Map<String, Value>) -> Vec<PathBuf> {
    let artifacts = &job.get("artifacts").cloned().unwrap_or(Value::Null);
    let mut out: Vec<PathBuf> = artifacts["paths"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(PathBuf::from))
        .collect();
    for (_, path) in artifacts["reports"].as_object().into_iter().flatten() {
        if let Some(p) = path.as_str() {
            out.push(PathBuf::from(p));
        }
    }
    out
}

/// `$NAME` and `${NAME}` replaced from `scope`; a reference to an undefined variable is kept
/// as written, as GitLab keeps it.
pub fn expand(text: &str, scope: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match scope.get(name).filter(|_| !name.is_empty()) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[i..i + 1 + len]),
        }
        rest = &rest[i + 1 + len..];
    }
    out.push_str(rest);
    out
}

fn deep_merge(into: &mut serde_json::Map<String, Value>, from: &serde_json::Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => deep_merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

pub use crate::scenario::shipped_manifests;

#[test]
fn references_expand_like_gitlab() {
    let scope: BTreeMap<String, String> = [("A".to_string(), "x".to_string())].into();
    assert_eq!(expand("$A", &scope), "x");
    assert_eq!(expand("${A}-$A.y", &scope), "x-x.y");
    assert_eq!(expand("$UNDEFINED", &scope), "$UNDEFINED");
    assert_eq!(expand("plain", &scope), "plain");
}
