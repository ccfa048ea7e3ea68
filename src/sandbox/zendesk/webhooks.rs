//! Zendesk webhooks: list (cursor pagination, name and status filters), show, create, update
//! (PUT replaces), patch (merge-patch), delete, and the signing secret (read, reset).
//! `authentication.data` is write-only, and update and patch answer 204 with no body.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::{Caller, invalid, not_found, wrapped};
use crate::sandbox::http::{Reply, Req, empty, json as json_reply};
use crate::sandbox::pagination::zendesk_cursor_page;
use crate::sandbox::state::zendesk::{Webhook, WebhookAuth, Zendesk};
use crate::sandbox::state::{Issuer, Value, ValueKind, zd_time};

fn webhook_json(w: &Webhook) -> Json {
    let mut body = json!({
        "id": w.id, "name": w.name, "description": w.description, "endpoint": w.endpoint,
        "http_method": w.http_method, "request_format": w.request_format, "status": w.status,
        "subscriptions": w.subscriptions, "custom_headers": w.custom_headers,
        "created_at": zd_time(w.created_at), "created_by": w.created_by,
        "updated_at": zd_time(w.updated_at), "updated_by": w.updated_by,
    });
    if let Some(auth) = &w.authentication {
        body["authentication"] = json!({"type": auth.kind, "add_position": auth.add_position});
    }
    if let Some(src) = &w.external_source {
        body["external_source"] = src.clone();
    }
    body
}

/// `GET /api/v2/webhooks`.
pub(crate) fn list(zd: &mut Zendesk, _: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_scope("webhooks", false)?;
    who.need_admin()?;
    let name = req.query("filter[name_contains]").map(str::to_lowercase);
    let status = req.query("filter[status]");
    let sort = req.query("sort").unwrap_or("");
    let mut items: Vec<(String, Json)> = zd
        .webhooks
        .values()
        .filter(|w| {
            name.as_ref()
                .is_none_or(|n| w.name.to_lowercase().contains(n))
        })
        .filter(|w| status.is_none_or(|s| w.status == s))
        .map(|w| {
            let key = match sort.trim_start_matches('-') {
                "name" => format!("{}\u{1}{}", w.name, w.id),
                "status" => format!("{}\u{1}{}", w.status, w.id),
                _ => w.id.clone(),
            };
            (key, webhook_json(w))
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    if sort.starts_with('-') {
        items.reverse();
    }
    Ok(zendesk_cursor_page(req, "webhooks", items))
}

/// `GET /api/v2/webhooks/:id`.
pub(crate) fn show(zd: &mut Zendesk, _: &Req, who: Caller, id: &str) -> Reply {
    who.need_scope("webhooks", false)?;
    who.need_admin()?;
    let w = zd.webhooks.get(id).ok_or_else(not_found)?;
    Ok(json_reply(200, json!({"webhook": webhook_json(w)})))
}

/// Reads an `authentication` object (type, add_position, data) from a request.
fn parse_auth(
    v: &Json,
    existing: Option<&WebhookAuth>,
) -> Result<Option<WebhookAuth>, axum::response::Response> {
    let Json::Object(obj) = v else {
        return Ok(None);
    };
    let kind = obj
        .get("type")
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| existing.map(|e| e.kind.clone()))
        .ok_or_else(|| invalid("authentication", "Authentication: type is required"))?;
    if !["basic_auth", "bearer_token", "api_key"].contains(&kind.as_str()) {
        return Err(invalid("authentication", "Authentication: type is invalid"));
    }
    let mut data: BTreeMap<String, Value> = match existing {
        Some(e) if e.kind == kind => e.data.clone(),
        _ => BTreeMap::new(),
    };
    if let Some(Json::Object(d)) = obj.get("data") {
        for (k, v) in d {
            match v {
                Json::Null => {
                    data.remove(k);
                }
                Json::String(s) => {
                    data.insert(k.clone(), Value::from_request(s));
                }
                other => {
                    data.insert(k.clone(), Value::from_request(&other.to_string()));
                }
            }
        }
    }
    let add_position = obj
        .get("add_position")
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| existing.map(|e| e.add_position.clone()))
        .unwrap_or_else(|| "header".into());
    Ok(Some(WebhookAuth {
        kind,
        add_position,
        data,
    }))
}

fn headers(v: Option<&Json>, mut into: BTreeMap<String, String>) -> BTreeMap<String, String> {
    if let Some(Json::Object(map)) = v {
        for (k, v) in map {
            match v.as_str() {
                Some(s) => {
                    into.insert(k.clone(), s.to_string());
                }
                None => {
                    into.remove(k);
                }
            }
        }
    }
    into
}

const REQUIRED: &[&str] = &[
    "name",
    "endpoint",
    "http_method",
    "request_format",
    "status",
    "subscriptions",
];

fn check_required(body: &Map<String, Json>) -> Result<(), axum::response::Response> {
    for field in REQUIRED {
        if body.get(*field).is_none_or(Json::is_null) {
            return Err(invalid(field, &format!("{field}: cannot be blank")));
        }
    }
    Ok(())
}

fn str_field(body: &Map<String, Json>, key: &str) -> Option<String> {
    body.get(key).and_then(Json::as_str).map(str::to_string)
}

/// `POST /api/v2/webhooks`.
pub(crate) fn create(zd: &mut Zendesk, issuer: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_scope("webhooks", true)?;
    who.need_admin()?;
    let body = wrapped(req, "webhook");
    check_required(&body)?;
    let authentication = match body.get("authentication") {
        Some(v) => parse_auth(v, None)?,
        None => None,
    };
    let id = zd.next_webhook_id(issuer);
    let webhook = Webhook {
        id: id.clone(),
        name: str_field(&body, "name").unwrap_or_default(),
        description: str_field(&body, "description"),
        endpoint: str_field(&body, "endpoint").unwrap_or_default(),
        http_method: str_field(&body, "http_method").unwrap_or_default(),
        request_format: str_field(&body, "request_format").unwrap_or_default(),
        status: str_field(&body, "status").unwrap_or_default(),
        subscriptions: serde_json::from_value(body["subscriptions"].clone()).unwrap_or_default(),
        authentication,
        custom_headers: headers(body.get("custom_headers"), BTreeMap::new()),
        external_source: None,
        signing_secret: match body
            .get("signing_secret")
            .and_then(|v| v["secret"].as_str())
        {
            Some(secret) => Value::from_request(secret),
            None => issuer.mint(ValueKind::Generated(44)),
        },
        created_at: req.now,
        created_by: who.user_id.to_string(),
        updated_at: req.now,
        updated_by: who.user_id.to_string(),
    };
    let out = webhook_json(&webhook);
    zd.webhooks.insert(id, webhook);
    Ok(json_reply(201, json!({"webhook": out})))
}

/// `PUT` (`patch == false`: full replacement) and `PATCH` (merge) on a webhook; 204.
pub(crate) fn update(zd: &mut Zendesk, req: &Req, who: Caller, id: &str, patch: bool) -> Reply {
    who.need_scope("webhooks", true)?;
    who.need_admin()?;
    let body = wrapped(req, "webhook");
    let mut w = zd.webhooks.get(id).cloned().ok_or_else(not_found)?;
    if !patch {
        check_required(&body)?;
        w.authentication = match body.get("authentication") {
            Some(v) => parse_auth(v, None)?,
            None => None,
        };
        w.custom_headers = headers(body.get("custom_headers"), BTreeMap::new());
        w.description = str_field(&body, "description");
    } else {
        match body.get("authentication") {
            Some(Json::Null) => w.authentication = None,
            Some(v) => w.authentication = parse_auth(v, w.authentication.as_ref())?,
            None => {}
        }
        if body.contains_key("custom_headers") {
            w.custom_headers = headers(body.get("custom_headers"), w.custom_headers.clone());
        }
        if body.contains_key("description") {
            w.description = str_field(&body, "description");
        }
    }
    if let Some(s) = body.get("subscriptions") {
        let new: Vec<String> = serde_json::from_value(s.clone()).unwrap_or_default();
        let conditional = |v: &[String]| v.iter().any(|s| s == "conditional_ticket_events");
        if conditional(&new) != conditional(&w.subscriptions) {
            return Err(invalid(
                "subscriptions",
                "The connection method of a webhook cannot be changed",
            ));
        }
        w.subscriptions = new;
    }
    for (field, slot) in [
        ("name", &mut w.name),
        ("endpoint", &mut w.endpoint),
        ("http_method", &mut w.http_method),
        ("request_format", &mut w.request_format),
        ("status", &mut w.status),
    ] {
        if let Some(v) = str_field(&body, field) {
            *slot = v;
        }
    }
    w.updated_at = req.now;
    w.updated_by = who.user_id.to_string();
    zd.webhooks.insert(id.to_string(), w);
    Ok(empty(204))
}

/// `DELETE /api/v2/webhooks/:id`.
pub(crate) fn delete(zd: &mut Zendesk, _: &Req, who: Caller, id: &str) -> Reply {
    who.need_scope("webhooks", true)?;
    who.need_admin()?;
    let w = zd.webhooks.get(id).ok_or_else(not_found)?;
    if w.external_source.is_some() {
        return Err(invalid(
            "external_source",
            "Webhooks created by an app cannot be deleted",
        ));
    }
    zd.webhooks.remove(id);
    Ok(empty(204))
}

/// `GET` (read) and `POST` (reset, effective at once) on `/api/v2/webhooks/:id/signing_secret`.
pub(crate) fn signing_secret(
    zd: &mut Zendesk,
    issuer: &mut Issuer,
    req: &Req,
    who: Caller,
    id: &str,
) -> Reply {
    let reset = req.method == axum::http::Method::POST;
    who.need_scope("webhooks", reset)?;
    who.need_admin()?;
    let w = zd.webhooks.get_mut(id).ok_or_else(not_found)?;
    if reset {
        w.signing_secret = issuer.mint(ValueKind::Generated(44));
        w.updated_at = req.now;
        w.updated_by = who.user_id.to_string();
    }
    Ok(json_reply(
        200,
        json!({"signing_secret": {"algorithm": "sha256", "secret": w.signing_secret.reveal()}}),
    ))
}
