//! GitLab-managed Terraform HTTP state: read, write (byte for byte), delete, lock and
//! unlock, with the 409 answers that carry the current holder's lock info, and the 404
//! GitLab gives a state that was never locked nor written. Besides the usual credentials,
//! these routes take a CI/CD job token as HTTP basic auth with the user `gitlab-ci-token`
//! (`job_token_allowed: :basic_auth`), acting as the job's user inside the job's project.

use axum::response::Response;
use serde_json::{Map, Value as Json, json};

use super::{Caller, Need, auth, not_found, unauthorized, visible_project};
use crate::sandbox::http::{Reply, Req, basic_credentials, empty, json as json_reply};
use crate::sandbox::state::gitlab::{GitLab, Scope, TfState, TokenOwner};

/// The basic-auth user name that marks a CI/CD job token.
const JOB_TOKEN_USER: &str = "gitlab-ci-token";

/// Who calls a state route, and the project `key` names: a job token reaches its own
/// project only; any other credential as on every route.
fn caller(gl: &mut GitLab, req: &Req, need: Need, key: &str) -> Result<(Caller, u64), Response> {
    if let Some((user, password)) = basic_credentials(req)
        && user == JOB_TOKEN_USER
    {
        let job = gl
            .running_job(&password)
            .cloned()
            .ok_or_else(unauthorized)?;
        let user = gl
            .users
            .get(&job.user_id)
            .cloned()
            .ok_or_else(unauthorized)?;
        let who = Caller {
            user_id: user.id,
            username: user.username,
            admin: user.admin,
            token_id: 0,
            token_owner: TokenOwner::Personal,
        };
        let project = visible_project(gl, &who, key)?.id;
        if project != job.project_id {
            return Err(not_found("Project"));
        }
        return Ok((who, project));
    }
    let who = auth(gl, req, need)?;
    let project = visible_project(gl, &who, key)?.id;
    Ok((who, project))
}

const LOCK_FIELDS: &[&str] = &[
    "ID",
    "Operation",
    "Info",
    "Who",
    "Version",
    "Created",
    "Path",
];

fn holder_info(lock: &(Map<String, Json>, String)) -> Json {
    let mut info = lock.0.clone();
    info.insert("Who".into(), json!(lock.1));
    Json::Object(info)
}

fn conflict(lock: &(Map<String, Json>, String)) -> Response {
    json_reply(409, holder_info(lock))
}

fn lock_id(req: &Req) -> Option<String> {
    req.query("ID").map(str::to_string).or_else(|| {
        req.json_body()
            .and_then(|b| b.get("ID").and_then(|v| v.as_str().map(str::to_string)))
    })
}

/// `GET`, `POST` and `DELETE /projects/:id/terraform/state/:name`.
pub(crate) fn state(gl: &mut GitLab, req: &Req, key: &str, name: &str) -> Reply {
    let reading = req.method == axum::http::Method::GET;
    let (who, project) = caller(gl, req, if reading { Need::Read } else { Need::Write }, key)?;
    super::require_level(
        gl,
        &who,
        Scope::Project(project),
        if reading { 30 } else { 40 },
    )?;
    let slot = (project, name.to_string());
    match req.method.as_str() {
        "GET" => match gl.tf_states.get(&slot).and_then(|s| s.data.clone()) {
            Some(data) => {
                let mut resp = Response::new(axum::body::Body::from(data));
                resp.headers_mut().insert(
                    "content-type",
                    axum::http::HeaderValue::from_static("application/json"),
                );
                Ok(resp)
            }
            // The record exists (locked, or emptied) but holds no file yet.
            None if gl.tf_states.contains_key(&slot) => Ok(empty(204)),
            // Never locked nor written: `RemoteStateHandler#find_with_lock` raises
            // RecordNotFound, which the API answers as a plain 404.
            None => Err(not_found("")),
        },
        "POST" => {
            // An empty body is answered before the record is looked up: nothing is created.
            if req.body.is_empty() {
                return Ok(empty(204));
            }
            // `RemoteStateHandler#handle_with_lock`: the request's `ID` must equal the lock's,
            // and no `ID` matches only an unlocked state; anything else is StateLockedError (409).
            match gl.tf_states.get(&slot).and_then(|s| s.lock.as_ref()) {
                Some(lock) => {
                    let held = lock.0.get("ID").and_then(Json::as_str).map(str::to_string);
                    if req.query("ID").map(str::to_string) != held {
                        return Err(conflict(lock));
                    }
                }
                None if req.query("ID").is_some() => {
                    return Err(json_reply(409, json!({"message": "409 Conflict"})));
                }
                None => {}
            }
            if gl.max_state_size > 0 && req.body.len() > gl.max_state_size {
                return Err(json_reply(
                    413,
                    json!({"message": "413 Request Entity Too Large"}),
                ));
            }
            let state = gl.tf_states.entry((project, name.to_string())).or_default();
            state.data = Some(req.body.to_vec());
            state.versions += 1;
            Ok(empty(200))
        }
        _ => {
            if gl.tf_states.remove(&slot).is_none() {
                return Err(not_found(""));
            }
            Ok(empty(200))
        }
    }
}

/// `POST` (lock) and `DELETE` (unlock) on `/projects/:id/terraform/state/:name/lock`.
pub(crate) fn lock(gl: &mut GitLab, req: &Req, key: &str, name: &str) -> Reply {
    let (who, project) = caller(gl, req, Need::Write, key)?;
    super::require_level(gl, &who, Scope::Project(project), 40)?;
    let state: &mut TfState = gl.tf_states.entry((project, name.to_string())).or_default();
    if req.method == axum::http::Method::POST {
        let body = req.json_body().unwrap_or_default();
        for field in LOCK_FIELDS {
            if !body.get(*field).is_some_and(Json::is_string) {
                return Err(json_reply(
                    400,
                    json!({"error": format!("{field} is missing")}),
                ));
            }
        }
        if let Some(lock) = &state.lock {
            if lock.0.get("ID") == body.get("ID") {
                return Ok(json_reply(200, holder_info(lock)));
            }
            return Err(conflict(lock));
        }
        let lock = (body, who.username.clone());
        let info = holder_info(&lock);
        state.lock = Some(lock);
        return Ok(json_reply(200, info));
    }
    if let Some(lock) = &state.lock
        && let Some(id) = lock_id(req)
        && lock.0.get("ID").and_then(Json::as_str) != Some(id.as_str())
    {
        return Err(conflict(lock));
    }
    state.lock = None;
    Ok(empty(200))
}
