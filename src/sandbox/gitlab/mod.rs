//! The simulated GitLab REST API (`/api/v4`): the route table, the error bodies GitLab uses,
//! and helpers shared by the resource modules.

mod auth;
mod deploy_tokens;
mod discovery;
mod hooks;
mod issues;
mod service_accounts;
mod terraform;
mod tokens;
mod triggers;
mod variables;

use axum::http::Method;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::json;

use super::http::{Reply, Req, json as json_reply, reason, text, with_header};
use super::server::Route;
use super::state::gitlab::{GitLab, Group, Project};

pub(crate) use auth::{Caller, Need, auth};

/// `{"message":"401 Unauthorized"}`.
pub(crate) fn unauthorized() -> Response {
    json_reply(401, json!({"message": "401 Unauthorized"}))
}

/// `{"message":"403 Forbidden"}`.
pub(crate) fn forbidden() -> Response {
    json_reply(403, json!({"message": "403 Forbidden"}))
}

/// `{"message":"404 <what> Not Found"}` (`what` empty gives `404 Not found`).
pub(crate) fn not_found(what: &str) -> Response {
    let message = if what.is_empty() {
        "404 Not found".to_string()
    } else {
        format!("404 {what} Not Found")
    };
    json_reply(404, json!({ "message": message }))
}

/// `{"message":"400 Bad request - <reason>"}`.
pub(crate) fn bad_request(why: &str) -> Response {
    json_reply(400, json!({"message": format!("400 Bad request - {why}")}))
}

/// Grape's missing-parameter error: `{"error":"<param> is missing"}`.
pub(crate) fn missing(param: &str) -> Response {
    json_reply(400, json!({"error": format!("{param} is missing")}))
}

/// Grape's invalid-value error: `{"error":"<param> does not have a valid value"}`.
pub(crate) fn invalid(param: &str) -> Response {
    json_reply(
        400,
        json!({"error": format!("{param} does not have a valid value")}),
    )
}

/// The answer to a request no route matches: 405 when the path exists for another
/// method (except the trigger endpoint, which answers 404 to anything but POST), else 404.
pub(crate) fn unrouted(method: &Method, segs: &[String]) -> Response {
    let trigger = segs.len() == 4 && segs[2] == "trigger" && segs[3] == "pipeline";
    let other = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ]
    .iter()
    .filter(|m| *m != method)
    .any(|m| route(m, segs).is_some());
    if other && !trigger {
        json_reply(405, json!({"message": "405 Method Not Allowed"}))
    } else {
        not_found_route()
    }
}

/// The answer to a path no route matches.
pub(crate) fn not_found_route() -> Response {
    json_reply(404, json!({"error": "404 Not Found"}))
}

/// The Rack::Attack throttle answer: plain text with `Retry-After` and reset headers.
pub(crate) fn rate_limited(retry_after: u64, now: Timestamp) -> Response {
    let reset = now.as_second() + retry_after as i64;
    let reset_time = Timestamp::from_second(reset)
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default();
    let resp = text(429, "Retry later\n");
    let resp = with_header(resp, "retry-after", &retry_after.to_string());
    let resp = with_header(resp, "ratelimit-reset", &reset.to_string());
    let resp = with_header(resp, "ratelimit-resettime", &reset_time);
    with_header(resp, "ratelimit-name", "throttle_authenticated_api")
}

/// The informational `RateLimit-*` headers GitLab sends while a throttle is active.
pub(crate) fn rate_limit_headers(
    resp: Response,
    (limit, remaining, reset): (u32, u32, i64),
) -> Response {
    let resp = with_header(resp, "ratelimit-limit", &limit.to_string());
    let resp = with_header(resp, "ratelimit-observed", &(limit - remaining).to_string());
    let resp = with_header(resp, "ratelimit-remaining", &remaining.to_string());
    let resp = with_header(resp, "ratelimit-reset", &reset.to_string());
    with_header(resp, "ratelimit-name", "throttle_authenticated_api")
}

/// An injected error in GitLab's shape.
pub(crate) fn injected_error(status: u16, now: Timestamp) -> Response {
    if status == 429 {
        return rate_limited(60, now);
    }
    json_reply(
        status,
        json!({"message": format!("{status} {}", reason(status))}),
    )
}

/// Parses a `YYYY-MM-DD` parameter; `Err` is GitLab's invalid-value answer.
pub(crate) fn date_param(req: &Req, key: &str) -> Result<Option<Date>, Response> {
    match req.str(key) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => s
            .get(..10)
            .and_then(|d| d.parse::<Date>().ok())
            .map(Some)
            .ok_or_else(|| invalid(key)),
    }
}

/// Parses an ISO-8601 timestamp parameter (a bare date means its midnight UTC).
pub(crate) fn time_param(req: &Req, key: &str) -> Result<Option<Timestamp>, Response> {
    match req.query(key) {
        None => Ok(None),
        Some(s) => s
            .parse::<Timestamp>()
            .ok()
            .or_else(|| s.parse::<Date>().ok().map(super::state::midnight_utc))
            .map(Some)
            .ok_or_else(|| invalid(key)),
    }
}

/// The project a path `:id` names, if the caller may see it (admins see all; others need
/// membership); otherwise GitLab's `404 Project Not Found`.
pub(crate) fn visible_project<'a>(
    gl: &'a GitLab,
    who: &Caller,
    key: &str,
) -> Result<&'a Project, Response> {
    let project = gl.project(key).ok_or_else(|| not_found("Project"))?;
    if who.admin || gl.project_access(project.id, who.user_id) > 0 {
        Ok(project)
    } else {
        Err(not_found("Project"))
    }
}

/// The group a path `:id` names, if the caller may see it.
pub(crate) fn visible_group<'a>(
    gl: &'a GitLab,
    who: &Caller,
    key: &str,
) -> Result<&'a Group, Response> {
    let group = gl.group(key).ok_or_else(|| not_found("Group"))?;
    if who.admin || gl.group_access(group.id, who.user_id) > 0 {
        Ok(group)
    } else {
        Err(not_found("Group"))
    }
}

/// Requires at least `level` on the scope (admins always pass); 403 otherwise.
pub(crate) fn require_level(
    gl: &GitLab,
    who: &Caller,
    scope: super::state::gitlab::Scope,
    level: u8,
) -> Result<(), Response> {
    if who.admin || gl.scope_access(scope, who.user_id) >= level {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Resolves `projects/:id` or `groups/:id` to a hook/variable scope the caller may see.
pub(crate) fn resolve_scope(
    gl: &GitLab,
    who: &Caller,
    kind: &str,
    key: &str,
) -> Result<super::state::gitlab::Scope, Response> {
    use super::state::gitlab::Scope;
    if kind == "projects" {
        visible_project(gl, who, key).map(|p| Scope::Project(p.id))
    } else {
        visible_group(gl, who, key).map(|g| Scope::Group(g.id))
    }
}

type R = Route<GitLab>;

/// Finds the route for a request below `/api/v4`.
pub(crate) fn route(method: &Method, segs: &[String]) -> Option<R> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    let own = |x: &str| x.to_string();
    if let Some(r) = deploy_tokens::route(method, &s) {
        return Some(r);
    }
    if let Some(r) = service_accounts::route(method, &s) {
        return Some(r);
    }
    let r = match (m, s.as_slice()) {
        // personal access tokens
        ("GET", ["personal_access_tokens"]) => {
            R::new("GET /api/v4/personal_access_tokens", tokens::list_pats)
        }
        ("GET", ["personal_access_tokens", "self"]) => R::new(
            "GET /api/v4/personal_access_tokens/self",
            tokens::get_pat_self,
        ),
        ("GET", ["personal_access_tokens", id]) => {
            let id = own(id);
            R::new("GET /api/v4/personal_access_tokens/:id", move |g, _, r| {
                tokens::get_pat(g, r, &id)
            })
        }
        ("POST", ["personal_access_tokens", "self", "rotate"]) => R::new(
            "POST /api/v4/personal_access_tokens/self/rotate",
            tokens::rotate_pat_self,
        ),
        ("POST", ["personal_access_tokens", id, "rotate"]) => {
            let id = own(id);
            R::new(
                "POST /api/v4/personal_access_tokens/:id/rotate",
                move |g, i, r| tokens::rotate_pat(g, i, r, &id),
            )
        }
        ("DELETE", ["personal_access_tokens", "self"]) => R::new(
            "DELETE /api/v4/personal_access_tokens/self",
            tokens::revoke_pat_self,
        ),
        ("DELETE", ["personal_access_tokens", id]) => {
            let id = own(id);
            R::new(
                "DELETE /api/v4/personal_access_tokens/:id",
                move |g, _, r| tokens::revoke_pat(g, r, &id),
            )
        }
        ("POST", ["users", uid, "personal_access_tokens"]) => {
            let uid = own(uid);
            R::new(
                "POST /api/v4/users/:user_id/personal_access_tokens",
                move |g, i, r| tokens::create_pat(g, i, r, &uid),
            )
        }
        // project and group access tokens
        ("GET", [kind @ ("projects" | "groups"), id, "access_tokens"]) => {
            let (kind, id) = (own(kind), own(id));
            R::new(pat(&kind, "GET", "access_tokens"), move |g, _, r| {
                tokens::list_resource(g, r, &kind, &id)
            })
        }
        ("POST", [kind @ ("projects" | "groups"), id, "access_tokens"]) => {
            let (kind, id) = (own(kind), own(id));
            R::new(pat(&kind, "POST", "access_tokens"), move |g, i, r| {
                tokens::create_resource(g, i, r, &kind, &id)
            })
        }
        ("GET", [kind @ ("projects" | "groups"), id, "access_tokens", tid]) => {
            let (kind, id, tid) = (own(kind), own(id), own(tid));
            R::new(
                pat(&kind, "GET", "access_tokens/:token_id"),
                move |g, _, r| tokens::get_resource(g, r, &kind, &id, &tid),
            )
        }
        (
            "POST",
            [
                kind @ ("projects" | "groups"),
                id,
                "access_tokens",
                tid,
                "rotate",
            ],
        ) => {
            let (kind, id, tid) = (own(kind), own(id), own(tid));
            R::new(
                pat(&kind, "POST", "access_tokens/:token_id/rotate"),
                move |g, i, r| tokens::rotate_resource(g, i, r, &kind, &id, &tid),
            )
        }
        ("DELETE", [kind @ ("projects" | "groups"), id, "access_tokens", tid]) => {
            let (kind, id, tid) = (own(kind), own(id), own(tid));
            R::new(
                pat(&kind, "DELETE", "access_tokens/:token_id"),
                move |g, _, r| tokens::revoke_resource(g, r, &kind, &id, &tid),
            )
        }
        // pipeline triggers
        ("GET", ["projects", id, "triggers"]) => {
            let id = own(id);
            R::new("GET /api/v4/projects/:id/triggers", move |g, _, r| {
                triggers::list(g, r, &id)
            })
        }
        ("POST", ["projects", id, "triggers"]) => {
            let id = own(id);
            R::new("POST /api/v4/projects/:id/triggers", move |g, i, r| {
                triggers::create(g, i, r, &id)
            })
        }
        ("GET" | "PUT" | "DELETE", ["projects", id, "triggers", tid]) => {
            let (id, tid) = (own(id), own(tid));
            let pattern = match m {
                "GET" => "GET /api/v4/projects/:id/triggers/:trigger_id",
                "PUT" => "PUT /api/v4/projects/:id/triggers/:trigger_id",
                _ => "DELETE /api/v4/projects/:id/triggers/:trigger_id",
            };
            R::new(pattern, move |g, _, r| triggers::one(g, r, &id, &tid))
        }
        ("POST", ["projects", id, "trigger", "pipeline"]) => {
            let id = own(id);
            R::new(
                "POST /api/v4/projects/:id/trigger/pipeline",
                move |g, i, r| triggers::run(g, i, r, &id),
            )
        }
        // webhooks
        ("GET" | "POST", [kind @ ("projects" | "groups"), id, "hooks"]) => {
            let (kind, id) = (own(kind), own(id));
            R::new(pat(&kind, m, "hooks"), move |g, _, r| {
                hooks::collection(g, r, &kind, &id)
            })
        }
        ("GET" | "PUT" | "DELETE", [kind @ ("projects" | "groups"), id, "hooks", hid]) => {
            let (kind, id, hid) = (own(kind), own(id), own(hid));
            R::new(pat(&kind, m, "hooks/:hook_id"), move |g, _, r| {
                hooks::one(g, r, &kind, &id, &hid)
            })
        }
        (
            "PUT" | "DELETE",
            [
                kind @ ("projects" | "groups"),
                id,
                "hooks",
                hid,
                map @ ("custom_headers" | "url_variables"),
                key,
            ],
        ) => {
            let (kind, id, hid, map, key) = (own(kind), own(id), own(hid), own(map), own(key));
            let what = if map == "custom_headers" {
                "hooks/:hook_id/custom_headers/:key"
            } else {
                "hooks/:hook_id/url_variables/:key"
            };
            R::new(pat(&kind, m, what), move |g, _, r| {
                hooks::map_entry(g, r, &kind, &id, &hid, &map, &key)
            })
        }
        // CI/CD variables
        ("GET" | "POST", [kind @ ("projects" | "groups"), id, "variables"]) => {
            let (kind, id) = (own(kind), own(id));
            R::new(pat(&kind, m, "variables"), move |g, _, r| {
                variables::collection(g, r, &kind, &id)
            })
        }
        ("GET" | "PUT" | "DELETE", [kind @ ("projects" | "groups"), id, "variables", key]) => {
            let (kind, id, key) = (own(kind), own(id), own(key));
            R::new(pat(&kind, m, "variables/:key"), move |g, _, r| {
                variables::one(g, r, &kind, &id, &key)
            })
        }
        // issues and notes
        ("GET" | "POST", ["projects", id, "issues"]) => {
            let id = own(id);
            let pattern = if m == "GET" {
                "GET /api/v4/projects/:id/issues"
            } else {
                "POST /api/v4/projects/:id/issues"
            };
            R::new(pattern, move |g, _, r| issues::collection(g, r, &id))
        }
        ("GET" | "PUT", ["projects", id, "issues", iid]) => {
            let (id, iid) = (own(id), own(iid));
            let pattern = if m == "GET" {
                "GET /api/v4/projects/:id/issues/:issue_iid"
            } else {
                "PUT /api/v4/projects/:id/issues/:issue_iid"
            };
            R::new(pattern, move |g, _, r| issues::one(g, r, &id, &iid))
        }
        (
            "GET" | "POST",
            [
                "projects",
                id,
                kind @ ("merge_requests" | "issues"),
                iid,
                "notes",
            ],
        ) => {
            let (id, kind, iid) = (own(id), own(kind), own(iid));
            R::new(notes_pat(&kind, m, false), move |g, _, r| {
                issues::notes(g, r, &id, &kind, &iid, None)
            })
        }
        (
            "PUT",
            [
                "projects",
                id,
                kind @ ("merge_requests" | "issues"),
                iid,
                "notes",
                nid,
            ],
        ) => {
            let (id, kind, iid, nid) = (own(id), own(kind), own(iid), own(nid));
            R::new(notes_pat(&kind, m, true), move |g, _, r| {
                issues::notes(g, r, &id, &kind, &iid, Some(&nid))
            })
        }
        // discovery
        ("GET", ["user"]) => R::new("GET /api/v4/user", discovery::current_user),
        ("GET", ["users"]) => R::new("GET /api/v4/users", discovery::users),
        ("GET", ["projects"]) => R::new("GET /api/v4/projects", discovery::projects),
        ("GET", ["groups"]) => R::new("GET /api/v4/groups", discovery::groups),
        ("GET", ["users", id]) => {
            let id = own(id);
            R::new("GET /api/v4/users/:id", move |g, _, r| {
                discovery::user(g, r, &id)
            })
        }
        ("GET", ["projects", id]) => {
            let id = own(id);
            R::new("GET /api/v4/projects/:id", move |g, _, r| {
                discovery::project(g, r, &id)
            })
        }
        ("GET", ["groups", id]) => {
            let id = own(id);
            R::new("GET /api/v4/groups/:id", move |g, _, r| {
                discovery::group(g, r, &id)
            })
        }
        ("GET", ["groups", id, "projects"]) => {
            let id = own(id);
            R::new("GET /api/v4/groups/:id/projects", move |g, _, r| {
                discovery::group_projects(g, r, &id)
            })
        }
        ("GET", ["groups", id, "subgroups"]) => {
            let id = own(id);
            R::new("GET /api/v4/groups/:id/subgroups", move |g, _, r| {
                discovery::subgroups(g, r, &id)
            })
        }
        ("GET", [kind @ ("projects" | "groups"), id, "members", rest @ ..])
            if rest.is_empty() || rest == ["all"] =>
        {
            let (kind, id, all) = (own(kind), own(id), !rest.is_empty());
            let pattern = match (kind.as_str(), all) {
                ("projects", false) => "GET /api/v4/projects/:id/members",
                ("projects", true) => "GET /api/v4/projects/:id/members/all",
                (_, false) => "GET /api/v4/groups/:id/members",
                (_, true) => "GET /api/v4/groups/:id/members/all",
            };
            R::new(pattern, move |g, _, r| {
                discovery::members(g, r, &kind, &id, all)
            })
        }
        ("GET", ["groups", id, "descendant_groups"]) => {
            let id = own(id);
            R::new(
                "GET /api/v4/groups/:id/descendant_groups",
                move |g, _, r| discovery::descendant_groups(g, r, &id),
            )
        }
        // Terraform state
        ("GET" | "POST" | "DELETE", ["projects", id, "terraform", "state", name]) => {
            let (id, name) = (own(id), own(name));
            let pattern = match m {
                "GET" => "GET /api/v4/projects/:id/terraform/state/:name",
                "POST" => "POST /api/v4/projects/:id/terraform/state/:name",
                _ => "DELETE /api/v4/projects/:id/terraform/state/:name",
            };
            R::new(pattern, move |g, _, r| terraform::state(g, r, &id, &name))
        }
        ("POST" | "DELETE", ["projects", id, "terraform", "state", name, "lock"]) => {
            let (id, name) = (own(id), own(name));
            let pattern = if m == "POST" {
                "POST /api/v4/projects/:id/terraform/state/:name/lock"
            } else {
                "DELETE /api/v4/projects/:id/terraform/state/:name/lock"
            };
            R::new(pattern, move |g, _, r| terraform::lock(g, r, &id, &name))
        }
        _ => return None,
    };
    Some(r)
}

/// The route pattern `METHOD /api/v4/{projects|groups}/:id/<rest>` as a static string.
fn pat(kind: &str, method: &str, rest: &str) -> &'static str {
    const PATTERNS: &[&str] = &[
        "GET /api/v4/projects/:id/access_tokens",
        "POST /api/v4/projects/:id/access_tokens",
        "GET /api/v4/projects/:id/access_tokens/:token_id",
        "POST /api/v4/projects/:id/access_tokens/:token_id/rotate",
        "DELETE /api/v4/projects/:id/access_tokens/:token_id",
        "GET /api/v4/groups/:id/access_tokens",
        "POST /api/v4/groups/:id/access_tokens",
        "GET /api/v4/groups/:id/access_tokens/:token_id",
        "POST /api/v4/groups/:id/access_tokens/:token_id/rotate",
        "DELETE /api/v4/groups/:id/access_tokens/:token_id",
        "GET /api/v4/projects/:id/hooks",
        "POST /api/v4/projects/:id/hooks",
        "GET /api/v4/projects/:id/hooks/:hook_id",
        "PUT /api/v4/projects/:id/hooks/:hook_id",
        "DELETE /api/v4/projects/:id/hooks/:hook_id",
        "PUT /api/v4/projects/:id/hooks/:hook_id/custom_headers/:key",
        "DELETE /api/v4/projects/:id/hooks/:hook_id/custom_headers/:key",
        "PUT /api/v4/projects/:id/hooks/:hook_id/url_variables/:key",
        "DELETE /api/v4/projects/:id/hooks/:hook_id/url_variables/:key",
        "GET /api/v4/groups/:id/hooks",
        "POST /api/v4/groups/:id/hooks",
        "GET /api/v4/groups/:id/hooks/:hook_id",
        "PUT /api/v4/groups/:id/hooks/:hook_id",
        "DELETE /api/v4/groups/:id/hooks/:hook_id",
        "PUT /api/v4/groups/:id/hooks/:hook_id/custom_headers/:key",
        "DELETE /api/v4/groups/:id/hooks/:hook_id/custom_headers/:key",
        "PUT /api/v4/groups/:id/hooks/:hook_id/url_variables/:key",
        "DELETE /api/v4/groups/:id/hooks/:hook_id/url_variables/:key",
        "GET /api/v4/projects/:id/variables",
        "POST /api/v4/projects/:id/variables",
        "GET /api/v4/projects/:id/variables/:key",
        "PUT /api/v4/projects/:id/variables/:key",
        "DELETE /api/v4/projects/:id/variables/:key",
        "GET /api/v4/groups/:id/variables",
        "POST /api/v4/groups/:id/variables",
        "GET /api/v4/groups/:id/variables/:key",
        "PUT /api/v4/groups/:id/variables/:key",
        "DELETE /api/v4/groups/:id/variables/:key",
    ];
    let wanted = format!("{method} /api/v4/{kind}/:id/{rest}");
    PATTERNS
        .iter()
        .find(|p| **p == wanted)
        .copied()
        .unwrap_or("unknown route")
}

fn notes_pat(kind: &str, method: &str, one: bool) -> &'static str {
    match (kind, method, one) {
        ("issues", "GET", _) => "GET /api/v4/projects/:id/issues/:issue_iid/notes",
        ("issues", "POST", _) => "POST /api/v4/projects/:id/issues/:issue_iid/notes",
        ("issues", _, _) => "PUT /api/v4/projects/:id/issues/:issue_iid/notes/:note_id",
        (_, "GET", _) => "GET /api/v4/projects/:id/merge_requests/:merge_request_iid/notes",
        (_, "POST", _) => "POST /api/v4/projects/:id/merge_requests/:merge_request_iid/notes",
        _ => "PUT /api/v4/projects/:id/merge_requests/:merge_request_iid/notes/:note_id",
    }
}

/// Today's date on the sandbox clock, in UTC.
pub(crate) fn today(req: &Req) -> Date {
    super::state::utc_date(req.now)
}

/// Shorthand used by handlers that answer JSON.
pub(crate) fn ok(status: u16, body: serde_json::Value) -> Reply {
    Ok(json_reply(status, body))
}
