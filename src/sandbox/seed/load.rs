//! Loads a parsed [`Seed`] into a [`World`]: first every credential on every instance (so
//! that values can be referenced across platforms), then the consumers that hold them.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::Value as Json;

use super::{Seed, SeedError, ValueSeed, bad, date, level, when};
use crate::sandbox::state::gitlab::{
    GitLab, Group, Hook, MergeRequest, Project, Scope, TokenOwner, Variable,
};
use crate::sandbox::state::zendesk::{
    ApiToken, App, AppParameter, Installation, OAuthClient, Webhook, WebhookAuth, Zendesk,
};
use crate::sandbox::state::{Value, ValueKind, World};

/// Values by seed ref.
type Refs = HashMap<String, Value>;

fn bind(refs: &mut Refs, name: &Option<String>, value: &Value) -> Result<(), SeedError> {
    if let Some(name) = name
        && refs.insert(name.clone(), value.clone()).is_some()
    {
        return Err(bad(format!(
            "ref {name:?} is defined twice; give each value its own ref"
        )));
    }
    Ok(())
}

fn resolve(refs: &Refs, v: &ValueSeed, what: &str) -> Result<Value, SeedError> {
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
        let zd = zendesk_credentials(world, z, (n as u64 + 1) * 1_000_000, now, &mut refs)?;
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
        zendesk_consumers(zd, z, now, &refs, &mut world.issuer)?;
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
        let expires = t
            .expires_at
            .as_deref()
            .map(|e| date(e, now, &what))
            .transpose()?;
        let created = t
            .created_at
            .as_deref()
            .map(|c| when(c, now, &what))
            .transpose()?
            .unwrap_or(now);
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
        let expires = t
            .expires_at
            .as_deref()
            .map(|e| date(e, now, &what))
            .transpose()?;
        let created = t
            .created_at
            .as_deref()
            .map(|c| when(c, now, &what))
            .transpose()?
            .unwrap_or(now);
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

fn zendesk_credentials(
    world: &mut World,
    z: &super::ZendeskSeed,
    id_base: u64,
    now: Timestamp,
    refs: &mut Refs,
) -> Result<Zendesk, SeedError> {
    let at = |what: &str| format!("zendesk {:?} {what}", z.name);
    let mut zd = Zendesk::new(id_base);
    zd.api_token_access = z.api_token_access;
    for u in &z.users {
        zd.add_user(&u.name, &u.email, &u.role);
    }
    let user = |zd: &Zendesk, email: &str, what: &str| {
        zd.user_by_email(email).map(|u| u.id).ok_or_else(|| {
            bad(format!(
                "{what}: unknown user {email:?}; add it under users"
            ))
        })
    };
    let admin = z
        .admin
        .as_deref()
        .map(|a| user(&zd, a, &at("admin")))
        .transpose()?;
    if let Some(admin) = admin {
        // The handed-out admin credential belongs to no listed client (client_id 0).
        let id = zd.mint_oauth_token(
            &mut world.issuer,
            0,
            admin,
            vec!["read".into(), "write".into()],
            None,
            None,
            now,
        );
        zd.admin_token = Some(zd.oauth_tokens[&id].value.clone());
    }
    for c in &z.oauth_clients {
        let id = zd.next_id();
        let secret = world.issuer.mint(ValueKind::ZendeskClientSecret);
        bind(refs, &c.r#ref, &secret)?;
        zd.clients.insert(
            id,
            OAuthClient {
                id,
                identifier: c.identifier.clone(),
                name: c.name.clone(),
                kind: c.kind.clone(),
                secret,
                user_id: admin.unwrap_or(0),
                redirect_uri: vec![],
                created_at: now,
                updated_at: now,
            },
        );
    }
    for t in &z.oauth_tokens {
        let what = at(&format!("oauth token for {:?}", t.client));
        let client = zd
            .clients
            .values()
            .find(|c| c.identifier == t.client)
            .map(|c| c.id)
            .ok_or_else(|| bad(format!("{what}: unknown client")))?;
        let uid = match &t.user {
            Some(email) => user(&zd, email, &what)?,
            None => admin.ok_or_else(|| bad(format!("{what}: name a user or an admin")))?,
        };
        let expires = t
            .expires_at
            .as_deref()
            .map(|e| when(e, now, &what))
            .transpose()?;
        let refresh = t
            .refresh_expires_at
            .as_deref()
            .map(|e| when(e, now, &what))
            .transpose()?;
        let id = zd.mint_oauth_token(
            &mut world.issuer,
            client,
            uid,
            t.scopes.clone(),
            expires,
            refresh,
            now,
        );
        bind(refs, &t.r#ref, &zd.oauth_tokens[&id].value)?;
    }
    for t in &z.api_tokens {
        let what = at(&format!("api token {}", t.id));
        let uid = user(&zd, &t.user, &what)?;
        let value = world.issuer.mint(ValueKind::ZendeskApiToken);
        bind(refs, &t.r#ref, &value)?;
        let created = t
            .created_at
            .as_deref()
            .map(|c| when(c, now, &what))
            .transpose()?
            .unwrap_or(now);
        let last_used = t
            .last_used
            .as_deref()
            .map(|c| when(c, now, &what))
            .transpose()?;
        zd.api_tokens.insert(
            t.id,
            ApiToken {
                id: t.id,
                user_id: uid,
                description: t.description.clone(),
                value,
                created_at: created,
                updated_at: created,
                last_used,
                deactivated: false,
            },
        );
    }
    Ok(zd)
}

fn zendesk_consumers(
    zd: &mut Zendesk,
    z: &super::ZendeskSeed,
    now: Timestamp,
    refs: &Refs,
    issuer: &mut crate::sandbox::state::Issuer,
) -> Result<(), SeedError> {
    for a in &z.apps {
        let what = format!("zendesk {:?} app {:?}", z.name, a.name);
        let app_id = zd.next_id();
        let parameters: Vec<AppParameter> = a
            .parameters
            .iter()
            .map(|p| AppParameter {
                name: p.name.clone(),
                kind: p.kind.clone().unwrap_or_else(|| "text".into()),
                required: p.required,
                secure: p.secure,
            })
            .collect();
        if let Some(settings) = &a.installation {
            let id = zd.next_id();
            let mut inst = Installation {
                id,
                app_id,
                enabled: true,
                settings: serde_json::Map::new(),
                secure_settings: BTreeMap::new(),
                created_at: now,
                updated_at: now,
            };
            for (k, v) in settings {
                let value = resolve(refs, v, &what)?;
                if parameters.iter().any(|p| p.secure && p.name == *k) {
                    inst.secure_settings.insert(k.clone(), value);
                } else {
                    inst.settings
                        .insert(k.clone(), Json::String(value.reveal().to_string()));
                }
            }
            zd.installations.insert(id, inst);
        }
        zd.apps.insert(
            app_id,
            App {
                id: app_id,
                name: a.name.clone(),
                owned: a.owned,
                parameters,
            },
        );
    }
    let creator = z
        .admin
        .as_deref()
        .and_then(|a| zd.user_by_email(a))
        .map(|u| u.id.to_string())
        .unwrap_or_else(|| "-1".into());
    for w in &z.webhooks {
        let what = format!("zendesk {:?} webhook {:?}", z.name, w.name);
        let authentication = match &w.authentication {
            Some(a) => {
                let mut data = BTreeMap::new();
                for (k, v) in &a.data {
                    data.insert(k.clone(), resolve(refs, v, &what)?);
                }
                Some(WebhookAuth {
                    kind: a.r#type.clone(),
                    add_position: "header".into(),
                    data,
                })
            }
            None => None,
        };
        let id = zd.next_webhook_id(issuer);
        let subscriptions = if w.subscriptions.is_empty() {
            vec!["conditional_ticket_events".to_string()]
        } else {
            w.subscriptions.clone()
        };
        zd.webhooks.insert(
            id.clone(),
            Webhook {
                id,
                name: w.name.clone(),
                description: None,
                endpoint: w.endpoint.clone(),
                http_method: "POST".into(),
                request_format: "json".into(),
                status: "active".into(),
                subscriptions,
                authentication,
                custom_headers: w.custom_headers.clone(),
                external_source: None,
                created_at: now,
                created_by: creator.clone(),
                updated_at: now,
                updated_by: creator.clone(),
            },
        );
    }
    Ok(())
}
