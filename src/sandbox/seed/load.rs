//! Loads a parsed [`Seed`] into a [`World`]: first every credential on every instance (so
//! that values can be referenced across platforms), then the consumers that hold them.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::Value as Json;

use super::{Seed, SeedError, ValueSeed, bad, date, level, when};
use crate::sandbox::state::gitlab::{
    GitLab, Group, Hook, MergeRequest, Project, Scope, TokenOwner, Variable,
};
use crate::sandbox::state::{Value, ValueKind, World};

/// Values by seed ref.
pub(super) type Refs = HashMap<String, Value>;

/// A seeded record's expiry date, when it has one, and its creation time (`now` unless
/// given).
fn dates(
    expires_at: Option<&str>,
    created_at: Option<&str>,
    now: Timestamp,
    what: &str,
) -> Result<(Option<jiff::civil::Date>, Timestamp), SeedError> {
    let expires = expires_at.map(|e| date(e, now, what)).transpose()?;
    let created = created_at.map(|c| when(c, now, what)).transpose()?;
    Ok((expires, created.unwrap_or(now)))
}

pub(super) fn bind(refs: &mut Refs, name: &Option<String>, value: &Value) -> Result<(), SeedError> {
    if let Some(name) = name
        && refs.insert(name.clone(), value.clone()).is_some()
    {
        return Err(bad(format!(
            "ref {name:?} is defined twice; give each value its own ref"
        )));
    }
    Ok(())
}

pub(super) fn resolve(refs: &Refs, v: &ValueSeed, what: &str) -> Result<Value, SeedError> {
    match v {
        ValueSeed::Plain(text) => Ok(Value::from_request(text)),
        ValueSeed::Ref { value_of, prefix } => refs
            .get(value_of)
            .map(|v| Value::from_request(&format!("{prefix}{}", v.reveal())))
            .ok_or_else(|| bad(format!("{what}: value_of {value_of:?} names no ref; add `ref: {value_of}` to a token or secret"))),
    }
}

pub(super) fn load(seed: &Seed, world: &mut World, now: Timestamp) -> Result<(), SeedError> {
    let mut refs = Refs::new();
    for s in &seed.secrets {
        let v = world.issuer.mint(ValueKind::Generated(s.length));
        bind(&mut refs, &Some(s.r#ref.clone()), &v)?;
    }
    for g in &seed.gitlab {
        let gl = gitlab_credentials(world, g, now, &mut refs)?;
        world.gitlab.insert(g.name.clone(), gl);
    }
    for (n, z) in seed.zendesk.iter().enumerate() {
        let zd =
            super::load_zendesk::credentials(world, z, (n as u64 + 1) * 1_000_000, now, &mut refs)?;
        world.zendesk.insert(z.name.clone(), zd);
    }
    for g in &seed.gitlab {
        let gl = world
            .gitlab
            .get_mut(&g.name)
            .ok_or_else(|| bad(format!("gitlab {:?} vanished", g.name)))?;
        gitlab_consumers(gl, g, now, &refs)?;
    }
    for z in &seed.zendesk {
        let zd = world
            .zendesk
            .get_mut(&z.name)
            .ok_or_else(|| bad(format!("zendesk {:?} vanished", z.name)))?;
        super::load_zendesk::consumers(zd, z, now, &refs, &mut world.issuer)?;
    }
    Ok(())
}

fn gitlab_credentials(
    world: &mut World,
    g: &super::GitLabSeed,
    now: Timestamp,
    refs: &mut Refs,
) -> Result<GitLab, SeedError> {
    let at = |what: &str| format!("gitlab {:?} {what}", g.name);
    let mut gl = GitLab::new(&g.name);
    gl.max_state_size = g.max_terraform_state_size_bytes;
    let mut users = HashMap::new();
    for u in &g.users {
        let id = gl.add_user(
            &u.username,
            u.name.as_deref().unwrap_or(&u.username),
            u.admin,
            false,
        );
        users.insert(u.username.clone(), id);
    }
    let user = |name: &str, what: &str| {
        users
            .get(name)
            .copied()
            .ok_or_else(|| bad(format!("{what}: unknown user {name:?}; add it under users")))
    };
    let mut groups: Vec<&super::SpaceSeed> = g.groups.iter().collect();
    groups.sort_by_key(|s| s.path.matches('/').count());
    let mut group_ids: HashMap<String, u64> = HashMap::new();
    for s in groups {
        let parent = match s.path.rsplit_once('/') {
            Some((parent, _)) => Some(group_ids.get(parent).copied().ok_or_else(|| {
                bad(at(&format!(
                    "group {:?}: parent group {parent:?} is not declared",
                    s.path
                )))
            })?),
            None => None,
        };
        let mut members = BTreeMap::new();
        for (name, role) in &s.members {
            members.insert(
                user(name, &at(&format!("group {:?}", s.path)))?,
                level(role, &at("member"))?,
            );
        }
        let id = gl.next_id();
        let leaf = s.path.rsplit('/').next().unwrap_or(&s.path).to_string();
        gl.groups.insert(
            id,
            Group {
                id,
                full_path: s.path.clone(),
                name: s.name.clone().unwrap_or(leaf),
                parent_id: parent,
                members,
            },
        );
        group_ids.insert(s.path.clone(), id);
    }
    let mut project_ids: HashMap<String, u64> = HashMap::new();
    for s in &g.projects {
        let (ns, leaf) = s
            .path
            .rsplit_once('/')
            .ok_or_else(|| bad(at(&format!("project {:?}: needs a group path", s.path))))?;
        let namespace_id = *group_ids.get(ns).ok_or_else(|| {
            bad(at(&format!(
                "project {:?}: group {ns:?} is not declared",
                s.path
            )))
        })?;
        let mut members = BTreeMap::new();
        for (name, role) in &s.members {
            members.insert(
                user(name, &at(&format!("project {:?}", s.path)))?,
                level(role, &at("member"))?,
            );
        }
        let id = gl.next_id();
        gl.projects.insert(
            id,
            Project {
                id,
                path_with_namespace: s.path.clone(),
                name: s.name.clone().unwrap_or(leaf.to_string()),
                namespace_id,
                members,
            },
        );
        project_ids.insert(s.path.clone(), id);
    }
    for u in &g.users {
        if let Some(group) = &u.enterprise_of {
            let gid = *group_ids.get(group).ok_or_else(|| {
                bad(at(&format!(
                    "user {:?}: unknown group {group:?}",
                    u.username
                )))
            })?;
            let uid = user(&u.username, &at("users"))?;
            if let Some(found) = gl.users.get_mut(&uid) {
                found.enterprise_of = Some(gid);
            }
        }
    }
    if let Some(admin) = &g.admin {
        let uid = user(admin, &at("admin"))?;
        let expires = date("+365d", now, "admin token")?;
        let id = gl.create_token(
            &mut world.issuer,
            TokenOwner::Personal,
            uid,
            "tokenops",
            Some("sandbox admin credential".into()),
            vec!["api".into()],
            None,
            Some(expires),
            now,
        );
        gl.admin_token = Some(gl.tokens[&id].value.clone());
        // Consumers name the admin credential as `value_of: <instance>/admin` (the variable
        // that holds tokenops's own credential).
        bind(
            refs,
            &Some(format!("{}/admin", g.name)),
            &gl.tokens[&id].value,
        )?;
    }
    for t in &g.tokens {
        let what = at(&format!("token {:?}", t.name));
        let (owner, uid, access) = match (&t.user, &t.project, &t.group) {
            (Some(u), None, None) => (TokenOwner::Personal, user(u, &what)?, None),
            (None, Some(p), None) => {
                let pid = *project_ids
                    .get(p)
                    .ok_or_else(|| bad(format!("{what}: unknown project {p:?}")))?;
                let lvl = level(t.access_level.as_deref().unwrap_or("maintainer"), &what)?;
                let owner = TokenOwner::Project(pid);
                (
                    owner,
                    gl.create_bot(&mut world.issuer, owner, &t.name, lvl),
                    Some(lvl),
                )
            }
            (None, None, Some(gp)) => {
                let gid = *group_ids
                    .get(gp)
                    .ok_or_else(|| bad(format!("{what}: unknown group {gp:?}")))?;
                let lvl = level(t.access_level.as_deref().unwrap_or("maintainer"), &what)?;
                let owner = TokenOwner::Group(gid);
                (
                    owner,
                    gl.create_bot(&mut world.issuer, owner, &t.name, lvl),
                    Some(lvl),
                )
            }
            _ => {
                return Err(bad(format!(
                    "{what}: give exactly one of user, project or group"
                )));
            }
        };
        let (expires, created) =
            dates(t.expires_at.as_deref(), t.created_at.as_deref(), now, &what)?;
        let mut id = gl.create_token(
            &mut world.issuer,
            owner,
            uid,
            &t.name,
            t.description.clone(),
            t.scopes.clone(),
            access,
            expires,
            created,
        );
        if t.previous_ref.is_some() {
            bind(refs, &t.previous_ref, &gl.tokens[&id].value)?;
            id = gl.rotate(
                &mut world.issuer,
                id,
                expires.unwrap_or(crate::sandbox::state::utc_date(now)),
                created,
            );
        }
        let token = gl.tokens.get_mut(&id).ok_or_else(|| bad(what.clone()))?;
        token.revoked = t.revoked;
        token.last_used_at = t
            .last_used_at
            .as_deref()
            .map(|u| when(u, now, &what))
            .transpose()?;
        let value = token.value.clone();
        bind(refs, &t.r#ref, &value)?;
    }
    for t in &g.triggers {
        let what = at(&format!("trigger {:?}", t.description));
        let pid = *project_ids
            .get(&t.project)
            .ok_or_else(|| bad(format!("{what}: unknown project {:?}", t.project)))?;
        let owner = user(&t.owner, &what)?;
        let (expires, created) =
            dates(t.expires_at.as_deref(), t.created_at.as_deref(), now, &what)?;
        let id = gl.create_trigger(
            &mut world.issuer,
            pid,
            &t.description,
            owner,
            expires,
            created,
        );
        let value = gl.triggers[&id].value.clone();
        bind(refs, &t.r#ref, &value)?;
    }
    for t in &g.deploy_tokens {
        let what = at(&format!("deploy token {:?}", t.name));
        let scope = match (&t.project, &t.group) {
            (Some(p), None) => Scope::Project(
                *project_ids
                    .get(p)
                    .ok_or_else(|| bad(format!("{what}: unknown project {p:?}")))?,
            ),
            (None, Some(gp)) => Scope::Group(
                *group_ids
                    .get(gp)
                    .ok_or_else(|| bad(format!("{what}: unknown group {gp:?}")))?,
            ),
            _ => return Err(bad(format!("{what}: give exactly one of project or group"))),
        };
        let (expires, created) =
            dates(t.expires_at.as_deref(), t.created_at.as_deref(), now, &what)?;
        let creator = gl
            .user_by_name(g.admin.as_deref().unwrap_or_default())
            .map_or(0, |u| u.id);
        let id = gl.create_deploy_token(
            &mut world.issuer,
            scope,
            &t.name,
            t.username.clone(),
            t.scopes.clone(),
            expires,
            creator,
            created,
        );
        let token = gl
            .deploy_tokens
            .get_mut(&id)
            .ok_or_else(|| bad(what.clone()))?;
        token.revoked = t.revoked;
        let value = token.value.clone();
        bind(refs, &t.r#ref, &value)?;
    }
    for a in &g.service_accounts {
        let what = at(&format!("service account {:?}", a.username));
        let gid = *group_ids
            .get(&a.group)
            .ok_or_else(|| bad(format!("{what}: unknown group {:?}", a.group)))?;
        if gl.groups.get(&gid).is_some_and(|g| g.parent_id.is_some()) {
            return Err(bad(format!(
                "{what}: {:?} is not a top-level group",
                a.group
            )));
        }
        let uid =
            gl.add_service_account(gid, &a.username, a.name.as_deref().unwrap_or(&a.username));
        for t in &a.tokens {
            let what = format!("{what} token {:?}", t.name);
            let (expires, created) =
                dates(t.expires_at.as_deref(), t.created_at.as_deref(), now, &what)?;
            let id = gl.create_token(
                &mut world.issuer,
                TokenOwner::Personal,
                uid,
                &t.name,
                t.description.clone(),
                t.scopes.clone(),
                None,
                expires,
                created,
            );
            let token = gl.tokens.get_mut(&id).ok_or_else(|| bad(what.clone()))?;
            token.last_used_at = t
                .last_used_at
                .as_deref()
                .map(|u| when(u, now, &what))
                .transpose()?;
            let value = token.value.clone();
            bind(refs, &t.r#ref, &value)?;
        }
    }
    for m in &g.merge_requests {
        let pid = *project_ids.get(&m.project).ok_or_else(|| {
            bad(at(&format!(
                "merge request: unknown project {:?}",
                m.project
            )))
        })?;
        let id = gl.next_id();
        gl.merge_requests.insert(
            id,
            MergeRequest {
                id,
                iid: m.iid,
                project_id: pid,
                title: m.title.clone(),
            },
        );
    }
    Ok(gl)
}

fn scope_of(
    gl: &GitLab,
    project: &Option<String>,
    group: &Option<String>,
    what: &str,
) -> Result<Scope, SeedError> {
    match (project, group) {
        (Some(p), None) => gl
            .project(p)
            .map(|p| Scope::Project(p.id))
            .ok_or_else(|| bad(format!("{what}: unknown project {p:?}"))),
        (None, Some(g)) => gl
            .group(g)
            .map(|g| Scope::Group(g.id))
            .ok_or_else(|| bad(format!("{what}: unknown group {g:?}"))),
        _ => Err(bad(format!("{what}: give exactly one of project or group"))),
    }
}

fn gitlab_consumers(
    gl: &mut GitLab,
    g: &super::GitLabSeed,
    now: Timestamp,
    refs: &Refs,
) -> Result<(), SeedError> {
    for h in &g.hooks {
        let what = format!("gitlab {:?} hook {:?}", g.name, h.url);
        let scope = scope_of(gl, &h.project, &h.group, &what)?;
        let token = h
            .token
            .as_ref()
            .map(|t| resolve(refs, t, &what))
            .transpose()?;
        let mut custom_headers = BTreeMap::new();
        for (k, v) in &h.custom_headers {
            custom_headers.insert(k.clone(), resolve(refs, v, &what)?);
        }
        let settings = h
            .events
            .iter()
            .map(|(k, v)| (k.clone(), Json::Bool(*v)))
            .collect();
        let id = gl.next_id();
        gl.hooks.insert(
            id,
            Hook {
                id,
                scope,
                url: h.url.clone(),
                name: h.name.clone(),
                description: None,
                token,
                settings,
                custom_headers,
                url_variables: BTreeMap::new(),
                created_at: now,
            },
        );
    }
    for v in &g.variables {
        let what = format!("gitlab {:?} variable {:?}", g.name, v.key);
        let scope = scope_of(gl, &v.project, &v.group, &what)?;
        let value = resolve(refs, &v.value, &what)?;
        gl.variables.push(Variable {
            scope,
            key: v.key.clone(),
            value,
            variable_type: "env_var".into(),
            protected: v.protected,
            masked: v.masked || v.hidden,
            hidden: v.hidden,
            raw: v.raw,
            environment_scope: v.environment_scope.clone().unwrap_or_else(|| "*".into()),
            description: v.description.clone(),
        });
    }
    Ok(())
}
