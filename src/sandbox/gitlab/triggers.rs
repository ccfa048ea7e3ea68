//! Pipeline trigger tokens: list, get, create, update (description only), delete, and the
//! trigger call itself. Only the trigger's owner sees the full value; everyone else gets the
//! first 4 characters after the `glptt-` prefix.

use serde_json::{Value as Json, json};

use super::{Need, auth, missing, not_found, ok, visible_project};
use crate::sandbox::http::{Reply, Req, empty};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::state::gitlab::{GitLab, Scope, Trigger};
use crate::sandbox::state::{Issuer, gl_time};

fn trigger_json(gl: &GitLab, t: &Trigger, viewer: u64) -> Json {
    let value = t.value.reveal();
    let token = if viewer == t.owner_id {
        value.to_string()
    } else {
        value
            .strip_prefix("glptt-")
            .unwrap_or(value)
            .chars()
            .take(4)
            .collect()
    };
    let owner = gl.users.get(&t.owner_id).map(|u| {
        json!({"id": u.id, "username": u.username, "name": u.name, "state": u.state, "avatar_url": null,
               "web_url": format!("https://{}/{}", gl.host, u.username)})
    });
    json!({
        "id": t.id,
        "description": t.description,
        "created_at": gl_time(t.created_at),
        "updated_at": gl_time(t.updated_at),
        "last_used": t.last_used.map(gl_time),
        "expires_at": t.expires_at.map(|d| d.to_string()),
        "token": token,
        "owner": owner,
    })
}

/// `GET /projects/:id/triggers`.
pub(crate) fn list(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let project = visible_project(gl, &who, key)?.id;
    super::require_level(gl, &who, Scope::Project(project), 40)?;
    let items = gl
        .triggers
        .values()
        .filter(|t| t.project_id == project)
        .map(|t| trigger_json(gl, t, who.user_id))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `POST /projects/:id/triggers`.
pub(crate) fn create(gl: &mut GitLab, issuer: &mut Issuer, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    let project = visible_project(gl, &who, key)?.id;
    super::require_level(gl, &who, Scope::Project(project), 40)?;
    let description = req
        .str("description")
        .ok_or_else(|| missing("description"))?;
    let expires = super::date_param(req, "expires_at")?;
    let id = gl.create_trigger(issuer, project, &description, who.user_id, expires, req.now);
    ok(201, trigger_json(gl, &gl.triggers[&id], who.user_id))
}

/// `GET`, `PUT` and `DELETE /projects/:id/triggers/:trigger_id`.
pub(crate) fn one(gl: &mut GitLab, req: &Req, key: &str, tid: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let project = visible_project(gl, &who, key)?.id;
    super::require_level(gl, &who, Scope::Project(project), 40)?;
    let id = tid
        .parse::<u64>()
        .ok()
        .filter(|id| gl.triggers.get(id).is_some_and(|t| t.project_id == project))
        .ok_or_else(|| not_found("Trigger"))?;
    match req.method.as_str() {
        "GET" => ok(200, trigger_json(gl, &gl.triggers[&id], who.user_id)),
        "PUT" => {
            let trigger = gl
                .triggers
                .get_mut(&id)
                .ok_or_else(|| not_found("Trigger"))?;
            if let Some(d) = req.str("description") {
                trigger.description = d;
            }
            trigger.updated_at = req.now;
            ok(200, trigger_json(gl, &gl.triggers[&id], who.user_id))
        }
        _ => {
            gl.triggers.remove(&id);
            Ok(empty(204))
        }
    }
}

/// `POST /projects/:id/trigger/pipeline` with `token` and `ref`: no auth header, the
/// trigger token is the credential.
pub(crate) fn run(gl: &mut GitLab, _: &mut Issuer, req: &Req, key: &str) -> Reply {
    let project = gl.project(key).map(|p| p.id).ok_or_else(|| not_found(""))?;
    let token = req.str("token").ok_or_else(|| not_found(""))?;
    let git_ref = req.str("ref").ok_or_else(|| missing("ref"))?;
    let now = req.now;
    let trigger = gl
        .triggers
        .values_mut()
        .find(|t| t.project_id == project && t.value.reveal() == token)
        .filter(|t| {
            t.expires_at
                .is_none_or(|d| now < crate::sandbox::state::midnight_utc(d))
        })
        .ok_or_else(|| not_found(""))?;
    trigger.last_used = Some(now);
    let id = gl.next_id();
    ok(
        201,
        json!({"id": id, "iid": id, "project_id": project, "sha": "0000000000000000000000000000000000000000",
               "ref": git_ref, "status": "created", "source": "trigger", "created_at": gl_time(now)}),
    )
}
