//! Zendesk OAuth clients (list, show, create, `generate_secret`), OAuth tokens (list and show
//! with only a 10-character prefix, `current`, create returning the full value once, revoke),
//! the `/oauth/tokens` grant endpoint (client credentials, refresh), legacy API tokens
//! (list only; nobody can create one any more) and `users/me`.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value as Json, json};

use super::{Caller, forbidden, invalid, not_found, wrapped};
use crate::sandbox::http::{Reply, Req, empty, json as json_reply};
use crate::sandbox::pagination::{encode_query, kept_query, zendesk_cursor_page};
use crate::sandbox::state::zendesk::{OAuthClient, OAuthToken, Zendesk};
use crate::sandbox::state::{Issuer, ValueKind, zd_time};

fn client_json(req: &Req, c: &OAuthClient, secret: bool) -> Json {
    let mut body = json!({
        "id": c.id, "identifier": c.identifier, "name": c.name, "kind": c.kind,
        "redirect_uri": c.redirect_uri, "user_id": c.user_id, "global": false,
        "company": null, "description": null, "logo_url": null,
        "created_at": zd_time(c.created_at), "updated_at": zd_time(c.updated_at),
        "url": format!("{}/api/v2/oauth/clients/{}.json", req.base, c.id),
    });
    // The full secret only at creation and generate_secret; lists and shows carry its first
    // characters, as Zendesk's own examples do.
    body["secret"] = if secret {
        json!(c.secret.reveal())
    } else {
        json!(c.secret.reveal().chars().take(6).collect::<String>())
    };
    body
}

fn prefix(text: &str) -> String {
    text.chars().take(10).collect()
}

fn token_json(req: &Req, t: &OAuthToken, full: bool) -> Json {
    let mut body = json!({
        "id": t.id, "client_id": t.client_id, "user_id": t.user_id,
        "token": prefix(t.value.reveal()),
        "refresh_token": t.refresh.as_ref().map(|r| prefix(r.reveal())),
        "scopes": t.scopes, "created_at": zd_time(t.created_at), "used_at": t.used_at.map(zd_time),
        "expires_at": t.expires_at.map(zd_time), "refresh_token_expires_at": t.refresh_expires_at.map(zd_time),
        "url": format!("{}/api/v2/oauth/tokens/{}.json", req.base, t.id),
    });
    if full {
        body["full_token"] = json!(t.value.reveal());
    }
    body
}

/// A list answered with cursor pagination when `page[size]` is sent, else offset style.
fn list_page(req: &Req, key: &str, items: Vec<(String, Json)>) -> axum::response::Response {
    if req.query("page[size]").is_some() {
        return zendesk_cursor_page(req, key, items);
    }
    let per_page = req
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 100);
    let page = req
        .query("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let count = items.len();
    let start = ((page - 1) * per_page).min(count);
    let end = (start + per_page).min(count);
    let link = |p: usize| {
        let mut pairs = kept_query(req, &["page", "per_page"]);
        pairs.push(("page".into(), p.to_string()));
        pairs.push(("per_page".into(), per_page.to_string()));
        json!(format!("{}{}?{}", req.base, req.path, encode_query(pairs)))
    };
    let body = json!({
        key: items[start..end].iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        "next_page": if end < count { link(page + 1) } else { Json::Null },
        "previous_page": if page > 1 { link(page - 1) } else { Json::Null },
        "count": count,
    });
    json_reply(200, body)
}

/// `GET /api/v2/oauth/clients`.
pub(crate) fn list_clients(zd: &mut Zendesk, _: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_admin()?;
    let items = zd
        .clients
        .values()
        .map(|c| (format!("{:020}", c.id), client_json(req, c, false)))
        .collect();
    Ok(list_page(req, "clients", items))
}

/// `GET /api/v2/oauth/clients/:id`.
pub(crate) fn show_client(zd: &mut Zendesk, req: &Req, who: Caller, id: &str) -> Reply {
    who.need_admin()?;
    let c = id
        .parse::<u64>()
        .ok()
        .and_then(|id| zd.clients.get(&id))
        .ok_or_else(not_found)?;
    Ok(json_reply(
        200,
        json!({"client": client_json(req, c, false)}),
    ))
}

/// `POST /api/v2/oauth/clients`: 201 with the full secret, shown this once.
pub(crate) fn create_client(
    zd: &mut Zendesk,
    issuer: &mut Issuer,
    req: &Req,
    who: Caller,
) -> Reply {
    who.need_admin()?;
    let body = wrapped(req, "client");
    let name = body
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid("name", "Name: cannot be blank"))?;
    let identifier = body
        .get("identifier")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid("identifier", "Identifier: cannot be blank"))?;
    if zd.clients.values().any(|c| c.identifier == identifier) {
        return Err(invalid("identifier", "Identifier: has already been taken"));
    }
    let kind = body.get("kind").and_then(Json::as_str).unwrap_or("public");
    if kind != "public" && kind != "confidential" {
        return Err(invalid("kind", "Kind: is invalid"));
    }
    let id = zd.next_id();
    let client = OAuthClient {
        id,
        identifier: identifier.to_string(),
        name: name.to_string(),
        kind: kind.to_string(),
        secret: issuer.mint(ValueKind::ZendeskClientSecret),
        user_id: who.user_id,
        redirect_uri: serde_json::from_value(
            body.get("redirect_uri").cloned().unwrap_or(json!([])),
        )
        .unwrap_or_default(),
        created_at: req.now,
        updated_at: req.now,
    };
    let out = client_json(req, &client, true);
    zd.clients.insert(id, client);
    Ok(json_reply(201, json!({ "client": out })))
}

/// `PUT /api/v2/oauth/clients/:id` (name, kind, redirect_uri) and `DELETE` (which also
/// revokes the client's tokens).
pub(crate) fn change_client(zd: &mut Zendesk, req: &Req, who: Caller, id: &str) -> Reply {
    who.need_admin()?;
    let id = id
        .parse::<u64>()
        .ok()
        .filter(|id| zd.clients.contains_key(id))
        .ok_or_else(not_found)?;
    if req.method == axum::http::Method::DELETE {
        zd.clients.remove(&id);
        for t in zd.oauth_tokens.values_mut().filter(|t| t.client_id == id) {
            t.revoked = true;
        }
        return Ok(empty(204));
    }
    let body = wrapped(req, "client");
    let c = zd.clients.get_mut(&id).ok_or_else(not_found)?;
    if let Some(name) = body.get("name").and_then(Json::as_str) {
        c.name = name.to_string();
    }
    match body.get("kind").and_then(Json::as_str) {
        Some(kind @ ("public" | "confidential")) => c.kind = kind.to_string(),
        Some(_) => return Err(invalid("kind", "Kind: is invalid")),
        None => {}
    }
    if let Some(uris) = body
        .get("redirect_uri")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
    {
        c.redirect_uri = uris;
    }
    c.updated_at = req.now;
    Ok(json_reply(
        200,
        json!({"client": client_json(req, c, false)}),
    ))
}

/// `PUT /api/v2/oauth/clients/:id/generate_secret`: a new secret; the old one stops working.
pub(crate) fn generate_secret(
    zd: &mut Zendesk,
    issuer: &mut Issuer,
    req: &Req,
    who: Caller,
    id: &str,
) -> Reply {
    who.need_admin()?;
    let c = id
        .parse::<u64>()
        .ok()
        .and_then(|id| zd.clients.get_mut(&id))
        .ok_or_else(not_found)?;
    c.secret = issuer.mint(ValueKind::ZendeskClientSecret);
    c.updated_at = req.now;
    Ok(json_reply(
        200,
        json!({"client": client_json(req, c, true)}),
    ))
}

/// `GET /api/v2/oauth/tokens` (`all=true` for every user's; `client_id` filter).
pub(crate) fn list_tokens(zd: &mut Zendesk, _: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_admin()?;
    let all = req.query("all") == Some("true");
    let client = req.query("client_id").and_then(|v| v.parse::<u64>().ok());
    let items = zd
        .oauth_tokens
        .values()
        .filter(|t| !t.revoked)
        .filter(|t| all || t.user_id == who.user_id)
        .filter(|t| client.is_none_or(|c| t.client_id == c))
        .map(|t| (format!("{:020}", t.id), token_json(req, t, false)))
        .collect();
    Ok(list_page(req, "tokens", items))
}

/// `GET /api/v2/oauth/tokens/:id` and `/current` (`id == None`).
pub(crate) fn show_token(zd: &mut Zendesk, req: &Req, who: Caller, id: Option<&str>) -> Reply {
    let id = match id {
        None => who.oauth_token.ok_or_else(not_found)?,
        Some(id) => id.parse::<u64>().map_err(|_| not_found())?,
    };
    let t = zd
        .oauth_tokens
        .get(&id)
        .filter(|t| !t.revoked)
        .ok_or_else(not_found)?;
    if !who.admin && t.user_id != who.user_id {
        return Err(not_found());
    }
    Ok(json_reply(200, json!({"token": token_json(req, t, false)})))
}

/// `POST /api/v2/oauth/tokens` with `{"token":{"client_id":<numeric id>,"scopes":[…]}}`.
pub(crate) fn create_token(zd: &mut Zendesk, issuer: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_admin()?;
    let body = wrapped(req, "token");
    let client_id = body
        .get("client_id")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .filter(|id| zd.clients.contains_key(id))
        .ok_or_else(|| invalid("client_id", "Client: is invalid"))?;
    let scopes: Vec<String> = body
        .get("scopes")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .filter(|s: &Vec<String>| !s.is_empty())
        .ok_or_else(|| invalid("scopes", "Scopes: cannot be blank"))?;
    let seconds = |key: &str| {
        body.get(key).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    };
    // The client's expiry policy decides; a client that still issues non-expiring tokens
    // gives none unless asked.
    let client = &zd.clients[&client_id];
    let life = client
        .token_life(
            req.now,
            seconds("expires_in"),
            seconds("refresh_token_expires_in"),
        )
        .map_err(|why| invalid("expires_in", why))?;
    let id = zd.mint_oauth_token(
        issuer,
        client_id,
        who.user_id,
        scopes,
        life.map(|l| add(req.now, l.access)),
        life.map(|l| add(req.now, l.refresh)),
        req.now,
    );
    Ok(json_reply(
        201,
        json!({"token": token_json(req, &zd.oauth_tokens[&id], true)}),
    ))
}

fn add(now: Timestamp, seconds: i64) -> Timestamp {
    now.saturating_add(SignedDuration::from_secs(seconds))
        .unwrap_or(now)
}

/// `DELETE /api/v2/oauth/tokens/:id` and `/current`.
pub(crate) fn revoke_token(zd: &mut Zendesk, _: &Req, who: Caller, id: Option<&str>) -> Reply {
    let id = match id {
        None => who.oauth_token.ok_or_else(not_found)?,
        Some(id) => id.parse::<u64>().map_err(|_| not_found())?,
    };
    let t = zd
        .oauth_tokens
        .get_mut(&id)
        .filter(|t| !t.revoked)
        .ok_or_else(not_found)?;
    if !who.admin && t.user_id != who.user_id {
        return Err(forbidden());
    }
    t.revoked = true;
    Ok(empty(204))
}

fn oauth_error(status: u16, error: &str, description: &str) -> axum::response::Response {
    json_reply(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// `POST /oauth/tokens`: `client_credentials` (confidential clients) and `refresh_token`
/// (which invalidates the previous access and refresh pair).
pub(crate) fn grant(zd: &mut Zendesk, issuer: &mut Issuer, req: &Req) -> Reply {
    let p = |k: &str| req.str(k);
    let grant_type = p("grant_type").unwrap_or_default();
    let client = zd
        .clients
        .values()
        .find(|c| Some(&c.identifier) == p("client_id").as_ref() && Some(c.secret.reveal()) == p("client_secret").as_deref())
        .cloned()
        .ok_or_else(|| oauth_error(401, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."))?;
    let number = |k: &str| p(k).and_then(|v| v.parse::<i64>().ok());
    let life = client
        .token_life(
            req.now,
            number("expires_in"),
            number("refresh_token_expires_in"),
        )
        .map_err(|why| oauth_error(400, "invalid_request", why))?;
    let (user_id, scopes) = match grant_type.as_str() {
        "client_credentials" => {
            if client.kind != "confidential" {
                return Err(oauth_error(
                    400,
                    "unauthorized_client",
                    "The client is not authorized to use this grant type.",
                ));
            }
            let scopes: Vec<String> = p("scope")
                .unwrap_or_else(|| "read".into())
                .split_whitespace()
                .map(str::to_string)
                .collect();
            (client.user_id, scopes)
        }
        "refresh_token" => {
            let presented = p("refresh_token").unwrap_or_default();
            let now = req.now;
            let old = zd
                .oauth_tokens
                .values_mut()
                .find(|t| t.client_id == client.id && t.refresh.as_ref().is_some_and(|r| r.reveal() == presented))
                .filter(|t| !t.revoked && t.refresh_expires_at.is_none_or(|e| now < e))
                .ok_or_else(|| oauth_error(400, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."))?;
            old.revoked = true;
            (old.user_id, old.scopes.clone())
        }
        "authorization_code" => {
            return Err(oauth_error(
                400,
                "invalid_grant",
                "The authorization code is invalid or expired.",
            ));
        }
        _ => {
            return Err(oauth_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported.",
            ));
        }
    };
    let id = zd.mint_oauth_token(
        issuer,
        client.id,
        user_id,
        scopes,
        life.map(|l| add(req.now, l.access)),
        life.map(|l| add(req.now, l.refresh)),
        req.now,
    );
    let t = &zd.oauth_tokens[&id];
    Ok(json_reply(
        200,
        json!({
            "access_token": t.value.reveal(), "token_type": "bearer", "scope": t.scopes.join(" "),
            "expires_in": life.map(|l| l.access), "refresh_token": t.refresh.as_ref().map(|r| r.reveal().to_string()),
            "refresh_token_expires_in": life.map(|l| l.refresh),
        }),
    ))
}

/// `GET /api/v2/api_tokens`: legacy tokens with their last use; 404 when token access is off.
pub(crate) fn list_api_tokens(zd: &mut Zendesk, _: &mut Issuer, req: &Req, who: Caller) -> Reply {
    who.need_admin()?;
    if !zd.api_token_access {
        return Err(not_found());
    }
    let tokens: Vec<Json> = zd
        .api_tokens
        .values()
        .map(|t| {
            json!({
                "id": t.id, "user_id": t.user_id, "assigned_user_id": t.user_id, "description": t.description,
                "active": t.active(req.now), "created_at": zd_time(t.created_at), "updated_at": zd_time(t.updated_at),
                "last_used": t.last_used.map(zd_time), "last_used_at": t.last_used.map(zd_time),
                "visible_token": t.value.reveal().chars().take(4).collect::<String>(),
                "token": format!("{}…", t.value.reveal().chars().take(4).collect::<String>()),
            })
        })
        .collect();
    let mut body = json!({ "api_tokens": tokens });
    if req.query("include_users") == Some("true") {
        body["users"] = zd
            .users
            .values()
            .map(|u| json!({"id": u.id, "name": u.name, "email": u.email}))
            .collect();
    }
    Ok(json_reply(200, body))
}

/// `GET /api/v2/users/me`: a bad or missing credential gets 200 with an anonymous user.
pub(crate) fn me(zd: &mut Zendesk, _: &mut Issuer, req: &Req) -> Reply {
    match super::auth(zd, req) {
        Ok(who) => {
            let u = &zd.users[&who.user_id];
            Ok(json_reply(
                200,
                json!({"user": {"id": u.id, "name": u.name, "email": u.email, "role": u.role,
                    "active": true, "suspended": false}}),
            ))
        }
        Err(_) => Ok(json_reply(
            200,
            json!({"user": {"id": null, "name": "Anonymous user", "email": "invalid@example.com", "role": "end-user"}}),
        )),
    }
}

/// `GET /api/v2/account/settings` (the `api` section only).
pub(crate) fn settings(zd: &mut Zendesk, _: &mut Issuer, _: &Req, who: Caller) -> Reply {
    who.need_admin()?;
    Ok(json_reply(
        200,
        json!({"settings": {"api": {"api_token_access": zd.api_token_access, "api_password_access": false, "accepted_api_agreement": true}}}),
    ))
}
