//! The HTTP layer both platform clients share: `ApiClient` sends one logical request with the
//! instance's credential, under the instance's concurrency limit and request budget, applying
//! the retry policy of its `RequestClass`, and turns failures into `ApiError`s that name the
//! platform object. Base URLs are opaque prefixes (a path prefix is kept), checked by `base`.

mod auth;
mod base;
pub mod budget;
mod clock;
pub mod decode;
pub mod error;
pub mod pages;
pub mod redact;
mod request;
pub mod retry;
mod settings;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

pub use auth::{Auth, InstanceAccess};
pub use base::{UrlProblem, base_url_problem, check_base_url, encode_segment, shown as shown_url};
pub use budget::{Budget, WaitRefused};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ApiError, Target};
pub use redact::Secrets;
use request::Location;
pub use request::{ApiRequest, ApiResponse};
pub use retry::{Failure, RequestClass, RetryPolicy};
pub use settings::{ClientSettings, DEFAULT_MAX_WAIT};

pub use crate::platform::Platform;

/// A request held this long by the budget makes the client say that the budget paces the run.
const BUDGET_NOTICE: Duration = Duration::from_secs(5);

/// The shared client for one platform instance. Cheap to clone; clones share the
/// concurrency limit and the request budget, so build one per instance and clone it (two
/// separately built clients for one instance would each spend the full budget).
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    platform: Platform,
    instance: String,
    base: url::Url,
    http: reqwest::Client,
    /// The credential's header; every clone sees a replacement at once (see
    /// [`ApiClient::replace_auth`]).
    auth: std::sync::RwLock<Option<(HeaderName, HeaderValue)>>,
    /// What is cleaned from server text: every credential this client has sent.
    secrets: std::sync::RwLock<Secrets>,
    settings: ClientSettings,
    budget: Budget,
    permits: Semaphore,
    clock: Arc<dyn Clock>,
    /// Whether the run was already told that the budget makes it wait.
    budget_told: std::sync::atomic::AtomicBool,
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

/// The largest answer read (a Terraform state holding a large ledger fits many times).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// What one attempt came to.
enum Attempt {
    Answer(u16, HeaderMap, Vec<u8>),
    Failed(Failure, reqwest::Error),
    /// The answer was larger than [`MAX_BODY`].
    TooLarge,
    /// Not sent: waiting for the budget to let it through would pass `max_wait`.
    Refused(WaitRefused),
}

/// A request the budget let through and has not been told the outcome of; handing it back
/// on drop keeps the in-flight count right when a caller gives up on a request.
struct InFlight<'a> {
    budget: &'a Budget,
    admission: Option<budget::Admission>,
}

impl InFlight<'_> {
    fn finish(mut self, window: Option<(u64, i64)>) {
        if let Some(admission) = self.admission.take() {
            self.budget.finish(admission, window);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(admission) = self.admission.take() {
            self.budget.finish(admission, None);
        }
    }
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
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tokenops/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(false);
        if base::is_loopback(&base) {
            // A proxy named in HTTP_PROXY would see a loopback `http://` request, credential
            // and all, in clear: loopback never goes through one.
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|err| ApiError::InsecureUrl {
            url: base::shown(base.as_str()),
            reason: format!("the HTTP client could not be set up: {err}"),
        })?;
        Ok(ApiClient {
            inner: Arc::new(Inner {
                platform,
                instance: instance.to_string(),
                base,
                http,
                secrets: std::sync::RwLock::new(Secrets::new(std::sync::Arc::new(auth.secrets()))),
                auth: std::sync::RwLock::new(auth.header()),
                budget: Budget::new(
                    settings.requests_per_minute,
                    settings.max_wait,
                    clock.clone(),
                ),
                permits: Semaphore::new(settings.concurrency.max(1)),
                settings,
                clock,
                budget_told: std::sync::atomic::AtomicBool::new(false),
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

    /// Replaces the credential this client and every clone of it send from the next request
    /// on: how a run switches to the value it just rotated its own credential to, so that no
    /// later call uses the revoked one.
    pub fn replace_auth(&self, auth: Auth) {
        let header = auth.header();
        {
            let mut secrets = self
                .inner
                .secrets
                .write()
                .unwrap_or_else(|e| e.into_inner());
            *secrets = secrets.extended(auth.secrets());
        }
        *self.inner.auth.write().unwrap_or_else(|e| e.into_inner()) = header;
    }

    /// Adds `secret` to what is cleaned from every server text this client (and every clone)
    /// reads, without sending it: a value the run holds but signs in with only indirectly
    /// (a Zendesk OAuth client secret).
    pub fn remember_secret(&self, secret: &secrecy::SecretString) {
        use secrecy::ExposeSecret;
        let mut secrets = self
            .inner
            .secrets
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *secrets = secrets.extended(vec![zeroize::Zeroizing::new(
            secret.expose_secret().to_string(),
        )]);
    }

    /// Seconds since the Unix epoch on the client's clock (the one its budget runs on).
    pub fn unix_seconds(&self) -> i64 {
        self.inner.clock.unix_seconds()
    }

    fn current_auth(&self) -> Option<(HeaderName, HeaderValue)> {
        self.inner
            .auth
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
        let secrets = self
            .inner
            .secrets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .with(req.secrets.clone());
        let url = self.url_for(&req)?;
        let path_for_log = url.path().to_string();
        let mut delays = self.inner.settings.policy().delays();
        let mut attempts = 0usize;
        let mut rate_waits = 0usize;
        // What the next wait is for, should the allowance refuse it.
        let mut cause = "the platform's rate limit".to_string();
        loop {
            attempts += 1;
            let (attempt, sent_at) = self.attempt(&req, &url, &path_for_log).await;
            let refused = |refused: WaitRefused, cause: String| ApiError::WaitLimit {
                target: target.clone(),
                cause,
                waited: refused.waited,
                limit: refused.limit,
                asked: refused.asked,
            };
            let failure = match attempt {
                Attempt::Refused(r) => return Err(refused(r, cause)),
                Attempt::Answer(status, headers, body)
                    if (200..300).contains(&status) || req.accept.contains(&status) =>
                {
                    return Ok(ApiResponse {
                        status,
                        headers,
                        body,
                        target,
                        secrets,
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
                    // The next attempt (and every other request of this instance) waits in
                    // the budget until the pause is over; 429s that arrive together end their
                    // pauses at the same instant, so they cost one wait.
                    self.inner.budget.pause(sent_at, wait);
                    cause = "429 Too Many Requests".to_string();
                    continue;
                }
                Attempt::Answer(status, _, body) if status >= 500 => {
                    let detail = decode::decode_error_body(&body, &secrets).message;
                    if !req.class.may_retry(Failure::ServerError) {
                        return Err(ApiError::OutcomeUnknown {
                            target,
                            reason: format!("the platform answered {status}: {detail}"),
                        });
                    }
                    match delays.next() {
                        Some(delay) => {
                            cause = format!("server error {status}");
                            if let Err(r) = self.inner.budget.wait(delay).await {
                                return Err(refused(r, cause));
                            }
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
                        decode::decode_error_body(&body, &secrets),
                    ));
                }
                Attempt::TooLarge => {
                    let detail = format!(
                        "the answer is larger than {} MiB and was not read; check that the \
                         instance URL points at the platform's API",
                        MAX_BODY >> 20
                    );
                    if !req.class.may_retry(Failure::Lost) {
                        return Err(ApiError::OutcomeUnknown {
                            target,
                            reason: detail,
                        });
                    }
                    return Err(ApiError::Decode { target, detail });
                }
                Attempt::Failed(failure, err) => (failure, err),
            };
            let (failure, err) = failure;
            if !req.class.may_retry(failure) {
                let reason = if err.is_timeout() {
                    format!("no answer within {:?}", self.inner.settings.timeout)
                } else {
                    format!(
                        "the connection failed after the request was sent: {}",
                        describe(&err)
                    )
                };
                let reason = secrets.clean(&reason);
                return Err(ApiError::OutcomeUnknown { target, reason });
            }
            match delays.next() {
                Some(delay) => {
                    cause = format!("a failed attempt ({})", describe(&err));
                    if let Err(r) = self.inner.budget.wait(delay).await {
                        return Err(refused(r, cause));
                    }
                }
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
                        detail: secrets.clean(&describe(&err)),
                    });
                }
            }
        }
    }

    /// One attempt, and when the budget let it through.
    async fn attempt(&self, req: &ApiRequest, url: &url::Url, path: &str) -> (Attempt, Duration) {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let budget = &self.inner.budget;
        let (in_flight, sent_at) = match budget.acquire().await {
            Ok(admission) => {
                self.tell_budget_wait(admission.held_by_budget());
                let at = admission.at();
                let in_flight = InFlight {
                    budget,
                    admission: Some(admission),
                };
                (in_flight, at)
            }
            Err(refused) => return (Attempt::Refused(refused), self.inner.clock.elapsed()),
        };
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        let auth = match &req.auth {
            Some(auth) => auth.header(),
            None => self.current_auth(),
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
            let mut response = builder.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            // Read at most MAX_BODY: a server that never stops sending must not fill memory.
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Ok(None);
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>(Some((status, headers, body)))
        }
        .await;
        let latency_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(None) => {
                in_flight.finish(None);
                (Attempt::TooLarge, sent_at)
            }
            Ok(Some((status, headers, body))) => {
                in_flight.finish(retry::platform_window(
                    &headers,
                    self.inner.clock.unix_seconds(),
                    self.inner.settings.max_retry_after,
                ));
                tracing::debug!(
                    platform = %self.inner.platform,
                    instance = %self.inner.instance,
                    method = %req.method,
                    path,
                    status,
                    latency_ms,
                    "request"
                );
                (Attempt::Answer(status, headers, body), sent_at)
            }
            Err(err) => {
                in_flight.finish(None);
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
                (Attempt::Failed(failure, err), sent_at)
            }
        }
    }

    /// Says once per client, when the request budget first holds a request for long, that the
    /// run is paced by it: a run with more requests than the budget allows per minute waits.
    fn tell_budget_wait(&self, held: Duration) {
        use std::sync::atomic::Ordering;
        if held >= BUDGET_NOTICE && !self.inner.budget_told.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{} {}: this run has sent {} requests in the last minute, its request budget; \
                 the rest wait their turn (this one {} s), so the run takes about a minute more \
                 per {} requests. Where the platform allows more, raise --requests-per-minute",
                self.inner.platform,
                self.inner.instance,
                self.inner.settings.requests_per_minute,
                held.as_secs(),
                self.inner.settings.requests_per_minute,
            );
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
