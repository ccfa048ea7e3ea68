//! One logical request (`ApiRequest`: method, path or followed link, query, body, retry
//! class, the object it is about) and a successful answer (`ApiResponse`).

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::{ApiError, Auth, RequestClass, Target};

/// Where a request goes: a path under the base URL, or an absolute URL the platform handed
/// out (a pagination link), which must stay on the instance's origin.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    Path(String),
    Absolute(String),
}

/// One logical request (sent once, or several times under the retry policy).
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) location: Location,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<(Arc<Zeroizing<Vec<u8>>>, &'static str)>,
    pub(crate) class: RequestClass,
    pub(crate) object: String,
    pub(crate) auth: Option<Auth>,
    pub(crate) accept: Vec<u16>,
    /// The secret values the body carries, so that no echo of them is ever printed.
    pub(crate) secrets: Arc<Vec<Zeroizing<String>>>,
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
            secrets: Arc::default(),
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
    /// Every secret the body exposes is noted, so that an answer echoing it is cleaned.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        let (bytes, secrets) = super::redact::capture(|| serde_json::to_vec(body));
        self.body = Some((
            Arc::new(Zeroizing::new(bytes.unwrap_or_default())),
            "application/json",
        ));
        self.secrets = Arc::new(secrets);
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
        let mut secrets: Vec<Zeroizing<String>> = self.secrets.iter().cloned().collect();
        secrets.extend(auth.secrets());
        self.secrets = Arc::new(secrets);
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
    pub(crate) target: Box<Target>,
    pub(crate) secrets: super::redact::Secrets,
}

impl ApiResponse {
    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|err| self.decode_error(&err))
    }

    /// A `Decode` error for `err`, without the values serde quotes from the body.
    pub(crate) fn decode_error(&self, err: &serde_json::Error) -> ApiError {
        ApiError::Decode {
            target: self.target.clone(),
            detail: self.shown(&super::decode::without_quoted_values(&err.to_string())),
        }
    }

    /// Text taken from this answer, as it may be shown (see [`super::redact::Secrets::clean`]).
    pub fn shown(&self, text: &str) -> String {
        self.secrets.clean(text)
    }

    /// An identifier taken from this answer (a lock id a person must type back), as it may be
    /// shown: the secrets of the request removed, on one line and cut, but not reworded.
    pub fn shown_id(&self, text: &str) -> String {
        crate::text::echo(&self.secrets.remove_from(&crate::text::cut(text, 200)))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// What the request was about.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The secrets the request involved, to clean anything else read from this answer.
    pub fn secrets(&self) -> super::redact::Secrets {
        self.secrets.clone()
    }
}
