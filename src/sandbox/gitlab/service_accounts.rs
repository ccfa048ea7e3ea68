//! Group service accounts (GitLab.com's non-human users) and their personal access tokens:
//! list the accounts, list, create, rotate and revoke their tokens. Every route works only
//! on a top-level group and needs its Owner (or an administrator); a service account's own
//! token cannot rotate itself through these routes (401). Rotation behaves as for every
//! personal token: the old one is revoked at once, a week's expiry without `expires_at`.
//! Also the credentials inventory of GitLab.com (18.7): the personal tokens of the group's
//! enterprise users, for the same Owner.

use axum::http::Method;
use serde_json::json;

use super::tokens::{PAT_SCOPES, create_params, do_rotate, filtered, revoke, token_json};
use super::{Caller, Need, auth, bad_request, not_found, ok, unauthorized, visible_group};
use crate::sandbox::http::{Reply, Req};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::server::Route;
use crate::sandbox::state::Issuer;
use crate::sandbox::state::gitlab::{AccessToken, GitLab, Scope, TokenOwner};

type R = Route<GitLab>;

/// The service account routes, for the route table.
pub(crate) fn route(method: &Method, s: &[&str]) -> Option<R> {
    let own = |x: &str| x.to_string();
    let r = match (method.as_str(), s) {
        ("GET", ["groups", id, "service_accounts"]) => {
            let id = own(id);
            R::new("GET /api/v4/groups/:id/service_accounts", move |g, _, r| {
                accounts(g, r, &id)
            })
        }
        (
            "GET" | "POST",
            [
                "groups",
                id,
                "service_accounts",
                uid,
                "personal_access_tokens",
            ],
        ) => {
            let (id, uid) = (own(id), own(uid));
            let pattern = if method == Method::GET {
                "GET /api/v4/groups/:id/service_accounts/:user_id/personal_access_tokens"
            } else {
                "POST /api/v4/groups/:id/service_accounts/:user_id/personal_access_tokens"
            };
            R::new(pattern, move |g, i, r| tokens(g, i, r, &id, &uid))
        }
        (
            "POST",
            [
                "groups",
                id,
                "service_accounts",
                uid,
                "personal_access_tokens",
                tid,
                "rotate",
            ],
        ) => {
            let (id, uid, tid) = (own(id), own(uid), own(tid));
            R::new(
                "POST /api/v4/groups/:id/service_accounts/:user_id/personal_access_tokens/:token_id/rotate",
                move |g, i, r| rotate(g, i, r, &id, &uid, &tid),
            )
        }
        (
            "DELETE",
            [
                "groups",
                id,
                "service_accounts",
                uid,
                "personal_access_tokens",
                tid,
            ],
        ) => {
            let (id, uid, tid) = (own(id), own(uid), own(tid));
            R::new(
                "DELETE /api/v4/groups/:id/service_accounts/:user_id/personal_access_tokens/:token_id",
                move |g, _, r| delete(g, r, &id, &uid, &tid),
            )
        }
        ("GET", ["groups", id, "manage", "personal_access_tokens"]) => {
            let id = own(id);
            R::new(
                "GET /api/v4/groups/:id/manage/personal_access_tokens",
                move |g, _, r| managed(g, r, &id),
            )
        }
        _ => return None,
    };
    Some(r)
}

/// `GET /groups/:id/manage/personal_access_tokens` (GitLab.com, 18.7): the personal tokens
/// of the group's enterprise users, with the personal token list's filters.
fn managed(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let group = owned_top_level(gl, &who, key)?;
    let list: Vec<&AccessToken> = gl
        .tokens
        .values()
        .filter(|t| t.owner == TokenOwner::Personal)
        .filter(|t| {
            gl.users
                .get(&t.user_id)
                .is_some_and(|u| u.enterprise_of == Some(group))
        })
        .collect();
    Ok(gitlab_page(req, filtered(req, list)?))
}

/// The top-level group the route names, once the caller is its Owner.
fn owned_top_level(gl: &GitLab, who: &Caller, key: &str) -> Result<u64, axum::response::Response> {
    let group = visible_group(gl, who, key)?;
    if group.parent_id.is_some() {
        return Err(bad_request("this endpoint only works on top-level groups"));
    }
    let id = group.id;
    super::require_level(gl, who, Scope::Group(id), 50)?;
    Ok(id)
}

/// The service account `uid` of group `group`.
fn account(gl: &GitLab, group: u64, uid: &str) -> Result<u64, axum::response::Response> {
    uid.parse::<u64>()
        .ok()
        .filter(|id| {
            gl.users
                .get(id)
                .is_some_and(|u| u.service_account_of == Some(group))
        })
        .ok_or_else(|| not_found("User"))
}

/// `GET /groups/:id/service_accounts`.
fn accounts(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let group = owned_top_level(gl, &who, key)?;
    let items = gl
        .users
        .values()
        .filter(|u| u.service_account_of == Some(group))
        .map(|u| json!({"id": u.id, "username": u.username, "name": u.name, "email": u.email}))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `GET` (with the personal token list's filters) and `POST …/personal_access_tokens`.
fn tokens(gl: &mut GitLab, issuer: &mut Issuer, req: &Req, key: &str, uid: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let group = owned_top_level(gl, &who, key)?;
    let user = account(gl, group, uid)?;
    if req.method == Method::GET {
        let list: Vec<&AccessToken> = gl.tokens.values().filter(|t| t.user_id == user).collect();
        return Ok(gitlab_page(req, filtered(req, list)?));
    }
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

/// The token `tid` of service account `user`.
fn token_of(gl: &GitLab, user: u64, tid: &str) -> Result<u64, axum::response::Response> {
    tid.parse::<u64>()
        .ok()
        .filter(|id| gl.tokens.get(id).is_some_and(|t| t.user_id == user))
        .ok_or_else(|| not_found("Personal Access Token"))
}

/// `POST …/personal_access_tokens/:token_id/rotate`.
fn rotate(
    gl: &mut GitLab,
    issuer: &mut Issuer,
    req: &Req,
    key: &str,
    uid: &str,
    tid: &str,
) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    if who.token_owner == TokenOwner::Personal
        && gl
            .users
            .get(&who.user_id)
            .is_some_and(|u| u.service_account_of.is_some())
    {
        // A service account's token does not manage tokens through the group's routes.
        return Err(unauthorized());
    }
    let group = owned_top_level(gl, &who, key)?;
    let user = account(gl, group, uid)?;
    let target = token_of(gl, user, tid)?;
    do_rotate(gl, issuer, req, target)
}

/// `DELETE …/personal_access_tokens/:token_id`.
fn delete(gl: &mut GitLab, req: &Req, key: &str, uid: &str, tid: &str) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    let group = owned_top_level(gl, &who, key)?;
    let user = account(gl, group, uid)?;
    let target = token_of(gl, user, tid)?;
    revoke(gl, target)
}
