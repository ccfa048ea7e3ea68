//! Discovery: the current user, users, projects, groups, a group's projects (with
//! `include_subgroups`), its subgroups and descendant groups, and members.

use serde_json::{Value as Json, json};

use super::{Need, auth, invalid, not_found, ok, visible_group, visible_project};
use crate::sandbox::http::{Reply, Req};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::state::Issuer;
use crate::sandbox::state::gitlab::{GitLab, Group, Project, User};

fn user_json(gl: &GitLab, u: &User) -> Json {
    json!({
        "id": u.id, "username": u.username, "name": u.name, "state": u.state, "bot": u.bot,
        "avatar_url": null, "web_url": format!("https://{}/{}", gl.host, u.username),
    })
}

fn project_json(gl: &GitLab, p: &Project) -> Json {
    let namespace = gl.groups.get(&p.namespace_id);
    let path = p.path_with_namespace.rsplit('/').next().unwrap_or_default();
    json!({
        "id": p.id, "name": p.name, "path": path, "path_with_namespace": p.path_with_namespace,
        "web_url": format!("https://{}/{}", gl.host, p.path_with_namespace),
        "namespace": namespace.map(|g| json!({"id": g.id, "full_path": g.full_path, "kind": "group"})),
        "archived": false,
    })
}

fn group_json(gl: &GitLab, g: &Group) -> Json {
    json!({
        "id": g.id, "name": g.name, "path": g.full_path.rsplit('/').next().unwrap_or_default(),
        "full_path": g.full_path, "parent_id": g.parent_id,
        "web_url": format!("https://{}/groups/{}", gl.host, g.full_path),
    })
}

/// `GET /user`.
pub(crate) fn current_user(gl: &mut GitLab, _: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::ReadUser)?;
    let user = &gl.users[&who.user_id];
    let mut body = user_json(gl, user);
    body["email"] = json!(user.email);
    body["is_admin"] = json!(user.admin);
    ok(200, body)
}

/// A user as GitLab shows it to `admin` callers too: with `is_admin` and `email`.
fn user_for(gl: &GitLab, u: &User, admin: bool) -> Json {
    let mut body = user_json(gl, u);
    if admin {
        body["email"] = json!(u.email);
        body["is_admin"] = json!(u.admin);
    }
    body
}

/// `GET /users` with `username` (exact) or `search` (substring).
pub(crate) fn users(gl: &mut GitLab, _: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::ReadUser)?;
    let username = req.query("username");
    let search = req.query("search").map(str::to_lowercase);
    let items = gl
        .users
        .values()
        .filter(|u| username.is_none_or(|n| u.username.eq_ignore_ascii_case(n)))
        .filter(|u| {
            search.as_ref().is_none_or(|s| {
                u.username.to_lowercase().contains(s)
                    || u.name.to_lowercase().contains(s)
                    || u.email.to_lowercase() == *s
            })
        })
        .map(|u| user_for(gl, u, who.admin))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `GET /users/:id`.
pub(crate) fn user(gl: &mut GitLab, req: &Req, id: &str) -> Reply {
    let who = auth(gl, req, Need::ReadUser)?;
    let user = id
        .parse::<u64>()
        .ok()
        .and_then(|id| gl.users.get(&id))
        .ok_or_else(|| not_found("User"))?;
    ok(200, user_for(gl, user, who.admin))
}

/// `GET /projects`: the projects the caller is a member of (every one for an admin), with
/// `search` and `membership`.
pub(crate) fn projects(gl: &mut GitLab, _: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let search = req.query("search").map(str::to_lowercase);
    let membership = req.bool("membership").unwrap_or(false);
    let items = gl
        .projects
        .values()
        .filter(|p| {
            let member = gl.project_access(p.id, who.user_id) > 0;
            if membership {
                member
            } else {
                who.admin || member
            }
        })
        .filter(|p| {
            search.as_ref().is_none_or(|s| {
                p.name.to_lowercase().contains(s)
                    || p.path_with_namespace.to_lowercase().contains(s)
            })
        })
        .map(|p| project_json(gl, p))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `GET /groups`: the groups the caller can see (every one for an admin), with `search`.
pub(crate) fn groups(gl: &mut GitLab, _: &mut Issuer, req: &Req) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let search = req.query("search").map(str::to_lowercase);
    let items = gl
        .groups
        .values()
        .filter(|g| who.admin || gl.group_access(g.id, who.user_id) > 0)
        .filter(|g| {
            search
                .as_ref()
                .is_none_or(|s| g.full_path.to_lowercase().contains(s))
        })
        .map(|g| group_json(gl, g))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `GET /projects/:id`.
pub(crate) fn project(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let p = visible_project(gl, &who, key)?;
    ok(200, project_json(gl, p))
}

/// `GET /groups/:id`.
pub(crate) fn group(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let g = visible_group(gl, &who, key)?;
    ok(200, group_json(gl, g))
}

/// `GET /groups/:id/projects` (`include_subgroups`, `search`).
pub(crate) fn group_projects(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let group = visible_group(gl, &who, key)?.id;
    let include = match req.query("include_subgroups") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(invalid("include_subgroups")),
    };
    let groups = if include {
        gl.descendants(group)
    } else {
        vec![group]
    };
    let search = req.query("search").map(str::to_lowercase);
    let items = gl
        .projects
        .values()
        .filter(|p| groups.contains(&p.namespace_id))
        .filter(|p| {
            search
                .as_ref()
                .is_none_or(|s| p.name.to_lowercase().contains(s))
        })
        .map(|p| project_json(gl, p))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `GET /groups/:id/descendant_groups`.
pub(crate) fn descendant_groups(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let group = visible_group(gl, &who, key)?.id;
    let items = gl
        .descendants(group)
        .into_iter()
        .filter(|id| *id != group)
        .filter_map(|id| gl.groups.get(&id))
        .map(|g| group_json(gl, g))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `GET /groups/:id/subgroups`: direct children only.
pub(crate) fn subgroups(gl: &mut GitLab, req: &Req, key: &str) -> Reply {
    let who = auth(gl, req, Need::Read)?;
    let group = visible_group(gl, &who, key)?.id;
    let items = gl
        .groups
        .values()
        .filter(|g| g.parent_id == Some(group))
        .map(|g| group_json(gl, g))
        .collect();
    Ok(gitlab_page(req, items))
}

/// `GET /{projects|groups}/:id/members` (direct) and `…/members/all` (with inherited
/// members, each at their highest level); `query` filters by name or username.
pub(crate) fn members(gl: &mut GitLab, req: &Req, kind: &str, key: &str, all: bool) -> Reply {
    use std::collections::BTreeMap;
    let who = auth(gl, req, Need::Read)?;
    let mut levels: BTreeMap<u64, u8> = BTreeMap::new();
    let mut add = |members: &BTreeMap<u64, u8>| {
        for (user, level) in members {
            let entry = levels.entry(*user).or_insert(0);
            *entry = (*entry).max(*level);
        }
    };
    let mut group = if kind == "projects" {
        let p = visible_project(gl, &who, key)?;
        add(&p.members);
        if all { Some(p.namespace_id) } else { None }
    } else {
        let g = visible_group(gl, &who, key)?;
        add(&g.members);
        if all { g.parent_id } else { None }
    };
    while let Some(id) = group {
        let Some(g) = gl.groups.get(&id) else { break };
        add(&g.members);
        group = g.parent_id;
    }
    let query = req.query("query").map(str::to_lowercase);
    let items = levels
        .into_iter()
        .filter_map(|(id, level)| gl.users.get(&id).map(|u| (u, level)))
        .filter(|(u, _)| {
            query.as_ref().is_none_or(|q| {
                u.username.to_lowercase().contains(q) || u.name.to_lowercase().contains(q)
            })
        })
        .map(|(u, level)| {
            let mut body = user_json(gl, u);
            body["access_level"] = json!(level);
            body["expires_at"] = Json::Null;
            body
        })
        .collect();
    Ok(gitlab_page(req, items))
}
