//! The one test scenario builder every integration test that talks to the sandbox uses: a
//! sandbox on 127.0.0.1 started from a seed at one sub-second clock start, a project
//! directory with a `tokenops.yaml` written from the typed config and the manifests, and the
//! `tokenops` binary wired to every sandbox instance through the same overrides. Every run
//! goes through [`Run::expect`], which checks the exit code and scans stdout, stderr and the
//! files the test reads for every secret the sandbox issued or holds. The one secret tokenops
//! prints on purpose, the age identity `tokenops init` shows once on stdout, is expected
//! there exactly once and is a leak anywhere else, then and later (files included).
//!
//! ```ignore
//! use crate::scenario::{Exit, Scenario};
//!
//! let sc = Scenario::gitlab_example().start();          // demo seed, GitLab-only manifest
//! let plan = sc.run(&["plan", "--detailed-exitcode"], 2); // exit code + leak check
//! assert!(plan.stdout.contains("ops-group-triage"));
//! sc.cmd(&["apply", "--auto-approve"])
//!     .env("TOKENOPS_TEST_CRASH_AT", "bridge-hook-secret:staged")
//!     .expect(Exit::Killed);
//! let ledger = sc.ledger();                               // leak-checked too
//! sc.with_gitlab(|g| assert!(!g.tokens.is_empty()));
//! let me = sc.block_on(sc.gl(Method::GET, &sc.admin(), "/user", None)); // raw HTTP
//! ```
//!
//! Builders: [`Scenario::demo`] (default seed, every seeded instance in the config),
//! [`Scenario::seeded`] (a YAML seed), [`Scenario::example`] (the shipped tokenops.yaml and
//! manifests, escrow on), [`Scenario::gitlab_example`] (the GitLab part of them). Then
//! `.manifest(..)`, `.edit_manifest(..)`, `.config(|c| ..)` (the typed
//! `tokenops::manifest::Config`), `.check(..)`, `.escrow(..)`, `.http_state(..)`, and
//! `.start()`. In a `#[tokio::test]`, start it the same way and await `gl`/`zd`/`send`.

#![allow(dead_code)]

mod leak;
mod raw;
mod run;

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use tokenops::manifest::{CheckSettings, Config, GitlabInstance, LedgerSettings, ZendeskInstance};
use tokenops::sandbox::{Sandbox, SandboxHandle, SandboxOptions, Seed};

pub use raw::{Answer, enc};
pub use run::{CI_VARIABLES, Exit, Output, plain_command};

/// The sandbox clock's start in every scenario. Sub-second on purpose: the platforms'
/// whole-second timestamps then differ from tokenops's own.
pub const NOW: &str = "2026-11-28T09:00:00.600Z";

/// The GitLab project whose Terraform state holds the ledger on the `http` backend in the
/// demo seed.
pub const STATE_PROJECT: &str = "support/ops/tokenops";

/// The GitLab part of the demo manifests: the tokens whose consumers all live on GitLab.
pub const GITLAB_MANIFEST: &str = include_str!("gitlab_manifest.yaml");

/// Where the ledger is kept.
#[derive(Debug, Clone)]
pub enum State {
    /// `.tokenops/state.json` in the project directory.
    Local,
    /// The Terraform state `tokenops` of this project on the sandbox's `gitlab.com`.
    Http(String),
}

/// A change to the typed config, applied at start.
type ConfigEdit = Box<dyn FnOnce(&mut Config)>;

/// A scenario being described; [`ScenarioBuilder::start`] makes it real.
pub struct ScenarioBuilder {
    seed: Seed,
    now: jiff::Timestamp,
    /// Applied in order at start to a config declaring every seeded instance.
    edits: Vec<ConfigEdit>,
    escrow: bool,
    state: State,
    manifests: Vec<(String, String)>,
}

/// A running scenario: the sandbox, the project directory, the escrow identity.
pub struct Scenario {
    /// Serves the sandbox in the background; tests stay synchronous (or async: see
    /// [`Scenario::block_on`]).
    rt: Option<tokio::runtime::Runtime>,
    /// The running sandbox.
    pub sandbox: SandboxHandle,
    /// The project directory (`tokenops.yaml`, `manifests/`, `.tokenops/`).
    pub dir: tempfile::TempDir,
    /// The config written to `tokenops.yaml`.
    pub config: Config,
    /// An HTTP client for raw calls against the sandbox.
    pub http: reqwest::Client,
    identity: secrecy::SecretString,
    recipient: String,
    /// Every text checked for leaks, checked again against the final state when the
    /// scenario ends (a value may reach the sandbox only after an output showed it).
    checked: std::sync::Mutex<Vec<(String, String)>>,
    /// Secrets tokenops printed on purpose (the identity of `tokenops init`): leaks in every
    /// other output and file.
    printed_on_purpose: std::sync::Mutex<Vec<String>>,
}

impl Scenario {
    /// The default (demo) seed; every seeded instance declared in the config, no escrow key,
    /// no manifest.
    pub fn demo() -> ScenarioBuilder {
        ScenarioBuilder::new(Seed::default_demo())
    }

    /// A seed given as YAML (see `src/sandbox/seed/default.yaml` for the format).
    pub fn seeded(yaml: &str) -> ScenarioBuilder {
        ScenarioBuilder::new(Seed::from_yaml_str(yaml, "<test seed>").expect("test seed parses"))
    }

    /// The shipped example: `tokenops.yaml` (its escrow recipient replaced by the
    /// scenario's) and every manifest under `manifests/`, against the demo seed.
    pub fn example() -> ScenarioBuilder {
        let root = repo_root();
        let text = std::fs::read_to_string(root.join("tokenops.yaml")).expect("tokenops.yaml");
        let mut config: Config =
            tokenops::yaml::from_str(&text, "tokenops.yaml").expect("the shipped config parses");
        // The shipped config keeps the ledger in GitLab's Terraform state; scenarios choose
        // theirs with `.state(..)` (a local file unless told otherwise).
        config.state = LedgerSettings::default();
        let mut builder = Scenario::demo().config(|c| *c = config).escrow(true);
        for (path, text) in shipped_manifests() {
            builder = builder.manifest(&path, &text);
        }
        builder
    }

    /// The GitLab part of the example ([`GITLAB_MANIFEST`] as `manifests/gitlab.yaml`), only
    /// `gitlab.com` declared, with an escrow key.
    pub fn gitlab_example() -> ScenarioBuilder {
        Scenario::demo()
            .config(|c| c.zendesk.clear())
            .escrow(true)
            .manifest("gitlab.yaml", GITLAB_MANIFEST)
    }
}

impl ScenarioBuilder {
    fn new(seed: Seed) -> Self {
        ScenarioBuilder {
            seed,
            now: NOW.parse().expect("NOW is a timestamp"),
            edits: Vec::new(),
            escrow: false,
            state: State::Local,
            manifests: Vec::new(),
        }
    }

    /// Starts the sandbox clock at `now` instead of [`NOW`] (a seed's own `now` still wins).
    /// Only for a snapshot recorded at another instant; everything else shares [`NOW`].
    pub fn at(mut self, now: &str) -> Self {
        self.now = now.parse().expect("an RFC 3339 timestamp");
        self
    }

    /// Writes `text` to `manifests/<path>`.
    pub fn manifest(mut self, path: &str, text: &str) -> Self {
        self.manifests.retain(|(p, _)| p != path);
        self.manifests.push((path.to_string(), text.to_string()));
        self
    }

    /// Replaces the first `from` in manifest `path` by `to`; panics when `from` is absent,
    /// so a changed example cannot silently turn the edit into a no-op.
    pub fn edit_manifest(mut self, path: &str, from: &str, to: &str) -> Self {
        let entry = self
            .manifests
            .iter_mut()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no manifest {path} in the scenario"));
        assert!(entry.1.contains(from), "{path} does not contain {from:?}");
        entry.1 = entry.1.replacen(from, to, 1);
        self
    }

    /// Changes the typed config.
    pub fn config(mut self, edit: impl FnOnce(&mut Config) + 'static) -> Self {
        self.edits.push(Box::new(edit));
        self
    }

    /// Sets the `check:` section.
    pub fn check(self, check: CheckSettings) -> Self {
        self.config(move |c| c.check = check)
    }

    /// With (`true`) or without an `escrow:` section naming the scenario's recipient.
    pub fn escrow(mut self, on: bool) -> Self {
        self.escrow = on;
        self
    }

    /// Zendesk `global` signs in with an OAuth client whose identifier and secret are in
    /// `ZD_CLIENT_ID` and `ZD_CLIENT_SECRET` (client-credentials grant), not a static token.
    /// Runs still get the `_TOKEN` override, which comes first: remove it to sign in so.
    pub fn global_signs_in_with_a_client(self) -> Self {
        self.config(|c| {
            let z = c
                .zendesk
                .iter_mut()
                .find(|z| z.name == "global")
                .expect("global");
            z.oauth_token_env = None;
            z.client_id_env = Some("ZD_CLIENT_ID".into());
            z.client_secret_env = Some("ZD_CLIENT_SECRET".into());
        })
    }

    /// Keeps the ledger in the Terraform state `tokenops` of `project` on `gitlab.com`.
    pub fn http_state(self, project: &str) -> Self {
        self.state(State::Http(project.to_string()))
    }

    /// Keeps the ledger where `state` says.
    pub fn state(mut self, state: State) -> Self {
        self.state = state;
        self
    }

    /// Starts the sandbox and writes the project directory.
    pub fn start(self) -> Scenario {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (seed, now) = (self.seed, self.now);
        // A thread of its own, so a scenario can start inside an async test too.
        let sandbox = std::thread::scope(|s| {
            s.spawn(|| rt.block_on(Sandbox::start(seed, SandboxOptions::at(now))))
                .join()
                .expect("sandbox start")
        })
        .expect("sandbox starts");
        let (identity, recipient) = tokenops::ops::apply::escrow::generate_identity();
        let described = sandbox.describe();
        let names = |platform: &str| -> Vec<String> {
            described[platform]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut config = Config {
            gitlab: names("gitlab").iter().map(|n| gitlab_instance(n)).collect(),
            zendesk: names("zendesk")
                .iter()
                .map(|n| zendesk_instance(n))
                .collect(),
            ..Config::default()
        };
        for edit in self.edits {
            edit(&mut config);
        }
        config.escrow = match (self.escrow, config.escrow.take()) {
            (false, _) => None,
            (true, Some(mut e)) => {
                e.recipient = recipient.clone();
                Some(e)
            }
            (true, None) => Some(tokenops::manifest::EscrowSettings {
                recipient: recipient.clone(),
                identity_env: "TOKENOPS_ESCROW_IDENTITY".into(),
            }),
        };
        if let State::Http(project) = &self.state {
            config.state = LedgerSettings::Http {
                address: format!(
                    "{}/api/v4/projects/{}/terraform/state/tokenops",
                    sandbox.gitlab_url("gitlab.com"),
                    enc(project)
                ),
                lock_address: None,
                username_env: None,
                password_env: None,
            };
        }
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in &self.manifests {
            write_file(dir.path(), &format!("manifests/{path}"), text);
        }
        // The example's vault scripts, run by its `command` consumer (with a stand-in vault
        // in `.vault/`: see `Run`).
        for name in ["vault-put", "vault-check"] {
            use std::os::unix::fs::PermissionsExt;
            let text = std::fs::read_to_string(repo_root().join("scripts").join(name))
                .expect("shipped script");
            let path = write_file(dir.path(), &format!("scripts/{name}"), &text);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let scenario = Scenario {
            rt: Some(rt),
            sandbox,
            dir,
            config,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            identity,
            recipient,
            checked: std::sync::Mutex::default(),
            printed_on_purpose: std::sync::Mutex::default(),
        };
        scenario.write_config();
        scenario
    }
}

/// Owned strings for the list fields of the typed config.
pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A GitLab instance entry; the sandbox overrides its URL and token.
pub fn gitlab_instance(name: &str) -> GitlabInstance {
    GitlabInstance {
        name: name.into(),
        url: format!("https://{name}"),
        token_env: "GITLAB_TOKEN".into(),
        read_token_env: None,
    }
}

/// A Zendesk instance entry (OAuth); the sandbox overrides its URL and token.
pub fn zendesk_instance(name: &str) -> ZendeskInstance {
    ZendeskInstance {
        name: name.into(),
        display_name: None,
        url: format!("https://{name}.zendesk.com"),
        client_id_env: None,
        client_secret_env: None,
        oauth_token_env: Some(format!(
            "ZENDESK_{}_OAUTH_TOKEN",
            name.to_ascii_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        )),
        email_env: None,
        api_token_env: None,
        read_oauth_token_env: None,
    }
}

impl Scenario {
    /// The project directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrites `tokenops.yaml` after changing the typed config.
    pub fn set_config(&mut self, edit: impl FnOnce(&mut Config)) {
        edit(&mut self.config);
        self.write_config();
    }

    fn write_config(&self) {
        // JSON is YAML: the typed config written as is, no text surgery.
        let text = serde_json::to_string_pretty(&self.config).expect("config serializes");
        write_file(self.path(), "tokenops.yaml", &text);
    }

    /// Writes `text` to `relative` in the project directory.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        write_file(self.path(), relative, text)
    }

    /// The escrow recipient (public) the config names when escrow is on.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// Runs `future` on the scenario's runtime (from a synchronous test).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.rt.as_ref().expect("runtime").block_on(future)
    }

    /// Reads or changes the sandbox's `gitlab.com` instance directly.
    pub fn with_gitlab<R>(&self, f: impl FnOnce(&mut tokenops::sandbox::state::GitLab) -> R) -> R {
        self.sandbox.with_state(|w| {
            f(w.gitlab
                .get_mut("gitlab.com")
                .expect("gitlab.com is seeded"))
        })
    }

    /// Reads or changes the sandbox's Zendesk instance `name` directly.
    pub fn with_zendesk<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut tokenops::sandbox::state::zendesk::Zendesk) -> R,
    ) -> R {
        self.sandbox.with_state(|w| {
            f(w.zendesk
                .get_mut(name)
                .unwrap_or_else(|| panic!("Zendesk {name} is seeded")))
        })
    }

    /// The sandbox's current time.
    pub fn now(&self) -> jiff::Timestamp {
        self.sandbox.clock().now()
    }

    /// A snapshot of the sandbox's request log.
    pub fn requests(&self) -> tokenops::sandbox::RequestStats {
        self.sandbox.requests()
    }

    /// The sandbox's fault rules.
    pub fn faults(&self) -> &tokenops::sandbox::Faults {
        self.sandbox.faults()
    }

    /// The admin token of `gitlab.com`.
    pub fn admin(&self) -> String {
        self.sandbox
            .gitlab_admin_token("gitlab.com")
            .expose_secret()
            .to_string()
    }

    /// The admin token of Zendesk instance `name`.
    pub fn zd_admin(&self, name: &str) -> String {
        self.sandbox
            .zendesk_admin_token(name)
            .expose_secret()
            .to_string()
    }

    /// The local ledger's text ("" when absent), checked for leaks.
    pub fn ledger(&self) -> String {
        let text =
            std::fs::read_to_string(self.path().join(".tokenops/state.json")).unwrap_or_default();
        self.assert_no_secret_in("the ledger", &text);
        text
    }

    /// The ledger as the Terraform state of [`STATE_PROJECT`] holds it ("" when absent),
    /// checked for leaks.
    pub fn http_ledger(&self) -> String {
        let text = self.with_gitlab(|gl| {
            let project = gl
                .projects
                .values()
                .find(|p| p.path_with_namespace == STATE_PROJECT)
                .expect("state project")
                .id;
            gl.tf_states
                .get(&(project, "tokenops".to_string()))
                .and_then(|s| s.data.clone())
                .map(|d| String::from_utf8_lossy(&d).to_string())
                .unwrap_or_default()
        });
        self.assert_no_secret_in("the http ledger", &text);
        text
    }

    /// A file of the project directory, checked for leaks.
    pub fn read(&self, relative: &str) -> String {
        let text = std::fs::read_to_string(self.path().join(relative))
            .unwrap_or_else(|e| panic!("read {relative}: {e}"));
        self.assert_no_secret_in(relative, &text);
        text
    }

    /// The scenario's snapshot filters (see [`filters`]).
    pub fn filters(&self) -> Vec<(String, String)> {
        filters(self.path())
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.recheck_at_end();
        }
        // Dropping a runtime blocks, which an async test does not allow; this never does.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The one set of snapshot filters: loopback ports, the project directory (as given and
/// canonical), any other temporary directory, and the value of any JSON `"token"` field.
pub fn filters(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    out.push((
        regex_escape(&dir.display().to_string()),
        "[TMP]".to_string(),
    ));
    if let Ok(canonical) = dir.canonicalize() {
        out.push((
            regex_escape(&canonical.display().to_string()),
            "[TMP]".to_string(),
        ));
    }
    out.push((r"/tmp/\.tmp[A-Za-z0-9]+".into(), "[TMP]".into()));
    out.push((r"127\.0\.0\.1:\d+".into(), "127.0.0.1:PORT".into()));
    out.push((r#""token":"[^"]+""#.into(), r#""token":"[VALUE]""#.into()));
    out
}

/// `insta::assert_snapshot!` with `filters` (a `Vec<(String, String)>`, see [`filters`]).
macro_rules! assert_filtered_snapshot {
    ($filters:expr, $name:expr, $text:expr) => {{
        let filters: Vec<(String, String)> = $filters;
        let filters: Vec<(&str, &str)> = filters
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        insta::with_settings!({ filters => filters }, {
            insta::assert_snapshot!($name, $text);
        });
    }};
}
pub(crate) use assert_filtered_snapshot;

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

/// The repository root (where the shipped `tokenops.yaml` and `manifests/` live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every shipped manifest: (path below `manifests/`, text), sorted.
pub fn shipped_manifests() -> Vec<(String, String)> {
    let base = repo_root().join("manifests");
    let mut files = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read manifests") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(&base)
                    .expect("below")
                    .display()
                    .to_string();
                files.push((rel, std::fs::read_to_string(&path).expect("manifest")));
            }
        }
    }
    files.sort();
    files
}

/// Writes `text` to `dir/relative`, creating parent directories.
pub fn write_file(dir: &Path, relative: &str, text: &str) -> PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
    std::fs::write(&path, text).expect("write file");
    path
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
