//! The sandbox: every documented behaviour it models, each through HTTP against a sandbox
//! started on 127.0.0.1 inside the test, plus the `tokenops sandbox` command.

mod cli;
mod faults;
mod gitlab_hooks;
mod gitlab_misc;
mod gitlab_rotation;
mod gitlab_tokens;
mod gitlab_variables;
mod seed;
mod terraform;
mod zendesk;
mod zendesk_oauth;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value as Json;
use tokenops::sandbox::{Sandbox, SandboxHandle, SandboxOptions, Seed};

/// The sandbox clock's start in these tests.
pub const NOW: &str = crate::harness::SANDBOX_NOW;

/// A running sandbox and an HTTP client.
pub struct Env {
    pub sb: SandboxHandle,
    pub http: reqwest::Client,
}

/// An answer: status, headers and body (JSON, or a JSON string for text, Null when empty).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Json,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Env {
    /// A sandbox with the default (demo) seed, clock at [`NOW`].
    pub async fn demo() -> Env {
        let sb = crate::harness::demo_sandbox().await;
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Env { sb, http }
    }

    /// A sandbox with the given YAML seed, clock at [`NOW`].
    pub async fn with_seed(yaml: &str) -> Env {
        Env::start(Seed::from_yaml_str(yaml, "<test seed>").expect("test seed parses")).await
    }

    async fn start(seed: Seed) -> Env {
        let sb = Sandbox::start(seed, SandboxOptions::at(NOW.parse().unwrap()))
            .await
            .expect("sandbox starts");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Env { sb, http }
    }

    /// The admin token of `gitlab.com`.
    pub fn admin(&self) -> String {
        self.sb
            .gitlab_admin_token("gitlab.com")
            .expose_secret()
            .to_string()
    }

    /// The admin token of a Zendesk instance.
    pub fn zd_admin(&self, name: &str) -> String {
        self.sb
            .zendesk_admin_token(name)
            .expose_secret()
            .to_string()
    }

    /// The current value of the newest active GitLab token named `name`.
    pub fn token_value(&self, name: &str) -> String {
        self.sb.with_state(|w| {
            let gl = &w.gitlab["gitlab.com"];
            gl.tokens
                .values()
                .filter(|t| t.name == name && !t.revoked)
                .max_by_key(|t| t.id)
                .map(|t| t.value.reveal().to_string())
                .unwrap_or_else(|| panic!("no live token named {name}"))
        })
    }

    /// The id of the newest token named `name`.
    pub fn token_id(&self, name: &str) -> u64 {
        self.sb.with_state(|w| {
            w.gitlab["gitlab.com"]
                .tokens
                .values()
                .filter(|t| t.name == name)
                .map(|t| t.id)
                .max()
                .unwrap_or_else(|| panic!("no token named {name}"))
        })
    }

    /// A request to `gitlab.com` (`path` below `/api/v4`) with `PRIVATE-TOKEN`.
    pub async fn gl(&self, method: Method, token: &str, path: &str, body: Option<Json>) -> Answer {
        let url = format!("{}/api/v4{path}", self.sb.gitlab_url("gitlab.com"));
        let mut req = self.http.request(method, url);
        if !token.is_empty() {
            req = req.header("PRIVATE-TOKEN", token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.expect("request reaches the sandbox")).await
    }

    /// A request to a Zendesk instance (`path` below its base URL) with a bearer token.
    pub async fn zd(
        &self,
        inst: &str,
        method: Method,
        token: &str,
        path: &str,
        body: Option<Json>,
    ) -> Answer {
        let url = format!("{}{path}", self.sb.zendesk_url(inst));
        let mut req = self.http.request(method, url);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.expect("request reaches the sandbox")).await
    }
}

/// Reads a response into an [`Answer`].
pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Json::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Json::String(text))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// URL-encodes a project or group path for a path segment.
pub fn enc(path: &str) -> String {
    path.replace('/', "%2F")
}
