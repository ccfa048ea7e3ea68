//! The HTTP layer both platform clients share: `ApiClient` sends one logical request with the
//! instance's credential, under the instance's concurrency limit and request budget, applying
//! the retry policy of its `RequestClass`, and turns failures into `ApiError`s that name the
//! platform object. Base URLs are opaque prefixes (a path prefix is kept), checked by `base`.

mod base;
pub mod budget;
pub mod decode;
pub mod error;
pub mod pages;
pub mod retry;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

pub use base::{check_base_url, encode_segment};
pub use budget::{Budget, Clock, ManualClock, SystemClock};
pub use error::{ApiError, Target};
pub use retry::{Failure, RequestClass, RetryPolicy};

/// The two platforms tokenops talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// GitLab (REST v4).
    GitLab,
    /// Zendesk (REST v2 and OAuth).
    Zendesk,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::GitLab => "GitLab",
            Platform::Zendesk => "Zendesk",
        })
    }
}

/// One platform instance as resolved at the edge: its name, URL and credential.
#[derive(Clone)]
pub struct InstanceAccess {
    /// The instance name from `tokenops.yaml`.
    pub name: String,
    /// The base URL (may carry a path prefix).
    pub url: String,
    /// The credential tokenops itself authenticates with.
    pub credential: SecretString,
    /// For a legacy Zendesk API token: the email it is paired with (Basic auth). `None` means
    /// the credential is sent as a bearer token (Zendesk) or `PRIVATE-TOKEN` (GitLab).
    pub email: Option<String>,
}

impl fmt::Debug for InstanceAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceAccess")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("credential", &"[REDACTED]")
            .field("email", &self.email)
            .finish()
    }
}

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    /// GitLab's `PRIVATE-TOKEN` header.
    PrivateToken(SecretString),
    /// `Authorization: Bearer …` (Zendesk OAuth, GitLab OAuth).
    Bearer(SecretString),
    /// Zendesk legacy API token: Basic `{email}/token:{token}`.
    ZendeskApiToken {
        /// The user the token acts as.
        email: String,
        /// The API token.
        token: SecretString,
    },
    /// No credential (the OAuth grant endpoint carries its own in the body).
    None,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::PrivateToken(_) => "PrivateToken([REDACTED])",
            Auth::Bearer(_) => "Bearer([REDACTED])",
            Auth::ZendeskApiToken { .. } => "ZendeskApiToken([REDACTED])",
            Auth::None => "None",
        })
    }
}

impl Auth {
    /// The header this credential becomes, marked sensitive so it is never printed.
    fn header(&self) -> Option<(HeaderName, HeaderValue)> {
        let (name, value) = match self {
            Auth::PrivateToken(token) => (
                HeaderName::from_static("private-token"),
                Zeroizing::new(token.expose_secret().to_string()),
            ),
            Auth::Bearer(token) => (
                reqwest::header::AUTHORIZATION,
                Zeroizing::new(format!("Bearer {}", token.expose_secret())),
            ),
            Auth::ZendeskApiToken { email, token } => {
                let raw = Zeroizing::new(format!("{email}/token:{}", token.expose_secret()));
                (
                    reqwest::header::AUTHORIZATION,
                    Zeroizing::new(format!("Basic {}", base64(raw.as_bytes()))),
                )
            }
            Auth::None => return None,
        };
        let mut value = HeaderValue::from_str(&value).ok()?;
        value.set_sensitive(true);
        Some((name, value))
    }
}

/// Standard base64 with padding (only for the Basic header; not worth a dependency).
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Tunables of one client.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests allowed in any 60-second window.
    pub requests_per_minute: u32,
    /// Per-request timeout (connect to last byte).
    pub timeout: Duration,
    /// Retries after a failed attempt (5xx, timeout, connection), not counting 429 waits.
    pub max_retries: usize,
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_max: Duration,
    /// How many 429 answers a request may wait out before giving up.
    pub max_rate_limit_waits: usize,
    /// The longest `Retry-After` honoured; a longer demand fails with `RateLimited`.
    pub max_retry_after: Duration,
}

impl ClientSettings {
    /// Defaults for GitLab: 90% of GitLab.com's 2,000 authenticated requests per minute.
    pub fn gitlab() -> Self {
        ClientSettings {
            requests_per_minute: 1800,
            ..Self::common()
        }
    }

    /// Defaults for Zendesk: 90% of the common 400 requests per minute plan limit.
    pub fn zendesk() -> Self {
        ClientSettings {
            requests_per_minute: 360,
            ..Self::common()
        }
    }

    fn common() -> Self {
        ClientSettings {
            concurrency: 8,
            requests_per_minute: 360,
            timeout: Duration::from_secs(30),
            max_retries: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_rate_limit_waits: 10,
            max_retry_after: Duration::from_secs(300),
        }
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            base: self.backoff_base,
            max: self.backoff_max,
        }
    }
}

/// Where a request goes: a path under the base URL, or an absolute URL the platform handed
/// out (a pagination link), which must stay on the instance's origin.
#[derive(Debug, Clone)]
enum Location {
    Path(String),
    Absolute(String),
}

/// One logical request (sent once, or several times under the retry policy).
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: Method,
    location: Location,
    query: Vec<(String, String)>,
    body: Option<(Arc<Zeroizing<Vec<u8>>>, &'static str)>,
    class: RequestClass,
    object: String,
    auth: Option<Auth>,
    accept: Vec<u16>,
}

impl ApiRequest {
    /// A request for `path` (already percent-encoded, starting with `/`) about `object` (a
    /// human description for logs and errors). The class follows the method: GET reads,
    /// PUT/PATCH/DELETE are idempotent writes, POST is not idempotent.
    pub fn new(method: Method, path: impl Into<String>, object: impl Into<String>) -> Self {
        let class = match method {
            Method::GET | Method::HEAD => RequestClass::Read,
            Method::PUT | Method::PATCH | Method::DELETE => RequestClass::IdempotentWrite,
            _ => RequestClass::NonIdempotent,
        };
        ApiRequest {
            method,
            location: Location::Path(path.into()),
            query: Vec::new(),
            body: None,
            class,
            object: object.into(),
            auth: None,
            accept: Vec::new(),
        }
    }

    /// A GET.
    pub fn get(path: impl Into<String>, object: impl Into<String>) -> Self {
        Self::new(Method::GET, path, object)
    }
    /// A POST (not idempotent unless reclassified).
    pub fn post(path: impl Into<String>, object: impl Into<String>) -> Self {
        Self::new(Method::POST, path, object)
    }
    /// A PUT.
    pub fn put(path: impl Into<String>, object: impl Into<String>) -> Self {
        Self::new(Method::PUT, path, object)
    }
    /// A PATCH.
    pub fn patch(path: impl Into<String>, object: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path, object)
    }
    /// A DELETE.
    pub fn delete(path: impl Into<String>, object: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path, object)
    }

    /// A GET of an absolute URL given by the platform (a `next` link).
    pub fn follow(url: impl Into<String>, object: impl Into<String>) -> Self {
        let mut req = Self::get("", object);
        req.location = Location::Absolute(url.into());
        req
    }

    /// Adds a query parameter (encoded when sent; never put a secret here).
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is set.
    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// Sets a JSON body. Secrets inside go only here, never into the path or query.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.body = Some((Arc::new(Zeroizing::new(bytes)), "application/json"));
        self
    }

    /// Sets a raw body with its content type.
    pub fn raw_body(mut self, bytes: Vec<u8>, content_type: &'static str) -> Self {
        self.body = Some((Arc::new(Zeroizing::new(bytes)), content_type));
        self
    }

    /// Overrides the retry class.
    pub fn class(mut self, class: RequestClass) -> Self {
        self.class = class;
        self
    }

    /// Authenticates this request with another credential than the client's.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Treats `status` as an answer to hand back rather than an error (e.g. 409 from a
    /// Terraform state lock, whose body carries the holder).
    pub fn accept_status(mut self, status: u16) -> Self {
        self.accept.push(status);
        self
    }

    /// The human description of what this request is about.
    pub fn object(&self) -> &str {
        &self.object
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The status (2xx).
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
    target: Box<Target>,
}

impl ApiResponse {
    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|err| ApiError::Decode {
            target: self.target.clone(),
            detail: err.to_string(),
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// What the request was about.
    pub fn target(&self) -> &Target {
        &self.target
    }
}

/// The shared client for one platform instance. Cheap to clone; clones share the
/// concurrency limit and the request budget.
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    platform: Platform,
    instance: String,
    base: url::Url,
    http: reqwest::Client,
    auth: Option<(HeaderName, HeaderValue)>,
    settings: ClientSettings,
    budget: Budget,
    permits: Semaphore,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("platform", &self.inner.platform)
            .field("instance", &self.inner.instance)
            .field("base", &self.inner.base.as_str())
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Attempt {
    Answer(u16, HeaderMap, Vec<u8>),
    Failed(Failure, reqwest::Error),
}

impl ApiClient {
    /// A client for `instance` at `base_url` on the real clock. Refuses `http://` except to
    /// loopback, and TLS is always verified.
    pub fn new(
        platform: Platform,
        instance: &str,
        base_url: &str,
        auth: Auth,
        settings: ClientSettings,
    ) -> Result<Self, ApiError> {
        Self::with_clock(
            platform,
            instance,
            base_url,
            auth,
            settings,
            Arc::new(SystemClock::new()),
        )
    }

    /// Like [`ApiClient::new`], with the clock the budget and waits run on.
    pub fn with_clock(
        platform: Platform,
        instance: &str,
        base_url: &str,
        auth: Auth,
        settings: ClientSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ApiError> {
        let base = check_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tokenops/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(false)
            .build()
            .map_err(|err| ApiError::InsecureUrl {
                url: base.to_string(),
                reason: format!("the HTTP client could not be set up: {err}"),
            })?;
        Ok(ApiClient {
            inner: Arc::new(Inner {
                platform,
                instance: instance.to_string(),
                base,
                http,
                auth: auth.header(),
                budget: Budget::new(settings.requests_per_minute, clock.clone()),
                permits: Semaphore::new(settings.concurrency.max(1)),
                settings,
                clock,
            }),
        })
    }

    /// The platform.
    pub fn platform(&self) -> Platform {
        self.inner.platform
    }

    /// The instance name.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// The base URL (without a trailing slash).
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str().trim_end_matches('/')
    }

    /// The settings in force.
    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    /// The target a request with this method and object description speaks about.
    pub fn target(&self, method: &Method, object: &str) -> Target {
        Target {
            platform: self.inner.platform,
            instance: self.inner.instance.clone(),
            method: method.to_string(),
            object: object.to_string(),
        }
    }

    fn url_for(&self, req: &ApiRequest) -> Result<url::Url, ApiError> {
        let mut url = match &req.location {
            Location::Path(path) => {
                let joined = format!("{}{}", self.base_url(), path);
                url::Url::parse(&joined).map_err(|err| ApiError::InsecureUrl {
                    url: joined.clone(),
                    reason: format!("not a valid URL: {err}"),
                })?
            }
            Location::Absolute(link) => base::check_same_origin(&self.inner.base, link)?,
        };
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &req.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Sends `req` under the budget and the retry policy of its class. Any non-2xx answer
    /// becomes an `ApiError`.
    pub async fn send(&self, req: ApiRequest) -> Result<ApiResponse, ApiError> {
        let target = Box::new(self.target(&req.method, &req.object));
        let url = self.url_for(&req)?;
        let path_for_log = url.path().to_string();
        let mut delays = self.inner.settings.policy().delays();
        let mut attempts = 0usize;
        let mut rate_waits = 0usize;
        loop {
            attempts += 1;
            let attempt = self.attempt(&req, &url, &path_for_log).await;
            let failure = match attempt {
                Attempt::Answer(status, headers, body)
                    if (200..300).contains(&status) || req.accept.contains(&status) =>
                {
                    return Ok(ApiResponse {
                        status,
                        headers,
                        body,
                        target,
                    });
                }
                Attempt::Answer(429, headers, _) => {
                    // A 429 means the platform refused the request without acting on it, so
                    // sending it again is safe for every class, rotate and create included.
                    rate_waits += 1;
                    let asked = retry::rate_limit_wait(&headers, self.inner.clock.unix_seconds());
                    if rate_waits > self.inner.settings.max_rate_limit_waits
                        || asked.is_some_and(|d| d > self.inner.settings.max_retry_after)
                    {
                        return Err(ApiError::RateLimited {
                            target,
                            waits: rate_waits - 1,
                            retry_after: asked,
                        });
                    }
                    let wait =
                        asked.unwrap_or_else(|| backoff_step(&self.inner.settings, rate_waits));
                    tracing::debug!(wait_ms = wait.as_millis() as u64, "429: waiting as asked");
                    self.inner.clock.sleep(wait).await;
                    continue;
                }
                Attempt::Answer(status, _, body) if status >= 500 => {
                    let detail = decode::decode_error_body(&body).message;
                    if !req.class.may_retry(Failure::ServerError) {
                        return Err(ApiError::OutcomeUnknown {
                            target,
                            reason: format!("the platform answered {status}: {detail}"),
                        });
                    }
                    match delays.next() {
                        Some(delay) => {
                            self.inner.clock.sleep(delay).await;
                            continue;
                        }
                        None => {
                            return Err(ApiError::Server {
                                target,
                                status,
                                attempts,
                                detail,
                            });
                        }
                    }
                }
                Attempt::Answer(status, _, body) => {
                    return Err(ApiError::from_status(
                        target,
                        status,
                        decode::decode_error_body(&body),
                    ));
                }
                Attempt::Failed(failure, err) => (failure, err),
            };
            let (failure, err) = failure;
            if !req.class.may_retry(failure) {
                let reason = if err.is_timeout() {
                    format!(
                        "no answer within {}s",
                        self.inner.settings.timeout.as_secs()
                    )
                } else {
                    format!(
                        "the connection failed after the request was sent: {}",
                        describe(&err)
                    )
                };
                return Err(ApiError::OutcomeUnknown { target, reason });
            }
            match delays.next() {
                Some(delay) => self.inner.clock.sleep(delay).await,
                None if err.is_timeout() => {
                    return Err(ApiError::Timeout {
                        target,
                        timeout: self.inner.settings.timeout,
                        attempts,
                    });
                }
                None => {
                    return Err(ApiError::Transport {
                        target,
                        attempts,
                        detail: describe(&err),
                    });
                }
            }
        }
    }

    async fn attempt(&self, req: &ApiRequest, url: &url::Url, path: &str) -> Attempt {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        self.inner.budget.acquire().await;
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        let auth = match &req.auth {
            Some(auth) => auth.header(),
            None => self.inner.auth.clone(),
        };
        if let Some((name, value)) = auth {
            builder = builder.header(name, value);
        }
        if let Some((bytes, content_type)) = &req.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, *content_type)
                .body(bytes.as_slice().to_vec());
        }
        let started = Instant::now();
        let result = async {
            let response = builder.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body.to_vec()))
        }
        .await;
        let latency_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok((status, headers, body)) => {
                tracing::debug!(
                    platform = %self.inner.platform,
                    instance = %self.inner.instance,
                    method = %req.method,
                    path,
                    status,
                    latency_ms,
                    "request"
                );
                Attempt::Answer(status, headers, body)
            }
            Err(err) => {
                let failure = if err.is_connect() {
                    Failure::NotSent
                } else {
                    Failure::Lost
                };
                tracing::debug!(
                    platform = %self.inner.platform,
                    instance = %self.inner.instance,
                    method = %req.method,
                    path,
                    latency_ms,
                    error = %describe(&err),
                    "request failed"
                );
                Attempt::Failed(failure, err)
            }
        }
    }

    /// Sends `req` and reads the answer as JSON.
    pub async fn json<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, ApiError> {
        self.send(req).await?.json()
    }
}

/// The n-th (1-based) backoff step without jitter, for a 429 that said nothing about waiting.
fn backoff_step(settings: &ClientSettings, n: usize) -> Duration {
    let factor = 1u32 << (n.saturating_sub(1)).min(16) as u32;
    settings
        .backoff_base
        .saturating_mul(factor)
        .min(settings.backoff_max)
}

/// A transport error in words, without the URL reqwest puts in its own message.
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connect() {
        "could not connect".to_string()
    } else if err.is_body() || err.is_decode() {
        "the answer was cut off".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"a@b.c/token:xyz1"), "YUBiLmMvdG9rZW46eHl6MQ==");
    }

    #[test]
    fn debug_hides_the_credential() {
        let access = InstanceAccess {
            name: "x".into(),
            url: "https://x".into(),
            credential: SecretString::from("glpat-secretvalue"),
            email: None,
        };
        assert!(!format!("{access:?}").contains("secretvalue"));
        let auth = Auth::PrivateToken(SecretString::from("glpat-secretvalue"));
        assert!(!format!("{auth:?}").contains("secretvalue"));
    }
}
