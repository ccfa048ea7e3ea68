//! Deploy tokens of projects and groups: list, get, create (the value shown once), delete
//! (the record is destroyed). Project routes need Maintainer; on a group, Maintainer lists and
//! reads, only an Owner creates and deletes. There is no rotate call.

use axum::http::Method;
use serde_json::{Value as Json, json};

use super::{auth, invalid, missing, not_found, ok, resolve_scope};
use crate::sandbox::http::{Reply, Req, empty, json as json_reply};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::server::Route;
use crate::sandbox::state::gitlab::{DeployToken, GitLab, Scope};
use crate::sandbox::state::{Issuer, gl_time, midnight_utc};

/// Every scope a deploy token can carry.
const SCOPES: &[&str] = &[
    "read_repository",
    "read_registry",
    "write_registry",
    "read_package_registry",
    "write_package_registry",
    "read_virtual_registry",
    "write_virtual_registry",
];

type R = Route<GitLab>;

/// The deploy token routes, for the route table.
pub(crate) fn route(method: &Method, s: &[&str]) -> Option<R> {
    let own = |x: &str| x.to_string();
    let r = match (method.as_str(), s) {
        ("GET" | "POST", [kind @ ("projects" | "groups"), id, "deploy_tokens"]) => {
            let (kind, id) = (own(kind), own(id));
            let pattern = match (kind.as_str(), method.as_str()) {
                ("projects", "GET") => "GET /api/v4/projects/:id/deploy_tokens",
                ("projects", _) => "POST /api/v4/projects/:id/deploy_tokens",
                (_, "GET") => "GET /api/v4/groups/:id/deploy_tokens",
                _ => "POST /api/v4/groups/:id/deploy_tokens",
            };
            R::new(pattern, move |g, i, r| collection(g, i, r, &kind, &id))
        }
        ("GET" | "DELETE", [kind @ ("projects" | "groups"), id, "deploy_tokens", tid]) => {
            let (kind, id, tid) = (own(kind), own(id), own(tid));
            let pattern = match (kind.as_str(), method.as_str()) {
                ("projects", "GET") => "GET /api/v4/projects/:id/deploy_tokens/:token_id",
                ("projects", _) => "DELETE /api/v4/projects/:id/deploy_tokens/:token_id",
                (_, "GET") => "GET /api/v4/groups/:id/deploy_tokens/:token_id",
                _ => "DELETE /api/v4/groups/:id/deploy_tokens/:token_id",
            };
            R::new(pattern, move |g, _, r| one(g, r, &kind, &id, &tid))
        }
        _ => return None,
    };
    Some(r)
}

fn token_json(t: &DeployToken, req: &Req, value: bool) -> Json {
    let mut body = json!({
        "id": t.id,
        "name": t.name,
        "username": t.username(),
        "expires_at": t.expires_at.map(|d| gl_time(midnight_utc(d))),
        "revoked": t.revoked,
        "expired": t.expired(req.now),
        "scopes": t.scopes,
    });
    if value {
        body["token"] = json!(t.value.reveal());
    }
    body
}

/// The level a caller needs: Maintainer, or Owner to change a group's tokens.
fn level(scope: Scope, req: &Req) -> u8 {
    match scope {
        Scope::Group(_) if req.method != Method::GET => 50,
        _ => 40,
    }
}

fn collection(gl: &mut GitLab, issuer: &mut Issuer, req: &Req, kind: &str, key: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let scope = resolve_scope(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, level(scope, req))?;
    if req.method == Method::GET {
        let active = req.query("active").map(|v| v == "true");
        let items = gl
            .deploy_tokens
            .values()
            .filter(|t| t.scope == scope)
            .filter(|t| active.is_none_or(|a| t.active(req.now) == a))
            .map(|t| token_json(t, req, false))
            .collect();
        return Ok(gitlab_page(req, items));
    }
    let name = req.str("name").ok_or_else(|| missing("name"))?;
    let scopes = req.list("scopes").ok_or_else(|| missing("scopes"))?;
    if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return Err(invalid("scopes"));
    }
    let expires = super::date_param(req, "expires_at")?;
    let username = req.str("username").filter(|u| !u.is_empty());
    if let Some(u) = &username {
        let valid = u.len() <= 255
            && u.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
        if !valid {
            return Err(json_reply(
                400,
                json!({"message": {"username": ["can contain only letters, digits, '_', '-', '+', and '.'"]}}),
            ));
        }
    }
    let id = gl.create_deploy_token(
        issuer,
        scope,
        &name,
        username,
        scopes,
        expires,
        who.user_id,
        req.now,
    );
    ok(201, token_json(&gl.deploy_tokens[&id], req, true))
}

fn one(gl: &mut GitLab, req: &Req, kind: &str, key: &str, tid: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let scope = resolve_scope(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, level(scope, req))?;
    let id = tid
        .parse::<u64>()
        .ok()
        .filter(|id| gl.deploy_tokens.get(id).is_some_and(|t| t.scope == scope))
        .ok_or_else(|| not_found("Deploy Token"))?;
    if req.method == Method::GET {
        return ok(200, token_json(&gl.deploy_tokens[&id], req, false));
    }
    gl.deploy_tokens.remove(&id);
    Ok(empty(204))
}
