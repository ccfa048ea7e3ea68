//! Request and response plumbing shared by both platforms: the parsed request, its merged
//! parameters (query, JSON or form body), and builders for the responses.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Map, Value as Json};

/// A handler's answer; `Err` carries an early error response so `?` can short-circuit.
pub(crate) type Reply = Result<Response, Response>;

/// One request, parsed once.
pub(crate) struct Req {
    pub method: Method,
    /// API path segments after `/api/v4` or `/api/v2`, percent-decoded.
    pub segs: Vec<String>,
    /// Query pairs, decoded.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Query and body parameters merged (body wins).
    pub params: Map<String, Json>,
    /// Sandbox time when the request arrived.
    pub now: Timestamp,
    /// The instance base URL (`http://127.0.0.1:PORT/gitlab/gitlab.com`).
    pub base: String,
    /// The request path below the base URL (`/api/v4/...`).
    pub path: String,
}

impl Req {
    /// A query parameter.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// A parameter as text (numbers and booleans are rendered).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.params.get(key)? {
            Json::String(s) => Some(s.clone()),
            Json::Null => None,
            other => Some(other.to_string()),
        }
    }
    /// Whether the parameter is present at all (even as null).
    pub fn has(&self, key: &str) -> bool {
        self.params.contains_key(key)
    }
    /// A boolean parameter (`true`/`"true"`/`1`).
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.params.get(key)? {
            Json::Bool(b) => Some(*b),
            // Grape's coercion (dry-types `Params::Bool`): python-gitlab sends `True`.
            Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
                "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
                _ => None,
            },
            Json::Number(n) => Some(n.as_i64() != Some(0)),
            _ => None,
        }
    }
    /// A list parameter: a JSON array, repeated `key[]` pairs, or a comma-separated string.
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        match self.params.get(key)? {
            Json::Array(items) => Some(
                items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect(),
            ),
            Json::String(s) => Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            _ => None,
        }
    }
    /// The body as a JSON object, if it is one.
    pub fn json_body(&self) -> Option<Map<String, Json>> {
        match serde_json::from_slice::<Json>(&self.body).ok()? {
            Json::Object(map) => Some(map),
            _ => None,
        }
    }
}

/// Merges query pairs and a JSON or form body into one parameter map. `key[]` pairs become
/// arrays; bracketed keys such as `filter[environment_scope]` stay as they are.
pub(crate) fn merge_params(
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Map<String, Json> {
    let mut map = Map::new();
    let add_pair = |map: &mut Map<String, Json>, k: &str, v: &str| {
        if let Some(base) = k.strip_suffix("[]") {
            let entry = map
                .entry(base.to_string())
                .or_insert_with(|| Json::Array(vec![]));
            if let Json::Array(items) = entry {
                items.push(Json::String(v.to_string()));
            }
        } else {
            map.insert(k.to_string(), Json::String(v.to_string()));
        }
    };
    for (k, v) in query {
        add_pair(&mut map, k, v);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if body.is_empty() {
        return map;
    }
    if content_type.contains("x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            add_pair(&mut map, &k, &v);
        }
    } else if let Ok(Json::Object(obj)) = serde_json::from_slice::<Json>(body) {
        map.extend(obj);
    }
    map
}

/// Decodes `%XX` escapes in one path segment.
pub(crate) fn percent_decode(seg: &str) -> String {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(&seg[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON response.
pub(crate) fn json(status: u16, body: Json) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// An empty response (204, or 200 with no body).
pub(crate) fn empty(status: u16) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    resp
}

/// A plain-text response.
pub(crate) fn text(status: u16, body: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// Adds a header to a response.
pub(crate) fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// The standard reason phrase of a status.
pub(crate) fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The user and password of an `Authorization: Basic` header.
pub(crate) fn basic_credentials(req: &Req) -> Option<(String, String)> {
    let encoded = req.header("authorization")?.strip_prefix("Basic ")?.trim();
    let decoded = String::from_utf8(base64_decode(encoded)?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// The token of an `Authorization: Bearer` header.
pub(crate) fn bearer(req: &Req) -> Option<&str> {
    let value = req.header("authorization")?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// Standard base64 (padding optional).
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        } as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}
