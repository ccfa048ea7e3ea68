//! The simulated Zendesk API (`/api/v2` and `/oauth/tokens`): the route table,
//! authentication (OAuth bearer tokens and legacy `email/token:…` basic auth), the rule that
//! a read-scoped OAuth token changes nothing (403 on every write), and the error bodies
//! Zendesk uses.

mod apps;
mod oauth;
mod webhooks;

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::http::{
    Reply, Req, basic_credentials, bearer, json as json_reply, reason, text, with_header,
};
use super::server::Route;
use super::state::Issuer;
use super::state::zendesk::Zendesk;

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub user_id: u64,
    pub admin: bool,
    /// The OAuth token used, if the credential was one.
    pub oauth_token: Option<u64>,
    /// Its scopes (`None` for API-token basic auth, which has no scopes).
    pub scopes: Option<Vec<String>>,
}

impl Caller {
    /// Requires `resource:read` / `resource:write` (or the general `read` / `write`).
    pub fn need_scope(&self, resource: &str, write: bool) -> Result<(), Response> {
        let Some(scopes) = &self.scopes else {
            return Ok(());
        };
        let general = if write { "write" } else { "read" };
        let specific = format!("{resource}:{general}");
        if scopes.iter().any(|s| s == general || *s == specific) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }
    /// Whether the credential may change anything: an OAuth token needs `write` or a
    /// `resource:write` scope (a read-scoped token gets 403 on every POST, PUT, PATCH and
    /// DELETE); API-token sign-in has no scopes and acts with the user's role.
    pub fn may_write(&self) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|scopes| scopes.iter().any(|s| s == "write" || s.ends_with(":write")))
    }
    /// Requires the admin role.
    pub fn need_admin(&self) -> Result<(), Response> {
        if self.admin { Ok(()) } else { Err(forbidden()) }
    }
}

fn couldnt_authenticate() -> Response {
    json_reply(401, json!({"error": "Couldn't authenticate you"}))
}

/// Resolves the request's credential, or answers 401 as Zendesk does.
pub(crate) fn auth(zd: &mut Zendesk, req: &Req) -> Result<Caller, Response> {
    if let Some(value) = bearer(req) {
        let token = zd
            .oauth_by_value(value)
            .filter(|t| t.usable(req.now))
            .map(|t| (t.id, t.user_id, t.scopes.clone()));
        let Some((id, user_id, scopes)) = token else {
            return Err(json_reply(
                401,
                json!({"error": "invalid_token", "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."}),
            ));
        };
        if let Some(t) = zd.oauth_tokens.get_mut(&id) {
            t.used_at = Some(req.now);
        }
        let admin = zd.users.get(&user_id).is_some_and(|u| u.role == "admin");
        return Ok(Caller {
            user_id,
            admin,
            oauth_token: Some(id),
            scopes: Some(scopes),
        });
    }
    let (user, secret) = basic_credentials(req).ok_or_else(couldnt_authenticate)?;
    let email = user
        .strip_suffix("/token")
        .ok_or_else(couldnt_authenticate)?;
    if !zd.api_token_access {
        return Err(couldnt_authenticate());
    }
    let user = zd
        .user_by_email(email)
        .cloned()
        .ok_or_else(couldnt_authenticate)?;
    let token = zd
        .api_tokens
        .values_mut()
        .find(|t| t.value.reveal() == secret)
        .ok_or_else(couldnt_authenticate)?;
    if !token.active(req.now) {
        return Err(couldnt_authenticate());
    }
    token.last_used = Some(req.now);
    Ok(Caller {
        user_id: user.id,
        admin: user.role == "admin",
        oauth_token: None,
        scopes: None,
    })
}

/// `{"error":"Forbidden",…}`.
pub(crate) fn forbidden() -> Response {
    json_reply(
        403,
        json!({"error": "Forbidden", "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."}),
    )
}

/// `{"error":"RecordNotFound","description":"Not found"}`.
pub(crate) fn not_found() -> Response {
    json_reply(
        404,
        json!({"error": "RecordNotFound", "description": "Not found"}),
    )
}

/// A 422 `RecordInvalid` with one field error.
pub(crate) fn invalid(field: &str, message: &str) -> Response {
    json_reply(
        422,
        json!({"error": "RecordInvalid", "description": "Record validation errors",
               "details": {field: [{"description": message, "error": "InvalidValue"}]}}),
    )
}

/// The answer to a path no route matches.
pub(crate) fn not_found_route() -> Response {
    json_reply(
        404,
        json!({"error": "InvalidEndpoint", "description": "Not found"}),
    )
}

/// 429 with `Retry-After`.
pub(crate) fn rate_limited(retry_after: u64) -> Response {
    let resp = json_reply(
        429,
        json!({"error": "TooManyRequests", "description": "You have exceeded the rate limit"}),
    );
    let resp = with_header(resp, "retry-after", &retry_after.to_string());
    with_header(resp, "x-rate-limit-remaining", "0")
}

/// The `X-Rate-Limit` headers Zendesk sends on every response.
pub(crate) fn rate_limit_headers(
    resp: Response,
    (limit, remaining, _): (u32, u32, i64),
) -> Response {
    let resp = with_header(resp, "x-rate-limit", &limit.to_string());
    with_header(resp, "x-rate-limit-remaining", &remaining.to_string())
}

/// An injected error in Zendesk's shape.
pub(crate) fn injected_error(status: u16) -> Response {
    match status {
        429 => rate_limited(60),
        400 => text(400, "Bad Request"),
        _ => json_reply(status, json!({"error": reason(status)})),
    }
}

/// The wrapped object of a request body (`{"webhook": {...}}`), or the body itself.
pub(crate) fn wrapped(req: &Req, key: &str) -> serde_json::Map<String, Json> {
    let body = req.json_body().unwrap_or_default();
    match body.get(key) {
        Some(Json::Object(inner)) => inner.clone(),
        _ => body,
    }
}

type R = Route<Zendesk>;

fn with_auth(
    pattern: &'static str,
    f: impl FnOnce(&mut Zendesk, &mut Issuer, &Req, Caller) -> Reply + Send + 'static,
) -> R {
    R::new(pattern, move |zd, issuer, req| {
        let who = auth(zd, req)?;
        if req.method != Method::GET && !who.may_write() {
            return Err(forbidden());
        }
        f(zd, issuer, req, who)
    })
}

/// Finds the route for a request below `/api/v2`.
pub(crate) fn route(method: &Method, segs: &[String]) -> Option<R> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let own = |x: &str| x.to_string();
    let r = match (method.as_str(), s.as_slice()) {
        ("GET", ["webhooks"]) => with_auth("GET /api/v2/webhooks", webhooks::list),
        ("POST", ["webhooks"]) => with_auth("POST /api/v2/webhooks", webhooks::create),
        ("GET", ["webhooks", id]) => {
            let id = own(id);
            with_auth("GET /api/v2/webhooks/:id", move |z, _, r, w| {
                webhooks::show(z, r, w, &id)
            })
        }
        ("PUT", ["webhooks", id]) => {
            let id = own(id);
            with_auth("PUT /api/v2/webhooks/:id", move |z, _, r, w| {
                webhooks::update(z, r, w, &id, false)
            })
        }
        ("PATCH", ["webhooks", id]) => {
            let id = own(id);
            with_auth("PATCH /api/v2/webhooks/:id", move |z, _, r, w| {
                webhooks::update(z, r, w, &id, true)
            })
        }
        ("DELETE", ["webhooks", id]) => {
            let id = own(id);
            with_auth("DELETE /api/v2/webhooks/:id", move |z, _, r, w| {
                webhooks::delete(z, r, w, &id)
            })
        }
        ("GET" | "POST", ["webhooks", id, "signing_secret"]) => {
            let id = own(id);
            let pattern = if method == Method::GET {
                "GET /api/v2/webhooks/:id/signing_secret"
            } else {
                "POST /api/v2/webhooks/:id/signing_secret"
            };
            with_auth(pattern, move |z, i, r, w| {
                webhooks::signing_secret(z, i, r, w, &id)
            })
        }
        ("PUT" | "DELETE", ["oauth", "clients", id]) => {
            let id = own(id);
            let pattern = if method == Method::PUT {
                "PUT /api/v2/oauth/clients/:id"
            } else {
                "DELETE /api/v2/oauth/clients/:id"
            };
            with_auth(pattern, move |z, _, r, w| {
                oauth::change_client(z, r, w, &id)
            })
        }
        ("GET", ["apps", "installations"]) => {
            with_auth("GET /api/v2/apps/installations", apps::list)
        }
        ("GET", ["apps", "installations", id]) => {
            let id = own(id);
            with_auth("GET /api/v2/apps/installations/:id", move |z, _, r, w| {
                apps::show(z, r, w, &id)
            })
        }
        ("PUT", ["apps", "installations", id]) => {
            let id = own(id);
            with_auth("PUT /api/v2/apps/installations/:id", move |z, _, r, w| {
                apps::update(z, r, w, &id)
            })
        }
        ("GET", ["apps", "owned"]) => with_auth("GET /api/v2/apps/owned", apps::owned),
        ("GET", ["oauth", "clients"]) => {
            with_auth("GET /api/v2/oauth/clients", oauth::list_clients)
        }
        ("POST", ["oauth", "clients"]) => {
            with_auth("POST /api/v2/oauth/clients", oauth::create_client)
        }
        ("GET", ["oauth", "clients", id]) => {
            let id = own(id);
            with_auth("GET /api/v2/oauth/clients/:id", move |z, _, r, w| {
                oauth::show_client(z, r, w, &id)
            })
        }
        ("PUT", ["oauth", "clients", id, "generate_secret"]) => {
            let id = own(id);
            with_auth(
                "PUT /api/v2/oauth/clients/:id/generate_secret",
                move |z, i, r, w| oauth::generate_secret(z, i, r, w, &id),
            )
        }
        ("GET", ["oauth", "tokens"]) => with_auth("GET /api/v2/oauth/tokens", oauth::list_tokens),
        ("POST", ["oauth", "tokens"]) => {
            with_auth("POST /api/v2/oauth/tokens", oauth::create_token)
        }
        ("GET", ["oauth", "tokens", "current"]) => {
            with_auth("GET /api/v2/oauth/tokens/current", |z, _, r, w| {
                oauth::show_token(z, r, w, None)
            })
        }
        ("GET", ["oauth", "tokens", id]) => {
            let id = own(id);
            with_auth("GET /api/v2/oauth/tokens/:id", move |z, _, r, w| {
                oauth::show_token(z, r, w, Some(&id))
            })
        }
        ("DELETE", ["oauth", "tokens", "current"]) => {
            with_auth("DELETE /api/v2/oauth/tokens/current", |z, _, r, w| {
                oauth::revoke_token(z, r, w, None)
            })
        }
        ("DELETE", ["oauth", "tokens", id]) => {
            let id = own(id);
            with_auth("DELETE /api/v2/oauth/tokens/:id", move |z, _, r, w| {
                oauth::revoke_token(z, r, w, Some(&id))
            })
        }
        ("GET", ["api_tokens"]) => with_auth("GET /api/v2/api_tokens", oauth::list_api_tokens),
        ("GET", ["users", "me"]) => R::new("GET /api/v2/users/me", oauth::me),
        ("GET", ["account", "settings"]) => {
            with_auth("GET /api/v2/account/settings", oauth::settings)
        }
        _ => return None,
    };
    Some(r)
}

/// Finds the route for a request below `/oauth` (the grant endpoint).
pub(crate) fn route_oauth(method: &Method, segs: &[String]) -> Option<R> {
    match (method.as_str(), segs) {
        ("POST", [t]) if t == "tokens" => Some(R::new("POST /oauth/tokens", oauth::grant)),
        _ => None,
    }
}
