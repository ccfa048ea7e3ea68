//! Issues (create, list with search and labels, get, edit, close and reopen) and notes on
//! issues and merge requests (list, create, update).

use serde_json::{Value as Json, json};

use super::{Need, auth, bad_request, forbidden, missing, not_found, ok, visible_project};
use crate::sandbox::http::{Reply, Req};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::state::gitlab::{GitLab, Issue, Note};
use crate::sandbox::state::gl_time;

fn author(gl: &GitLab, id: u64) -> Json {
    gl.users
        .get(&id)
        .map(|u| json!({"id": u.id, "username": u.username, "name": u.name, "state": u.state}))
        .unwrap_or(Json::Null)
}

fn issue_json(gl: &GitLab, i: &Issue) -> Json {
    let path = gl
        .projects
        .get(&i.project_id)
        .map(|p| p.path_with_namespace.clone())
        .unwrap_or_default();
    json!({
        "id": i.id, "iid": i.iid, "project_id": i.project_id, "title": i.title,
        "description": i.description, "state": i.state, "labels": i.labels, "confidential": false,
        "assignees": [], "author": author(gl, i.author_id),
        "web_url": format!("https://{}/{}/-/issues/{}", gl.host, path, i.iid),
        "created_at": gl_time(i.created_at), "updated_at": gl_time(i.updated_at),
        "closed_at": i.closed_at.map(gl_time),
    })
}

fn labels(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `GET` (list) and `POST` (create) on `/projects/:id/issues`.
pub(crate) fn collection(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let project = visible_project(gl, &who, key)?.id;
    if req.method == axum::http::Method::GET {
        let state = req.query("state").unwrap_or("all");
        let wanted = req.query("labels").map(labels).unwrap_or_default();
        let search = req.query("search").map(str::to_lowercase);
        let title_only = req.query("in") == Some("title");
        let mut items: Vec<&Issue> = gl
            .issues
            .values()
            .filter(|i| i.project_id == project)
            .filter(|i| state == "all" || i.state == state)
            .filter(|i| wanted.iter().all(|l| i.labels.contains(l)))
            .filter(|i| {
                search.as_ref().is_none_or(|s| {
                    let in_title = i.title.to_lowercase().contains(s);
                    let in_body = !title_only
                        && i.description
                            .as_ref()
                            .is_some_and(|d| d.to_lowercase().contains(s));
                    in_title || in_body
                })
            })
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse(i.created_at));
        if req.query("sort") == Some("asc") {
            items.reverse();
        }
        let items = items.into_iter().map(|i| issue_json(gl, i)).collect();
        return Ok(gitlab_page(req, items));
    }
    let title = req
        .str("title")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| missing("title"))?;
    let id = gl.next_id();
    let iid = gl
        .issues
        .values()
        .filter(|i| i.project_id == project)
        .map(|i| i.iid)
        .max()
        .unwrap_or(0)
        + 1;
    let issue = Issue {
        id,
        iid,
        project_id: project,
        title,
        description: req.str("description"),
        labels: req.list("labels").unwrap_or_default(),
        state: "opened".into(),
        author_id: who.user_id,
        created_at: req.now,
        updated_at: req.now,
        closed_at: None,
    };
    let body = issue_json(gl, &issue);
    gl.issues.insert(id, issue);
    ok(201, body)
}

/// `GET` and `PUT /projects/:id/issues/:issue_iid`.
pub(crate) fn one(gl: &mut GitLab, req: &Req, key: &str, iid: &str) -> Reply {
    let who = auth(gl, req, super::auth::by_method(req))?;
    let project = visible_project(gl, &who, key)?.id;
    let iid: u64 = iid.parse().map_err(|_| not_found(""))?;
    let id = gl
        .issues
        .values()
        .find(|i| i.project_id == project && i.iid == iid)
        .map(|i| i.id)
        .ok_or_else(|| not_found(""))?;
    if req.method == axum::http::Method::GET {
        return ok(200, issue_json(gl, &gl.issues[&id]));
    }
    const FIELDS: &[&str] = &[
        "title",
        "description",
        "labels",
        "add_labels",
        "remove_labels",
        "state_event",
        "assignee_ids",
        "confidential",
        "discussion_locked",
    ];
    if !FIELDS.iter().any(|f| req.has(f)) {
        return Err(bad_request("at least one parameter must be provided"));
    }
    let issue = gl.issues.get_mut(&id).ok_or_else(|| not_found(""))?;
    if let Some(t) = req.str("title") {
        issue.title = t;
    }
    if req.has("description") {
        issue.description = req.str("description");
    }
    if let Some(l) = req.list("labels") {
        issue.labels = l;
    }
    for l in req.list("add_labels").unwrap_or_default() {
        if !issue.labels.contains(&l) {
            issue.labels.push(l);
        }
    }
    let remove = req.list("remove_labels").unwrap_or_default();
    issue.labels.retain(|l| !remove.contains(l));
    match req.str("state_event").as_deref() {
        Some("close") => {
            issue.state = "closed".into();
            issue.closed_at = Some(req.now);
        }
        Some("reopen") => {
            issue.state = "opened".into();
            issue.closed_at = None;
        }
        _ => {}
    }
    issue.updated_at = req.now;
    ok(200, issue_json(gl, &gl.issues[&id]))
}

fn note_json(gl: &GitLab, n: &Note) -> Json {
    json!({
        "id": n.id, "body": n.body, "author": author(gl, n.author_id),
        "created_at": gl_time(n.created_at), "updated_at": gl_time(n.updated_at),
        "system": n.system, "noteable_id": n.noteable_id, "noteable_iid": n.noteable_iid,
        "noteable_type": n.noteable_type, "resolvable": false, "internal": false,
    })
}

/// Notes on an issue or merge request: list, create, or update note `nid`.
pub(crate) fn notes(
    gl: &mut GitLab,
    req: &Req,
    key: &str,
    kind: &str,
    iid: &str,
    nid: Option<&str>,
) -> Reply {
    let who = auth(
        gl,
        req,
        if req.method == axum::http::Method::GET {
            Need::Read
        } else {
            Need::Write
        },
    )?;
    let project = visible_project(gl, &who, key)?.id;
    let iid: u64 = iid.parse().map_err(|_| not_found(""))?;
    let (noteable_type, noteable_id) = if kind == "issues" {
        let id = gl
            .issues
            .values()
            .find(|i| i.project_id == project && i.iid == iid)
            .map(|i| i.id);
        ("Issue", id.ok_or_else(|| not_found("Issue"))?)
    } else {
        let id = gl
            .merge_requests
            .values()
            .find(|m| m.project_id == project && m.iid == iid)
            .map(|m| m.id);
        (
            "MergeRequest",
            id.ok_or_else(|| not_found("Merge Request"))?,
        )
    };
    let on_this = |n: &Note| n.noteable_type == noteable_type && n.noteable_id == noteable_id;
    match (req.method.as_str(), nid) {
        ("GET", _) => {
            let mut items: Vec<&Note> = gl.notes.values().filter(|n| on_this(n)).collect();
            let by_updated = req.query("order_by") == Some("updated_at");
            items.sort_by_key(|n| {
                (
                    if by_updated {
                        n.updated_at
                    } else {
                        n.created_at
                    },
                    n.id,
                )
            });
            if req.query("sort") != Some("asc") {
                items.reverse();
            }
            let items = items.into_iter().map(|n| note_json(gl, n)).collect();
            Ok(gitlab_page(req, items))
        }
        ("POST", _) => {
            let body = req
                .str("body")
                .filter(|b| !b.is_empty())
                .ok_or_else(|| missing("body"))?;
            let id = gl.next_id();
            let note = Note {
                id,
                project_id: project,
                noteable_type: noteable_type.into(),
                noteable_id,
                noteable_iid: iid,
                body,
                author_id: who.user_id,
                system: false,
                created_at: req.now,
                updated_at: req.now,
            };
            let out = note_json(gl, &note);
            gl.notes.insert(id, note);
            ok(201, out)
        }
        (_, Some(nid)) => {
            let id: u64 = nid.parse().map_err(|_| not_found("Note"))?;
            let body = req.str("body").ok_or_else(|| missing("body"))?;
            let note = gl
                .notes
                .get_mut(&id)
                .filter(|n| on_this(n))
                .ok_or_else(|| not_found("Note"))?;
            if note.author_id != who.user_id && !who.admin {
                return Err(forbidden());
            }
            note.body = body;
            note.updated_at = req.now;
            ok(200, note_json(gl, &gl.notes[&id]))
        }
        _ => Err(not_found("")),
    }
}
