//! A stateful simulator of the GitLab and Zendesk endpoints tokenops uses, served with axum
//! on one loopback listener. Each simulated instance lives under its own base URL
//! (`http://127.0.0.1:PORT/gitlab/<name>`, `http://127.0.0.1:PORT/zendesk/<name>`), to which
//! clients append the usual API paths. Tests, `tokenops sandbox` and `tokenops demo` use it.
//!
//! The sandbox keeps its own clock ([`Clock`]), injects faults per route ([`Faults`]), logs
//! and counts every request ([`RequestStats`]) and remembers every secret value it issued.

// Handlers short-circuit with ready-made responses (`Result<_, Response>`); the error path is
// the common, cheap case here, so the size of `Response` does not matter.
#![allow(clippy::result_large_err)]

mod clock;
mod control;
mod faults;
mod gitlab;
mod http;
mod pagination;
mod requests;
mod seed;
mod server;
pub mod state;
mod zendesk;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use secrecy::SecretString;

pub use clock::Clock;
pub use faults::{FaultSpec, Faults};
pub use requests::{LoggedRequest, RequestStats};
pub use seed::{Seed, SeedError};
pub use state::World;

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listen address is not a loopback address.
    #[error(
        "refusing to listen on {0}: the sandbox only binds to loopback; use 127.0.0.1:PORT or [::1]:PORT"
    )]
    NotLoopback(SocketAddr),
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}; pick another port or use port 0 for any free one")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The seed is inconsistent.
    #[error(transparent)]
    Seed(#[from] SeedError),
}

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where to listen; must be loopback. Port 0 picks any free port.
    pub listen: SocketAddr,
    /// The sandbox clock's start (a seed's `now` takes precedence).
    pub now: Timestamp,
    /// Seed of every random choice (issued values, injected faults).
    pub rng_seed: u64,
}

impl SandboxOptions {
    /// Options for a sandbox whose clock starts at `now`, on 127.0.0.1 with any free port.
    pub fn at(now: Timestamp) -> Self {
        SandboxOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            now,
            rng_seed: 0x70_6b_65_6e,
        }
    }
}

/// State shared by the server and the handle.
pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub clock: Clock,
    pub faults: Faults,
    pub log: requests::RequestLog,
    pub origin: String,
    /// Seed of the random choices, kept for a reseed through the control API.
    pub rng_seed: u64,
    /// Requests per instance in the current sandbox-clock minute: `(minute, count)`.
    pub minute_use: Mutex<std::collections::BTreeMap<String, (i64, u32)>>,
}

impl Shared {
    /// Counts one request to `instance` and returns how many it had this sandbox minute.
    pub(crate) fn count_minute(&self, instance: &str, now: Timestamp) -> u32 {
        let minute = now.as_second().div_euclid(60);
        let mut use_ = self.minute_use.lock().expect("minute counter lock");
        let entry = use_.entry(instance.to_string()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1
    }
}

/// The simulator.
pub struct Sandbox;

impl Sandbox {
    /// Loads `seed`, binds the listener and serves until [`SandboxHandle::shutdown`] (or the
    /// handle is dropped).
    pub async fn start(seed: Seed, options: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        if !options.listen.ip().is_loopback() {
            return Err(SandboxError::NotLoopback(options.listen));
        }
        let now = seed.now().unwrap_or(options.now);
        let mut world = World::new(options.rng_seed);
        seed.load(&mut world, now)?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: options.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: options.listen,
            source,
        })?;
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            clock: Clock::new(now),
            faults: Faults::new(options.rng_seed),
            log: requests::RequestLog::default(),
            origin: format!("http://{addr}"),
            rng_seed: options.rng_seed,
            minute_use: Mutex::default(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, shared.clone(), stopped));
        Ok(SandboxHandle {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SandboxHandle {
    /// The listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of GitLab instance `name` (append `/api/v4/...`).
    ///
    /// # Panics
    /// When the seed has no GitLab instance of that name.
    pub fn gitlab_url(&self, name: &str) -> String {
        assert!(
            self.with_state(|w| w.gitlab.contains_key(name)),
            "the sandbox seed has no GitLab instance named {name:?}"
        );
        format!("{}/gitlab/{name}", self.shared.origin)
    }

    /// Base URL of Zendesk instance `name` (append `/api/v2/...` or `/oauth/tokens`).
    ///
    /// # Panics
    /// When the seed has no Zendesk instance of that name.
    pub fn zendesk_url(&self, name: &str) -> String {
        assert!(
            self.with_state(|w| w.zendesk.contains_key(name)),
            "the sandbox seed has no Zendesk instance named {name:?}"
        );
        format!("{}/zendesk/{name}", self.shared.origin)
    }

    /// The admin personal access token of GitLab instance `name`.
    ///
    /// # Panics
    /// When there is no such instance, or its seed names no admin user.
    pub fn gitlab_admin_token(&self, name: &str) -> SecretString {
        self.with_state(|w| {
            let value = w
                .gitlab
                .get(name)
                .and_then(|g| g.admin_token.clone())
                .unwrap_or_else(|| panic!("the sandbox seed has no GitLab admin for {name:?}"));
            SecretString::from(value.reveal().to_string())
        })
    }

    /// The admin OAuth token of Zendesk instance `name` (send as `Authorization: Bearer`).
    ///
    /// # Panics
    /// When there is no such instance, or its seed names no admin user.
    pub fn zendesk_admin_token(&self, name: &str) -> SecretString {
        self.with_state(|w| {
            let value = w
                .zendesk
                .get(name)
                .and_then(|z| z.admin_token.clone())
                .unwrap_or_else(|| panic!("the sandbox seed has no Zendesk admin for {name:?}"));
            SecretString::from(value.reveal().to_string())
        })
    }

    /// The numeric id of project `path` on GitLab instance `name` (`CI_PROJECT_ID`).
    ///
    /// # Panics
    /// When there is no such instance or project.
    pub fn gitlab_project_id(&self, name: &str, path: &str) -> u64 {
        self.with_state(|w| {
            w.gitlab
                .get(name)
                .and_then(|g| g.project(path))
                .map(|p| p.id)
                .unwrap_or_else(|| panic!("the sandbox has no project {path:?} on {name:?}"))
        })
    }

    /// Starts a CI/CD job in `project` (full path) on GitLab instance `name`, run by
    /// `username`, and returns its `CI_JOB_TOKEN`. As on GitLab, the Terraform-state routes of
    /// that project accept it as HTTP basic auth with the user `gitlab-ci-token`, with the
    /// user's role there, until [`SandboxHandle::finish_ci_job`]; every other route refuses it.
    ///
    /// # Panics
    /// When there is no such instance, project or user.
    pub fn issue_ci_job_token(&self, name: &str, project: &str, username: &str) -> SecretString {
        self.with_state(|w| {
            let gl = w
                .gitlab
                .get_mut(name)
                .unwrap_or_else(|| panic!("the sandbox has no GitLab instance {name:?}"));
            let project = gl
                .project(project)
                .map(|p| p.id)
                .unwrap_or_else(|| panic!("the sandbox has no project {project:?}"));
            let user = gl
                .user_by_name(username)
                .map(|u| u.id)
                .unwrap_or_else(|| panic!("the sandbox has no user {username:?}"));
            let value = gl.start_job(&mut w.issuer, project, user);
            SecretString::from(value.reveal().to_string())
        })
    }

    /// Ends the job whose token is `token`: the token stops working, as GitLab's does.
    pub fn finish_ci_job(&self, name: &str, token: &SecretString) {
        use secrecy::ExposeSecret;
        self.with_state(|w| {
            if let Some(job) = w.gitlab.get_mut(name).and_then(|g| {
                g.job_tokens
                    .get_mut(&state::Value::from_request(token.expose_secret()))
            }) {
                job.running = false;
            }
        })
    }

    /// A new personal access token of `username` on GitLab instance `name` with `scopes`
    /// (for example a `read_api` token, which every write route refuses with 403), valid for
    /// a year from the sandbox clock.
    ///
    /// # Panics
    /// When there is no such instance or user.
    pub fn issue_gitlab_token(&self, name: &str, username: &str, scopes: &[&str]) -> SecretString {
        let now = self.clock().now();
        self.with_state(|w| {
            let gl = w
                .gitlab
                .get_mut(name)
                .unwrap_or_else(|| panic!("the sandbox has no GitLab instance {name:?}"));
            let user = gl
                .user_by_name(username)
                .map(|u| u.id)
                .unwrap_or_else(|| panic!("the sandbox has no user {username:?}"));
            let expires = state::utc_date(now)
                .checked_add(jiff::Span::new().days(365))
                .ok();
            let id = gl.create_token(
                &mut w.issuer,
                state::gitlab::TokenOwner::Personal,
                user,
                &format!("sandbox-{}", scopes.join("-")),
                Some("issued by the sandbox".into()),
                scopes.iter().map(|s| s.to_string()).collect(),
                None,
                expires,
                now,
            );
            SecretString::from(gl.tokens[&id].value.reveal().to_string())
        })
    }

    /// A new OAuth access token of Zendesk instance `name`'s admin with `scopes` (for example
    /// `["read"]`: a read-scoped credential, which every write is refused with 403).
    ///
    /// # Panics
    /// When there is no such instance, or its seed names no admin.
    pub fn issue_zendesk_token(&self, name: &str, scopes: &[&str]) -> SecretString {
        let now = self.clock().now();
        self.with_state(|w| {
            let zd = w
                .zendesk
                .get_mut(name)
                .unwrap_or_else(|| panic!("the sandbox has no Zendesk instance {name:?}"));
            let admin = zd
                .admin_token
                .clone()
                .and_then(|v| zd.oauth_by_value(v.reveal()).map(|t| t.user_id))
                .unwrap_or_else(|| panic!("the sandbox seed has no Zendesk admin for {name:?}"));
            let id = zd.mint_oauth_token(
                &mut w.issuer,
                0,
                admin,
                scopes.iter().map(|s| s.to_string()).collect(),
                None,
                None,
                now,
            );
            SecretString::from(zd.oauth_tokens[&id].value.reveal().to_string())
        })
    }

    /// Every instance with its base URL and admin credential, and the control API's URL,
    /// as `tokenops sandbox` prints it: `{"gitlab":{NAME:{"url":…,"token":…}},
    /// "zendesk":{NAME:{"url":…,"token":…}},"control":"http://…/_sandbox"}`.
    pub fn describe(&self) -> serde_json::Value {
        control::describe(&self.shared)
    }

    /// The control API's base URL (see the README's sandbox section).
    pub fn control_url(&self) -> String {
        format!("{}/{}", self.shared.origin, control::PREFIX)
    }

    /// The sandbox clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The fault rules.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// A snapshot of the request log and counters.
    pub fn requests(&self) -> RequestStats {
        self.shared.log.snapshot()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.log.clear()
    }

    /// Every secret value the sandbox ever issued (seeded ones included), oldest first.
    pub fn issued_values(&self) -> Vec<SecretString> {
        self.with_state(|w| {
            w.issuer
                .issued()
                .iter()
                .map(|v| SecretString::from(v.reveal().to_string()))
                .collect()
        })
    }

    /// Runs `f` on the simulated platforms' state (read or change it directly).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self.shared.world.lock().expect("sandbox state lock");
        f(&mut world)
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
