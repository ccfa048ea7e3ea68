//! The control API: what in-process tests do through [`super::SandboxHandle`], over HTTP on
//! the same loopback listener under `/_sandbox`, so that any program can script a scenario
//! against `tokenops sandbox`. Control requests are not platform calls: they are neither
//! logged nor subject to faults.
//!
//! | Method and path | Does |
//! |---|---|
//! | `GET /_sandbox` | the instances, their admin credentials and this API's URL |
//! | `POST /_sandbox/seed` (YAML body) | replaces the whole state with that seed |
//! | `GET /_sandbox/clock` | `{"now": RFC 3339}` |
//! | `PUT /_sandbox/clock` `{"now": …}` | sets the clock |
//! | `POST /_sandbox/clock/advance` `{"seconds": n}` or `{"by": "2h 30m"}` | moves it |
//! | `GET /_sandbox/faults` | the rules, in order |
//! | `PUT /_sandbox/faults` `{"pattern": …, …}` | sets the rule for a route pattern |
//! | `DELETE /_sandbox/faults` (optional `{"pattern": …}`) | removes one rule, or all |
//! | `GET /_sandbox/requests` | the request log and its counters |
//! | `DELETE /_sandbox/requests` | empties the log |
//! | `GET /_sandbox/issued` | every secret value the sandbox issued, for leak scans |
//! | `POST /_sandbox/gitlab/NAME/ci_jobs` `{"project": …, "user": …}` | a CI job's token |
//! | `POST /_sandbox/gitlab/NAME/ci_jobs/finish` `{"token": …}` | ends that job |

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::http::{empty, json as json_reply};
use super::{FaultSpec, Seed, Shared, World};

/// The first path segment of the control API.
pub(crate) const PREFIX: &str = "_sandbox";

/// A fault rule as the control API reads and writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    pattern: String,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    error_rate: f64,
    #[serde(default)]
    statuses: Vec<u16>,
    #[serde(default)]
    drop_after_apply: f64,
    #[serde(default)]
    budget_per_minute: Option<u32>,
    #[serde(default)]
    times: Option<u32>,
}

fn bad(message: impl Into<String>) -> Response {
    json_reply(400, json!({"error": message.into()}))
}

fn body_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad(format!("the body is not the JSON expected: {e}")))
}

/// Answers one control request (`segs` are the path segments after `/_sandbox`).
pub(crate) fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    segs: &[&str],
    body: &[u8],
) -> Response {
    answer(shared, method, segs, body).unwrap_or_else(|e| e)
}

fn answer(
    shared: &Arc<Shared>,
    method: &Method,
    segs: &[&str],
    body: &[u8],
) -> Result<Response, Response> {
    let segs: Vec<&str> = segs.iter().copied().filter(|s| !s.is_empty()).collect();
    Ok(match (method.as_str(), segs.as_slice()) {
        ("GET", []) => json_reply(200, describe(shared)),
        ("POST", ["seed"]) => {
            let text = std::str::from_utf8(body).map_err(|_| bad("the seed is not UTF-8"))?;
            let seed =
                Seed::from_yaml_str(text, "<control API seed>").map_err(|e| bad(e.to_string()))?;
            let now = seed.now().unwrap_or_else(|| shared.clock.now());
            let mut world = World::new(shared.rng_seed);
            seed.load(&mut world, now).map_err(|e| bad(e.to_string()))?;
            *shared.world.lock().expect("sandbox state lock") = world;
            shared.clock.set(now);
            shared.faults.clear();
            shared.log.clear();
            json_reply(200, describe(shared))
        }
        ("GET", ["clock"]) => json_reply(200, json!({"now": shared.clock.now().to_string()})),
        ("PUT", ["clock"]) => {
            #[derive(Deserialize)]
            struct Set {
                now: String,
            }
            let set: Set = body_json(body)?;
            let now: Timestamp = set
                .now
                .parse()
                .map_err(|e| bad(format!("`now` is not an RFC 3339 time: {e}")))?;
            shared.clock.set(now);
            json_reply(200, json!({"now": now.to_string()}))
        }
        ("POST", ["clock", "advance"]) => {
            #[derive(Deserialize)]
            struct Advance {
                seconds: Option<f64>,
                by: Option<String>,
            }
            let adv: Advance = body_json(body)?;
            let by = match (adv.seconds, adv.by) {
                (Some(s), None) => SignedDuration::try_from_secs_f64(s)
                    .map_err(|e| bad(format!("`seconds`: {e}")))?,
                (None, Some(text)) => text
                    .parse::<SignedDuration>()
                    .map_err(|e| bad(format!("`by` is not a duration such as \"2h 30m\": {e}")))?,
                _ => return Err(bad("give exactly one of `seconds` and `by`")),
            };
            let now = shared.clock.advance(by);
            json_reply(200, json!({"now": now.to_string()}))
        }
        ("GET", ["faults"]) => {
            let rules: Vec<Json> = shared
                .faults
                .rules()
                .into_iter()
                .map(|(pattern, s)| {
                    json!({
                        "pattern": pattern, "latency_ms": s.latency.as_millis() as u64,
                        "error_rate": s.error_rate, "statuses": s.statuses,
                        "drop_after_apply": s.drop_after_apply,
                        "budget_per_minute": s.budget_per_minute, "times": s.times,
                    })
                })
                .collect();
            json_reply(200, json!({"faults": rules}))
        }
        ("PUT", ["faults"]) => {
            let f: FaultBody = body_json(body)?;
            let rates = [f.error_rate, f.drop_after_apply];
            if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
                return Err(bad(
                    "`error_rate` and `drop_after_apply` are shares from 0.0 to 1.0",
                ));
            }
            shared.faults.set(
                &f.pattern,
                FaultSpec {
                    latency: Duration::from_millis(f.latency_ms),
                    error_rate: f.error_rate,
                    statuses: f.statuses,
                    drop_after_apply: f.drop_after_apply,
                    budget_per_minute: f.budget_per_minute,
                    times: f.times,
                },
            );
            empty(204)
        }
        ("DELETE", ["faults"]) => {
            #[derive(Deserialize)]
            struct One {
                pattern: String,
            }
            if body.iter().all(u8::is_ascii_whitespace) {
                shared.faults.clear();
            } else {
                let one: One = body_json(body)?;
                shared.faults.remove(&one.pattern);
            }
            empty(204)
        }
        ("GET", ["requests"]) => {
            let stats = shared.log.snapshot();
            let entries: Vec<Json> = stats
                .entries
                .iter()
                .map(|e| {
                    json!({
                        "instance": e.instance, "method": e.method, "route": e.route,
                        "path": e.path, "status": e.status, "at": e.at.to_string(),
                    })
                })
                .collect();
            json_reply(
                200,
                json!({
                    "total": stats.total,
                    "by_route": stats.by_route,
                    "by_status": stats.by_status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "entries": entries,
                }),
            )
        }
        ("DELETE", ["requests"]) => {
            shared.log.clear();
            empty(204)
        }
        ("GET", ["issued"]) => {
            let values: Vec<String> = shared
                .world
                .lock()
                .expect("sandbox state lock")
                .issuer
                .issued()
                .iter()
                .map(|v| v.reveal().to_string())
                .collect();
            json_reply(200, json!({"issued": values}))
        }
        ("POST", ["gitlab", name, "ci_jobs"]) => {
            #[derive(Deserialize)]
            struct Job {
                project: String,
                user: String,
            }
            let job: Job = body_json(body)?;
            let mut guard = shared.world.lock().expect("sandbox state lock");
            let world = &mut *guard;
            let gl = world
                .gitlab
                .get_mut(*name)
                .ok_or_else(|| bad(format!("no GitLab instance {name:?}")))?;
            let project = gl
                .project(&job.project)
                .map(|p| p.id)
                .ok_or_else(|| bad(format!("no project {:?} on {name}", job.project)))?;
            let user = gl
                .user_by_name(&job.user)
                .map(|u| u.id)
                .ok_or_else(|| bad(format!("no user {:?} on {name}", job.user)))?;
            let token = gl.start_job(&mut world.issuer, project, user);
            json_reply(201, json!({"token": token.reveal()}))
        }
        ("POST", ["gitlab", name, "ci_jobs", "finish"]) => {
            #[derive(Deserialize)]
            struct Finish {
                token: String,
            }
            let finish: Finish = body_json(body)?;
            let mut world = shared.world.lock().expect("sandbox state lock");
            let job = world
                .gitlab
                .get_mut(*name)
                .and_then(|g| {
                    g.job_tokens
                        .get_mut(&super::state::Value::from_request(&finish.token))
                })
                .ok_or_else(|| bad("no such CI job token"))?;
            job.running = false;
            empty(204)
        }
        _ => {
            return Err(json_reply(
                404,
                json!({"error": format!(
                    "no control route {method} /{PREFIX}/{}; see the README's sandbox section",
                    segs.join("/")
                )}),
            ));
        }
    })
}

/// The instances with their base URLs and admin credentials, and this API's URL.
pub(crate) fn describe(shared: &Shared) -> Json {
    let world = shared.world.lock().expect("sandbox state lock");
    let entry = |kind: &str, name: &str, token: Option<&super::state::Value>| {
        json!({
            "url": format!("{}/{kind}/{name}", shared.origin),
            "token": token.map(|t| t.reveal().to_string()),
        })
    };
    let gitlab: serde_json::Map<String, Json> = world
        .gitlab
        .iter()
        .map(|(n, g)| (n.clone(), entry("gitlab", n, g.admin_token.as_ref())))
        .collect();
    let zendesk: serde_json::Map<String, Json> = world
        .zendesk
        .iter()
        .map(|(n, z)| (n.clone(), entry("zendesk", n, z.admin_token.as_ref())))
        .collect();
    json!({
        "gitlab": gitlab,
        "zendesk": zendesk,
        "control": format!("{}/{PREFIX}", shared.origin),
    })
}
