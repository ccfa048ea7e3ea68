//! Raw HTTP against a scenario's sandbox, for the tests of the sandbox itself: requests to a
//! GitLab or Zendesk instance with a chosen credential, answers read into [`Answer`]. The
//! calls are async (await them in a `#[tokio::test]`, or use [`Scenario::block_on`]).

use reqwest::Method;
use serde_json::Value as Json;

use super::Scenario;

/// An answer: status, headers and body (JSON, or a JSON string for text, Null when empty).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Json,
}

impl Answer {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Reads a response.
    pub async fn read(resp: reqwest::Response) -> Answer {
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
}

impl Scenario {
    /// A request to `gitlab.com` (`path` below `/api/v4`) with `PRIVATE-TOKEN` (none when
    /// `token` is empty).
    pub async fn gl(&self, method: Method, token: &str, path: &str, body: Option<Json>) -> Answer {
        let url = format!("{}/api/v4{path}", self.sandbox.gitlab_url("gitlab.com"));
        let mut req = self.http.request(method, url);
        if !token.is_empty() {
            req = req.header("PRIVATE-TOKEN", token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    /// A request to Zendesk instance `inst` (`path` below its base URL) with a bearer token
    /// (none when `token` is empty).
    pub async fn zd(
        &self,
        inst: &str,
        method: Method,
        token: &str,
        path: &str,
        body: Option<Json>,
    ) -> Answer {
        let url = format!("{}{path}", self.sandbox.zendesk_url(inst));
        let mut req = self.http.request(method, url);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    /// Sends a request built on [`Scenario::http`] and reads the answer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        Answer::read(req.send().await.expect("request reaches the sandbox")).await
    }

    /// The current value of the newest live GitLab token named `name`.
    pub fn token_value(&self, name: &str) -> String {
        self.with_gitlab(|gl| {
            gl.tokens
                .values()
                .filter(|t| t.name == name && !t.revoked)
                .max_by_key(|t| t.id)
                .map(|t| t.value.reveal().to_string())
                .unwrap_or_else(|| panic!("no live token named {name}"))
        })
    }

    /// The id of the newest GitLab token named `name`.
    pub fn token_id(&self, name: &str) -> u64 {
        self.with_gitlab(|gl| {
            gl.tokens
                .values()
                .filter(|t| t.name == name)
                .map(|t| t.id)
                .max()
                .unwrap_or_else(|| panic!("no token named {name}"))
        })
    }
}

/// URL-encodes a project or group path for a path segment.
pub fn enc(path: &str) -> String {
    path.replace('/', "%2F")
}
