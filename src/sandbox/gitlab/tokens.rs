//! Personal, project and group access tokens: list (with filters), get, `self`, create,
//! rotate (old token revoked at once, new id, value shown once, 7-day default expiry),
//! self-rotate and revoke.

use jiff::ToSpan;
use jiff::civil::Date;
use serde_json::{Value as Json, json};

use super::{
    Caller, Need, auth, bad_request, date_param, forbidden, invalid, missing, not_found, ok,
    time_param, today, unauthorized, visible_group, visible_project,
};
use crate::sandbox::http::{Reply, Req, empty};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::state::gitlab::{AccessToken, GitLab, Scope, TokenOwner};
use crate::sandbox::state::{Issuer, gl_time};

pub(crate) const PAT_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "sudo",
    "admin_mode",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "read_service_ping",
    "self_rotate",
];
const RESOURCE_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "self_rotate",
];

/// The token entity; `token` only when `value` (create and rotate responses).
pub(crate) fn token_json(t: &AccessToken, req: &Req, value: bool) -> Json {
    let mut body = json!({
        "id": t.id,
        "name": t.name,
        "revoked": t.revoked,
        "created_at": gl_time(t.created_at),
        "description": t.description,
        "scopes": t.scopes,
        "user_id": t.user_id,
        "last_used_at": t.last_used_at.map(gl_time),
        "active": t.active(req.now),
        "expires_at": t.expires_at.map(|d| d.to_string()),
    });
    if let Some(level) = t.access_level {
        body["access_level"] = json!(level);
    }
    if value {
        body["token"] = json!(t.value.reveal());
    }
    body
}

/// Applies the list filters shared by every token list.
pub(crate) fn filtered(
    req: &Req,
    tokens: Vec<&AccessToken>,
) -> Result<Vec<Json>, axum::response::Response> {
    let state = req.query("state");
    if state.is_some_and(|s| s != "active" && s != "inactive") {
        return Err(invalid("state"));
    }
    let revoked = req.query("revoked").map(|v| v == "true");
    let created_after = time_param(req, "created_after")?;
    let created_before = time_param(req, "created_before")?;
    let used_after = time_param(req, "last_used_after")?;
    let used_before = time_param(req, "last_used_before")?;
    let parse_date = |key: &str| -> Result<Option<Date>, axum::response::Response> {
        req.query(key)
            .map(|v| {
                v.get(..10)
                    .and_then(|d| d.parse::<Date>().ok())
                    .ok_or_else(|| invalid(key))
            })
            .transpose()
    };
    let expires_after = parse_date("expires_after")?;
    let expires_before = parse_date("expires_before")?;
    let search = req.query("search").map(str::to_lowercase);
    let mut out: Vec<&AccessToken> = tokens
        .into_iter()
        .filter(|t| match state {
            Some("active") => t.active(req.now),
            Some("inactive") => !t.active(req.now),
            _ => true,
        })
        .filter(|t| revoked.is_none_or(|r| t.revoked == r))
        .filter(|t| created_after.is_none_or(|c| t.created_at >= c))
        .filter(|t| created_before.is_none_or(|c| t.created_at <= c))
        .filter(|t| used_after.is_none_or(|c| t.last_used_at.is_some_and(|u| u >= c)))
        .filter(|t| used_before.is_none_or(|c| t.last_used_at.is_some_and(|u| u <= c)))
        .filter(|t| expires_after.is_none_or(|d| t.expires_at.is_some_and(|e| e >= d)))
        .filter(|t| expires_before.is_none_or(|d| t.expires_at.is_some_and(|e| e < d)))
        .filter(|t| {
            search
                .as_ref()
                .is_none_or(|s| t.name.to_lowercase().contains(s))
        })
        .collect();
    match req.query("sort") {
        Some("created_asc") => out.sort_by_key(|t| (t.created_at, t.id)),
        Some("created_desc") => out.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id))),
        Some("expires_asc") => out.sort_by_key(|t| (t.expires_at, t.id)),
        Some("expires_desc") => out.sort_by_key(|t| std::cmp::Reverse((t.expires_at, t.id))),
        Some("last_used_asc") => out.sort_by_key(|t| (t.last_used_at, t.id)),
        Some("last_used_desc") => out.sort_by_key(|t| std::cmp::Reverse((t.last_used_at, t.id))),
        Some("name_asc") => out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        Some("name_desc") => out.sort_by(|a, b| b.name.cmp(&a.name).then(b.id.cmp(&a.id))),
        Some(_) => return Err(invalid("sort")),
        None => {}
    }
    Ok(out.into_iter().map(|t| token_json(t, req, false)).collect())
}

/// `GET /personal_access_tokens`: admins see every token, others only their own.
pub(crate) fn list_pats(gl: &mut GitLab, _: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let user_filter = match req.query("user_id") {
        Some(v) => Some(v.parse::<u64>().map_err(|_| invalid("user_id"))?),
        None => None,
    };
    if let Some(u) = user_filter
        && !who.admin
        && u != who.user_id
    {
        return Err(unauthorized());
    }
    let owner = if who.admin {
        user_filter
    } else {
        Some(who.user_id)
    };
    let tokens: Vec<&AccessToken> = gl
        .tokens
        .values()
        .filter(|t| owner.is_none_or(|u| t.user_id == u))
        .collect();
    Ok(gitlab_page(req, filtered(req, tokens)?))
}

/// The token `id` names, as the caller may see it: admins get 404 for unknown ids, everyone
/// else 401 for ids that are unknown or not theirs.
fn visible_pat(gl: &GitLab, who: &Caller, id: &str) -> Result<u64, axum::response::Response> {
    let hidden = || {
        if who.admin {
            not_found("")
        } else {
            unauthorized()
        }
    };
    let id: u64 = id.parse().map_err(|_| hidden())?;
    match gl.tokens.get(&id) {
        Some(t) if who.admin || t.user_id == who.user_id => Ok(id),
        _ => Err(hidden()),
    }
}

/// `GET /personal_access_tokens/:id`.
pub(crate) fn get_pat(gl: &mut GitLab, req: &Req, id: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let id = visible_pat(gl, &who, id)?;
    let mut body = token_json(&gl.tokens[&id], req, false);
    body["last_used_ips"] = json!([]);
    ok(200, body)
}

/// `GET /personal_access_tokens/self`.
pub(crate) fn get_pat_self(gl: &mut GitLab, _: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::Any)?;
    let mut body = token_json(&gl.tokens[&who.token_id], req, false);
    body["last_used_ips"] = json!([]);
    ok(200, body)
}

/// The new expiry of a rotation: the requested date (at most 365 days out, after today) or
/// one week from today.
pub(crate) fn rotation_expiry(req: &Req) -> Result<Date, axum::response::Response> {
    let today = today(req);
    let max = today.checked_add(365.days()).unwrap_or(today);
    match date_param(req, "expires_at")? {
        None => Ok(today.checked_add(7.days()).unwrap_or(today)),
        Some(d) if d > max => Err(bad_request(&format!(
            "Expires at must be before {}",
            max.checked_add(1.day()).unwrap_or(max)
        ))),
        Some(d) if d <= today => Err(bad_request("Expires at must be in the future")),
        Some(d) => Ok(d),
    }
}

/// Rotates `target` after the checks every rotate route shares.
pub(crate) fn do_rotate(gl: &mut GitLab, issuer: &mut Issuer, req: &Req, target: u64) -> Reply {
    let token = &gl.tokens[&target];
    if token.revoked {
        return Err(bad_request("Token already revoked"));
    }
    if token.expired(req.now) {
        return Err(bad_request("Token already expired"));
    }
    let expires = rotation_expiry(req)?;
    let new_id = gl.rotate(issuer, target, expires, req.now);
    ok(200, token_json(&gl.tokens[&new_id], req, true))
}

/// `POST /personal_access_tokens/:id/rotate`.
pub(crate) fn rotate_pat(gl: &mut GitLab, issuer: &mut Issuer, req: &Req, id: &str) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    let target = visible_pat(gl, &who, id)?;
    if who.token_owner != TokenOwner::Personal && target != who.token_id {
        return Err(unauthorized());
    }
    do_rotate(gl, issuer, req, target)
}

/// `POST /personal_access_tokens/self/rotate`.
pub(crate) fn rotate_pat_self(gl: &mut GitLab, issuer: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::SelfRotate)?;
    do_rotate(gl, issuer, req, who.token_id)
}

/// `DELETE /personal_access_tokens/:id`.
pub(crate) fn revoke_pat(gl: &mut GitLab, req: &Req, id: &str) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    let target = visible_pat(gl, &who, id)?;
    revoke(gl, target)
}

/// `DELETE /personal_access_tokens/self`.
pub(crate) fn revoke_pat_self(gl: &mut GitLab, _: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::Any)?;
    revoke(gl, who.token_id)
}

pub(crate) fn revoke(gl: &mut GitLab, id: u64) -> Reply {
    let token = gl.tokens.get_mut(&id).ok_or_else(|| not_found(""))?;
    if token.revoked {
        return Err(bad_request("Token already revoked"));
    }
    token.revoked = true;
    Ok(empty(204))
}

/// Reads `name`, `scopes`, `description` and `expires_at` of a create request.
pub(crate) fn create_params(
    req: &Req,
    allowed: &[&str],
) -> Result<(String, Vec<String>, Option<String>, Date), axum::response::Response> {
    let name = req
        .str("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing("name"))?;
    let scopes = req
        .list("scopes")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("scopes"))?;
    if scopes.iter().any(|s| !allowed.contains(&s.as_str())) {
        return Err(invalid("scopes"));
    }
    let today = today(req);
    let max = today.checked_add(365.days()).unwrap_or(today);
    let expires = match date_param(req, "expires_at")? {
        None => max,
        Some(d) if d > max => {
            return Err(bad_request(&format!(
                "Expires at must be before {}",
                max.checked_add(1.day()).unwrap_or(max)
            )));
        }
        Some(d) if d <= today => return Err(bad_request("Expires at must be in the future")),
        Some(d) => d,
    };
    Ok((name, scopes, req.str("description"), expires))
}

/// `POST /users/:user_id/personal_access_tokens` (admins only).
pub(crate) fn create_pat(gl: &mut GitLab, issuer: &mut Issuer, req: &Req, uid: &str) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    if !who.admin {
        return Err(forbidden());
    }
    let user = uid
        .parse::<u64>()
        .ok()
        .filter(|u| gl.users.contains_key(u))
        .ok_or_else(|| not_found("User"))?;
    let (name, scopes, description, expires) = create_params(req, PAT_SCOPES)?;
    let id = gl.create_token(
        issuer,
        TokenOwner::Personal,
        user,
        &name,
        description,
        scopes,
        None,
        Some(expires),
        req.now,
    );
    ok(201, token_json(&gl.tokens[&id], req, true))
}

/// The project or group a resource-token route names, and the role it needs.
fn resource(
    gl: &GitLab,
    who: &Caller,
    kind: &str,
    key: &str,
) -> Result<(TokenOwner, Scope, u8), axum::response::Response> {
    if kind == "projects" {
        let p = visible_project(gl, who, key)?;
        Ok((TokenOwner::Project(p.id), Scope::Project(p.id), 40))
    } else {
        let g = visible_group(gl, who, key)?;
        Ok((TokenOwner::Group(g.id), Scope::Group(g.id), 50))
    }
}

/// `GET /{projects|groups}/:id/access_tokens`.
pub(crate) fn list_resource(gl: &mut GitLab, req: &Req, kind: &str, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let (owner, scope, level) = resource(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, level)?;
    let tokens: Vec<&AccessToken> = gl.tokens.values().filter(|t| t.owner == owner).collect();
    Ok(gitlab_page(req, filtered(req, tokens)?))
}

/// The resource token `tid` names (`self` is the caller's own token).
fn resource_token(
    gl: &GitLab,
    who: &Caller,
    owner: TokenOwner,
    tid: &str,
) -> Result<u64, axum::response::Response> {
    let id = if tid == "self" {
        who.token_id
    } else {
        tid.parse::<u64>().map_err(|_| not_found(""))?
    };
    match gl.tokens.get(&id) {
        Some(t) if t.owner == owner => Ok(id),
        _ => Err(if who.admin {
            not_found("")
        } else {
            unauthorized()
        }),
    }
}

/// `GET /{projects|groups}/:id/access_tokens/:token_id`.
pub(crate) fn get_resource(gl: &mut GitLab, req: &Req, kind: &str, key: &str, tid: &str) -> Reply {
    let who = auth(gl, req, if tid == "self" { Need::Any } else { Need::Read })?;
    let (owner, scope, level) = resource(gl, &who, kind, key)?;
    if tid != "self" {
        super::require_level(gl, &who, scope, level)?;
    }
    let id = resource_token(gl, &who, owner, tid)?;
    ok(200, token_json(&gl.tokens[&id], req, false))
}

/// `POST /{projects|groups}/:id/access_tokens`: a new bot user and its token.
pub(crate) fn create_resource(
    gl: &mut GitLab,
    issuer: &mut Issuer,
    req: &Req,
    kind: &str,
    key: &str,
) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    if who.token_owner != TokenOwner::Personal {
        return Err(unauthorized());
    }
    let (owner, scope, level) = resource(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, level)?;
    let (name, scopes, description, expires) = create_params(req, RESOURCE_SCOPES)?;
    let access_level = match req.str("access_level") {
        None => 40,
        Some(v) => v
            .parse::<u8>()
            .ok()
            .filter(|l| [10, 15, 20, 30, 40, 50].contains(l))
            .ok_or_else(|| invalid("access_level"))?,
    };
    if !who.admin && access_level > gl.scope_access(scope, who.user_id) {
        return Err(bad_request(
            "Access level of the token can't be greater the access level of the user who created the token",
        ));
    }
    let bot = gl.create_bot(issuer, owner, &name, access_level);
    let id = gl.create_token(
        issuer,
        owner,
        bot,
        &name,
        description,
        scopes,
        Some(access_level),
        Some(expires),
        req.now,
    );
    ok(201, token_json(&gl.tokens[&id], req, true))
}

/// `POST /{projects|groups}/:id/access_tokens/(:token_id|self)/rotate`.
pub(crate) fn rotate_resource(
    gl: &mut GitLab,
    issuer: &mut Issuer,
    req: &Req,
    kind: &str,
    key: &str,
    tid: &str,
) -> Reply {
    let selfish = tid == "self";
    let who = auth(
        gl,
        req,
        if selfish {
            Need::SelfRotate
        } else {
            Need::Write
        },
    )?;
    let (owner, scope, level) = resource(gl, &who, kind, key)?;
    let id = resource_token(gl, &who, owner, tid)?;
    if !selfish {
        if who.token_owner != TokenOwner::Personal && id != who.token_id {
            return Err(unauthorized());
        }
        super::require_level(gl, &who, scope, level)?;
    }
    do_rotate(gl, issuer, req, id)
}

/// `DELETE /{projects|groups}/:id/access_tokens/:token_id`.
pub(crate) fn revoke_resource(
    gl: &mut GitLab,
    req: &Req,
    kind: &str,
    key: &str,
    tid: &str,
) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    let (owner, scope, level) = resource(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, level)?;
    let id = resource_token(gl, &who, owner, tid)?;
    revoke(gl, id)
}
