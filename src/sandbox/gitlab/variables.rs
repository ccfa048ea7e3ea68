//! Project and group CI/CD variables: list, get, create, update and delete, with
//! `filter[environment_scope]`, the 409 for a key defined in several scopes, hidden values
//! that read back as `null`, and GitLab's rules for masked values.

use serde_json::{Value as Json, json};

use super::{missing, not_found, ok, resolve_scope};
use crate::sandbox::http::{Reply, Req, empty, json as json_reply};
use crate::sandbox::pagination::gitlab_page;
use crate::sandbox::state::Value;
use crate::sandbox::state::gitlab::{GitLab, Scope, Variable};

fn variable_json(v: &Variable) -> Json {
    json!({
        "variable_type": v.variable_type,
        "key": v.key,
        "value": if v.hidden { Json::Null } else { json!(v.value.reveal()) },
        "protected": v.protected,
        "masked": v.masked,
        "hidden": v.hidden,
        "raw": v.raw,
        "environment_scope": v.environment_scope,
        "description": v.description,
    })
}

/// Whether GitLab could mask `value`: one line, no whitespace, at least 8 characters, and
/// (unless `raw`) only the Base64 alphabet plus `@ : . ~ - _ + = /`.
pub fn maskable(value: &str, raw: bool) -> bool {
    value.chars().count() >= 8
        && !value.chars().any(char::is_whitespace)
        && (raw
            || value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=/@:.~-".contains(c)))
}

fn invalid_value() -> axum::response::Response {
    json_reply(400, json!({"message": {"value": ["is invalid"]}}))
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 255
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `GET` (list) and `POST` (create) on `/{projects|groups}/:id/variables`.
pub(crate) fn collection(gl: &mut GitLab, req: &Req, kind: &str, key: &str) -> Reply {
    let who = super::auth(gl, req, super::auth::by_method(req))?;
    let scope = resolve_scope(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, if kind == "projects" { 40 } else { 50 })?;
    if req.method == axum::http::Method::GET {
        let items = gl
            .variables
            .iter()
            .filter(|v| v.scope == scope)
            .map(variable_json)
            .collect();
        return Ok(gitlab_page(req, items));
    }
    let var_key = req.str("key").ok_or_else(|| missing("key"))?;
    let value = req.str("value").ok_or_else(|| missing("value"))?;
    if !valid_key(&var_key) {
        return Err(json_reply(
            400,
            json!({"message": {"key": ["can contain only letters, digits and '_'."]}}),
        ));
    }
    let hidden = req.bool("masked_and_hidden").unwrap_or(false);
    let masked = hidden || req.bool("masked").unwrap_or(false);
    let raw = req.bool("raw").unwrap_or(false);
    if masked && !maskable(&value, raw) {
        return Err(invalid_value());
    }
    let environment_scope = req.str("environment_scope").unwrap_or_else(|| "*".into());
    if gl
        .variables
        .iter()
        .any(|v| v.scope == scope && v.key == var_key && v.environment_scope == environment_scope)
    {
        return Err(json_reply(
            400,
            json!({"message": {"key": [format!("({var_key}) has already been taken")]}}),
        ));
    }
    let variable = Variable {
        scope,
        key: var_key,
        value: Value::from_request(&value),
        variable_type: req.str("variable_type").unwrap_or_else(|| "env_var".into()),
        protected: req.bool("protected").unwrap_or(false),
        masked,
        hidden,
        raw,
        environment_scope,
        description: req.str("description"),
    };
    let body = variable_json(&variable);
    gl.variables.push(variable);
    ok(201, body)
}

/// The index of the one variable `key` names in `scope`, honouring the filter.
fn find(
    gl: &GitLab,
    req: &Req,
    scope: Scope,
    key: &str,
) -> Result<usize, axum::response::Response> {
    let filter = req
        .query("filter[environment_scope]")
        .map(str::to_string)
        .or_else(|| {
            req.params
                .get("filter")
                .and_then(|f| f["environment_scope"].as_str().map(str::to_string))
        });
    let matches: Vec<usize> = gl
        .variables
        .iter()
        .enumerate()
        .filter(|(_, v)| v.scope == scope && v.key == key)
        .filter(|(_, v)| filter.as_ref().is_none_or(|f| v.environment_scope == *f))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [] => Err(not_found("Variable")),
        [one] => Ok(*one),
        _ => Err(json_reply(
            409,
            json!({"message": "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'"}),
        )),
    }
}

/// `GET`, `PUT` and `DELETE /{projects|groups}/:id/variables/:key`.
pub(crate) fn one(gl: &mut GitLab, req: &Req, kind: &str, key: &str, var_key: &str) -> Reply {
    let who = super::auth(gl, req, super::auth::by_method(req))?;
    let scope = resolve_scope(gl, &who, kind, key)?;
    super::require_level(gl, &who, scope, if kind == "projects" { 40 } else { 50 })?;
    let index = find(gl, req, scope, var_key)?;
    match req.method.as_str() {
        "GET" => ok(200, variable_json(&gl.variables[index])),
        "PUT" => {
            let mut v = gl.variables[index].clone();
            if let Some(value) = req.str("value") {
                v.value = Value::from_request(&value);
            }
            if let Some(t) = req.str("variable_type") {
                v.variable_type = t;
            }
            if let Some(p) = req.bool("protected") {
                v.protected = p;
            }
            if let Some(m) = req.bool("masked") {
                v.masked = m || v.hidden;
            }
            if let Some(r) = req.bool("raw") {
                v.raw = r;
            }
            if let Some(s) = req.str("environment_scope") {
                v.environment_scope = s;
            }
            if let Some(d) = req.str("description") {
                v.description = Some(d);
            }
            if v.masked && !maskable(v.value.reveal(), v.raw) {
                return Err(invalid_value());
            }
            let body = variable_json(&v);
            gl.variables[index] = v;
            ok(200, body)
        }
        _ => {
            gl.variables.remove(index);
            Ok(empty(204))
        }
    }
}
