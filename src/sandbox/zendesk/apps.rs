//! Zendesk apps: installations (list, show, update `settings`; secure settings are stored
//! apart and never shown) and the apps the account owns, with their parameters.

use serde_json::{Value as Json, json};

use super::{Caller, not_found};
use crate::sandbox::http::{Reply, Req, json as json_reply};
use crate::sandbox::state::zendesk::{App, Installation, Zendesk};
use crate::sandbox::state::{Issuer, Value, zd_time};

fn installation_json(i: &Installation) -> Json {
    let objects: Vec<Json> = i
        .settings
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    json!({
        "id": i.id, "app_id": i.app_id, "product": "support", "enabled": i.enabled,
        "settings": i.settings, "settings_objects": objects,
        "role_restrictions": null, "group_restrictions": null,
        "pending_installation": false, "pending_job_id": null, "servable": true, "collapsible": true,
        "paid": false, "has_unpaid_subscription": false, "has_incomplete_subscription": false,
        "created_at": zd_time(i.created_at), "updated_at": zd_time(i.updated_at),
        "updated": i.updated_at.strftime("%Y%m%d%H%M%S").to_string(),
    })
}

fn app_json(a: &App, with_parameters: bool) -> Json {
    let mut body = json!({"id": a.id, "name": a.name, "owner_id": null, "visibility": "private"});
    if with_parameters {
        body["parameters"] = a
            .parameters
            .iter()
            .enumerate()
            .map(|(n, p)| {
                json!({"id": a.id * 100 + n as u64, "app_id": a.id, "name": p.name, "kind": p.kind,
                       "required": p.required, "secure": p.secure, "default_value": null, "position": n})
            })
            .collect();
    }
    body
}

/// `GET /api/v2/apps/installations` (`include=app` side-loads the apps).
pub(crate) fn list(zd: &mut Zendesk, _: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_scope("apps", false)?;
    let installations: Vec<Json> = zd.installations.values().map(installation_json).collect();
    let mut body = json!({ "installations": installations });
    if req
        .query("include")
        .is_some_and(|v| v.split(',').any(|s| s == "app"))
    {
        body["apps"] = zd.apps.values().map(|a| app_json(a, true)).collect();
    }
    Ok(json_reply(200, body))
}

/// `GET /api/v2/apps/installations/:id`: the bare installation object.
pub(crate) fn show(zd: &mut Zendesk, _: &Req, who: Caller, id: &str) -> Reply {
    who.need_scope("apps", false)?;
    let i = id
        .parse::<u64>()
        .ok()
        .and_then(|id| zd.installations.get(&id))
        .ok_or_else(not_found)?;
    Ok(json_reply(200, installation_json(i)))
}

/// `PUT /api/v2/apps/installations/:id` with top-level `settings` (and `enabled`). Keys not
/// sent are kept; secure parameters go to the write-only store.
pub(crate) fn update(zd: &mut Zendesk, req: &Req, who: Caller, id: &str) -> Reply {
    who.need_scope("apps", true)?;
    who.need_admin()?;
    let id = id
        .parse::<u64>()
        .ok()
        .filter(|id| zd.installations.contains_key(id))
        .ok_or_else(not_found)?;
    let body = req.json_body().unwrap_or_default();
    let mut settings = match body.get("settings") {
        Some(Json::Object(s)) => s.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(Json::Array(objects)) = body.get("settings_objects") {
        for o in objects {
            if let Some(name) = o["name"].as_str() {
                settings
                    .entry(name.to_string())
                    .or_insert_with(|| o["value"].clone());
            }
        }
    }
    if settings.is_empty() && !body.contains_key("enabled") {
        return Err(json_reply(
            400,
            json!({"error": "InvalidValue", "description": "settings must contain at least one value"}),
        ));
    }
    let app_id = zd.installations[&id].app_id;
    let secure: Vec<String> = zd
        .apps
        .get(&app_id)
        .map(|a| {
            a.parameters
                .iter()
                .filter(|p| p.secure)
                .map(|p| p.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let inst = zd.installations.get_mut(&id).ok_or_else(not_found)?;
    for (k, v) in settings {
        if secure.contains(&k) {
            match v.as_str() {
                Some("") | None => {
                    inst.secure_settings.remove(&k);
                }
                Some(s) => {
                    inst.secure_settings.insert(k, Value::from_request(s));
                }
            }
        } else {
            inst.settings.insert(k, v);
        }
    }
    if let Some(enabled) = body.get("enabled").and_then(Json::as_bool) {
        inst.enabled = enabled;
    }
    inst.updated_at = req.now;
    Ok(json_reply(200, installation_json(&zd.installations[&id])))
}

/// `GET /api/v2/apps/owned` (`exclude=parameters` leaves the parameters out).
pub(crate) fn owned(zd: &mut Zendesk, _: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_scope("apps", false)?;
    who.need_admin()?;
    let with_parameters = req.query("exclude") != Some("parameters");
    let apps: Vec<Json> = zd
        .apps
        .values()
        .filter(|a| a.owned)
        .map(|a| app_json(a, with_parameters))
        .collect();
    Ok(json_reply(200, json!({ "apps": apps })))
}
