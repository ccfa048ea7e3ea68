//! Authentication as GitLab does it: the credential (`PRIVATE-TOKEN`, `Authorization:
//! Bearer`, or HTTP basic with the token as password) is resolved to its token record and
//! user; expiry is judged at 00:00 UTC on `expires_at`; scopes are checked; and a revoked
//! token presented to a rotate route revokes its whole family (reuse detection).

use axum::response::Response;
use serde_json::json;

use super::{super::http, unauthorized};
use crate::sandbox::http::{Req, json as json_reply};
use crate::sandbox::state::gitlab::{GitLab, TokenOwner};

/// What a route needs from the credential's scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Any scope (e.g. `GET /personal_access_tokens/self`).
    Any,
    /// `api` or `read_api`.
    Read,
    /// `api`.
    Write,
    /// `api`, `read_api` or `read_user`.
    ReadUser,
    /// `api` or `self_rotate`.
    SelfRotate,
}

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub user_id: u64,
    pub username: String,
    pub admin: bool,
    pub token_id: u64,
    pub token_owner: TokenOwner,
}

/// Resolves the request's credential, or answers as GitLab does.
pub(crate) fn auth(gl: &mut GitLab, req: &Req, need: Need) -> Result<Caller, Response> {
    let value = req
        .header("private-token")
        .map(str::to_string)
        .or_else(|| http::bearer(req).map(str::to_string))
        .or_else(|| http::basic_credentials(req).map(|(_, pass)| pass))
        .ok_or_else(unauthorized)?;
    let token = gl
        .token_by_value(&value)
        .cloned()
        .ok_or_else(unauthorized)?;
    if token.revoked {
        if is_rotate_route(req) {
            gl.revoke_family(token.id);
        }
        return Err(json_reply(
            401,
            json!({"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."}),
        ));
    }
    if token.expired(req.now) {
        return Err(json_reply(
            401,
            json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."}),
        ));
    }
    let user = gl
        .users
        .get(&token.user_id)
        .cloned()
        .ok_or_else(unauthorized)?;
    let has = |s: &str| token.scopes.iter().any(|t| t == s);
    let (allowed, wanted) = match need {
        Need::Any => (true, ""),
        Need::Read => (has("api") || has("read_api"), "api read_api"),
        Need::Write => (has("api"), "api"),
        Need::ReadUser => (
            has("api") || has("read_api") || has("read_user"),
            "api read_api read_user",
        ),
        Need::SelfRotate => (has("api") || has("self_rotate"), "api self_rotate"),
    };
    if !allowed {
        return Err(json_reply(
            403,
            json!({
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": wanted,
            }),
        ));
    }
    if let Some(t) = gl.tokens.get_mut(&token.id) {
        t.last_used_at = Some(req.now);
    }
    Ok(Caller {
        user_id: user.id,
        username: user.username,
        admin: user.admin,
        token_id: token.id,
        token_owner: token.owner,
    })
}

/// `…/access_tokens/(<id>|self)/rotate`, the paths GitLab watches for reuse.
fn is_rotate_route(req: &Req) -> bool {
    let n = req.segs.len();
    req.method == axum::http::Method::POST
        && n >= 3
        && req.segs[n - 1] == "rotate"
        && req.segs[n - 3].ends_with("access_tokens")
}

/// The scope for reads or writes, by method.
pub(crate) fn by_method(req: &Req) -> Need {
    if req.method == axum::http::Method::GET {
        Need::Read
    } else {
        Need::Write
    }
}
