//! Project and group webhooks. The secret `token` is write-only (never in any response) and
//! a change of `url` that does not resend it clears it, as GitLab's model does; custom
//! header and URL-variable values are masked to their keys.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::{Need, auth, missing, not_found, ok, resolve_scope};
use crate::sandbox::http::{Reply, Req, empty, json as json_reply};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::state::gitlab::{GitLab, Hook, Scope};
use crate::sandbox::state::{Value, gl_time};

const EVENT_FIELDS: &[&str] = &[
    "push_events",
    "tag_push_events",
    "issues_events",
    "confidential_issues_events",
    "merge_requests_events",
    "note_events",
    "confidential_note_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "feature_flag_events",
    "releases_events",
    "emoji_events",
    "resource_access_token_events",
    "repository_update_events",
    "milestone_events",
    "subgroup_events",
    "member_events",
    "enable_ssl_verification",
    "push_events_branch_filter",
    "branch_filter_strategy",
    "custom_webhook_template",
];

fn hook_json(h: &Hook) -> Json {
    let mut body = Map::new();
    body.insert("id".into(), json!(h.id));
    body.insert("url".into(), json!(h.url));
    body.insert("name".into(), json!(h.name));
    body.insert("description".into(), json!(h.description));
    match h.scope {
        Scope::Project(p) => body.insert("project_id".into(), json!(p)),
        Scope::Group(g) => body.insert("group_id".into(), json!(g)),
    };
    for field in EVENT_FIELDS {
        let default = match *field {
            "push_events" | "enable_ssl_verification" => json!(true),
            "push_events_branch_filter" => json!(""),
            "branch_filter_strategy" => json!("wildcard"),
            "custom_webhook_template" => Json::Null,
            _ => json!(false),
        };
        body.insert(
            (*field).into(),
            h.settings.get(*field).cloned().unwrap_or(default),
        );
    }
    body.insert("alert_status".into(), json!("executable"));
    body.insert("disabled_until".into(), Json::Null);
    body.insert("created_at".into(), json!(gl_time(h.created_at)));
    body.insert(
        "url_variables".into(),
        Json::Array(h.url_variables.keys().map(|k| json!({"key": k})).collect()),
    );
    body.insert(
        "custom_headers".into(),
        Json::Array(h.custom_headers.keys().map(|k| json!({"key": k})).collect()),
    );
    Json::Object(body)
}

fn valid_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > 8
        && !url.contains(' ')
}

/// Reads `[{key,value}]` arrays into a map.
fn key_values(req: &Req, field: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Some(Json::Array(items)) = req.params.get(field) {
        for item in items {
            if let (Some(k), Some(v)) = (item["key"].as_str(), item["value"].as_str()) {
                out.insert(k.to_string(), Value::from_request(v));
            }
        }
    }
    out
}

/// Applies the body of an add or edit to `hook`.
fn apply(hook: &mut Hook, req: &Req) -> Result<(), axum::response::Response> {
    let new_url = req.str("url");
    let token = req.str("token");
    if token.as_deref().is_some_and(|t| t.contains('\n')) {
        return Err(json_reply(
            422,
            json!({"message": {"token": ["must not contain newlines"]}}),
        ));
    }
    if let Some(url) = &new_url {
        if !valid_url(url) {
            return Err(json_reply(422, json!({"error": "Invalid url given"})));
        }
        if *url != hook.url {
            // GitLab's model: a new URL drops the secret unless it is sent again, and
            // drops custom headers (those sent in this request are added back below).
            hook.url = url.clone();
            hook.custom_headers.clear();
            if token.is_none() {
                hook.token = None;
            }
        }
    }
    if let Some(t) = token {
        hook.token = if t.is_empty() {
            None
        } else {
            Some(Value::from_request(&t))
        };
    }
    if let Some(name) = req.str("name") {
        hook.name = Some(name);
    }
    if let Some(description) = req.str("description") {
        hook.description = Some(description);
    }
    for field in EVENT_FIELDS {
        if let Some(v) = req.params.get(*field) {
            let v = match v {
                Json::String(s) if s == "true" || s == "false" => json!(s == "true"),
                other => other.clone(),
            };
            hook.settings.insert((*field).to_string(), v);
        }
    }
    hook.custom_headers
        .extend(key_values(req, "custom_headers"));
    hook.url_variables.extend(key_values(req, "url_variables"));
    Ok(())
}

/// `GET` (list) and `POST` (add) on `/{projects|groups}/:id/hooks`.
pub(crate) fn collection(gl: &mut GitLab, req: &Req, kind: &str, key: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let scope = resolve_scope(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, if kind == "projects" { 40 } else { 50 })?;
    if req.method == axum::http::Method::GET {
        let items = gl
            .hooks
            .values()
            .filter(|h| h.scope == scope)
            .map(hook_json)
            .collect();
        return Ok(gitlab_page(req, items));
    }
    if req.str("url").is_none() {
        return Err(missing("url"));
    }
    let id = gl.next_id();
    let mut hook = Hook {
        id,
        scope,
        url: String::new(),
        name: None,
        description: None,
        token: None,
        settings: Map::new(),
        custom_headers: BTreeMap::new(),
        url_variables: BTreeMap::new(),
        created_at: req.now,
    };
    apply(&mut hook, req)?;
    let body = hook_json(&hook);
    gl.hooks.insert(id, hook);
    ok(201, body)
}

fn find(gl: &GitLab, scope: Scope, hid: &str) -> Result<u64, axum::response::Response> {
    hid.parse::<u64>()
        .ok()
        .filter(|id| gl.hooks.get(id).is_some_and(|h| h.scope == scope))
        .ok_or_else(|| not_found("Hook"))
}

/// `GET`, `PUT` and `DELETE /{projects|groups}/:id/hooks/:hook_id`.
pub(crate) fn one(gl: &mut GitLab, req: &Req, kind: &str, key: &str, hid: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let scope = resolve_scope(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, if kind == "projects" { 40 } else { 50 })?;
    let id = find(gl, scope, hid)?;
    match req.method.as_str() {
        "GET" => ok(200, hook_json(&gl.hooks[&id])),
        "PUT" => {
            if req.params.is_empty() {
                return Err(super::bad_request("No parameters provided"));
            }
            let mut hook = gl.hooks[&id].clone();
            apply(&mut hook, req)?;
            let body = hook_json(&hook);
            gl.hooks.insert(id, hook);
            ok(200, body)
        }
        _ => {
            gl.hooks.remove(&id);
            Ok(empty(204))
        }
    }
}

/// `PUT`/`DELETE …/hooks/:hook_id/{custom_headers|url_variables}/:key`.
pub(crate) fn map_entry(
    gl: &mut GitLab,
    req: &Req,
    kind: &str,
    key: &str,
    hid: &str,
    map: &str,
    entry: &str,
) -> Reply {
    let who = auth(gl, req, Need::Write)?;
    let scope = resolve_scope(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, if kind == "projects" { 40 } else { 50 })?;
    let id = find(gl, scope, hid)?;
    let hook = gl.hooks.get_mut(&id).ok_or_else(|| not_found("Hook"))?;
    let target = if map == "custom_headers" {
        &mut hook.custom_headers
    } else {
        &mut hook.url_variables
    };
    if req.method == axum::http::Method::PUT {
        let value = req.str("value").ok_or_else(|| missing("value"))?;
        target.insert(entry.to_string(), Value::from_request(&value));
    } else if target.remove(entry).is_none() {
        return Err(not_found(if map == "custom_headers" {
            "Custom header"
        } else {
            "URL variable"
        }));
    }
    Ok(empty(204))
}
