//! The default seed matches the example manifests and gives the demo work to do; seeds load
//! from YAML and report their mistakes.

use secrecy::ExposeSecret;
use serde_json::Value as Json;
use tokenops::sandbox::state::World;
use tokenops::sandbox::state::gitlab::{GitLab, Scope, TokenOwner};
use tokenops::sandbox::{Sandbox, SandboxOptions, Seed};

use crate::scenario::{NOW, Scenario};

fn manifests() -> Vec<Json> {
    let mut out = Vec::new();
    let mut stack = vec![crate::scenario::repo_root().join("manifests")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let doc: Json =
                    tokenops::yaml::from_str(&text, &path.display().to_string()).unwrap();
                out.extend(doc["tokens"].as_array().cloned().unwrap_or_default());
            }
        }
    }
    out
}

fn s(v: &Json) -> &str {
    v.as_str().unwrap_or_default()
}

fn scope(gl: &GitLab, c: &Json) -> Scope {
    if let Some(p) = c["project"].as_str() {
        Scope::Project(gl.project(p).unwrap_or_else(|| panic!("project {p}")).id)
    } else {
        Scope::Group(
            gl.group(s(&c["group"]))
                .unwrap_or_else(|| panic!("group {}", c["group"]))
                .id,
        )
    }
}

fn check_token(w: &World, kind: &str, t: &Json) {
    match kind {
        "gitlab_personal_access_token"
        | "gitlab_project_access_token"
        | "gitlab_group_access_token" => {
            let gl = &w.gitlab[s(&t["gitlab"])];
            let owner = match kind {
                "gitlab_project_access_token" => {
                    TokenOwner::Project(gl.project(s(&t["project"])).unwrap().id)
                }
                "gitlab_group_access_token" => {
                    TokenOwner::Group(gl.group(s(&t["group"])).unwrap().id)
                }
                _ => TokenOwner::Personal,
            };
            let live = gl
                .tokens
                .values()
                .find(|x| x.name == s(&t["name"]) && !x.revoked && x.owner == owner);
            let live = live.unwrap_or_else(|| panic!("no live token for {t}"));
            let scopes: Vec<String> = serde_json::from_value(t["scopes"].clone()).unwrap();
            assert_eq!(live.scopes, scopes, "{t}");
            if let Some(user) = t["user"].as_str() {
                assert_eq!(gl.users[&live.user_id].username, user);
            }
        }
        "gitlab_pipeline_trigger_token" => {
            let gl = &w.gitlab[s(&t["gitlab"])];
            let pid = gl.project(s(&t["project"])).unwrap().id;
            assert!(
                gl.triggers
                    .values()
                    .any(|x| x.project_id == pid && x.description == s(&t["description"])),
                "{t}"
            );
        }
        "gitlab_service_account_token" => {
            let gl = &w.gitlab[s(&t["gitlab"])];
            let group = gl.group(s(&t["group"])).expect("group").id;
            let account = gl
                .user_by_name(s(&t["service_account"]))
                .unwrap_or_else(|| panic!("no service account for {t}"));
            assert_eq!(account.service_account_of, Some(group), "{t}");
            assert!(
                gl.tokens
                    .values()
                    .any(|x| x.user_id == account.id && x.name == s(&t["name"]) && !x.revoked),
                "{t}"
            );
        }
        "gitlab_deploy_token" => {
            let gl = &w.gitlab[s(&t["gitlab"])];
            let owner = scope(gl, t);
            let live = gl
                .deploy_tokens
                .values()
                .find(|x| x.scope == owner && x.name == s(&t["name"]) && !x.revoked);
            let live = live.unwrap_or_else(|| panic!("no live deploy token for {t}"));
            let scopes: Vec<String> = serde_json::from_value(t["scopes"].clone()).unwrap();
            assert_eq!(live.scopes, scopes, "{t}");
            if let Some(user) = t["username"].as_str() {
                assert_eq!(live.username(), user, "{t}");
            }
        }
        "zendesk_oauth_token" => {
            let zd = &w.zendesk[s(&t["zendesk"])];
            let client = zd
                .clients
                .values()
                .find(|c| c.identifier == s(&t["client"]))
                .unwrap()
                .id;
            let scopes: Vec<String> = serde_json::from_value(t["scopes"].clone()).unwrap();
            assert!(
                zd.oauth_tokens
                    .values()
                    .any(|x| x.client_id == client && x.scopes == scopes),
                "{t}"
            );
        }
        "zendesk_oauth_client_secret" => {
            assert!(
                w.zendesk[s(&t["zendesk"])]
                    .clients
                    .values()
                    .any(|c| c.identifier == s(&t["client"])),
                "{t}"
            );
        }
        "zendesk_api_token" => {
            assert!(
                w.zendesk[s(&t["zendesk"])]
                    .api_tokens
                    .contains_key(&t["token_id"].as_u64().unwrap()),
                "{t}"
            );
        }
        "zendesk_webhook_signing_secret" => {
            assert!(
                w.zendesk[s(&t["zendesk"])]
                    .webhooks
                    .values()
                    .any(|h| h.name == s(&t["webhook"])),
                "{t}"
            );
        }
        "generated_secret" => {}
        other => panic!("unknown token kind {other}"),
    }
}

fn check_consumer(w: &World, kind: &str, c: &Json) {
    match kind {
        "gitlab_ci_variable" => {
            let gl = &w.gitlab[s(&c["gitlab"])];
            let sc = scope(gl, c);
            let env_scope = c["environment_scope"].as_str().unwrap_or("*");
            let v = gl.variables.iter().find(|v| {
                v.scope == sc && v.key == s(&c["key"]) && v.environment_scope == env_scope
            });
            let v = v.unwrap_or_else(|| panic!("no variable for {c}"));
            let flag = |k: &str| c[k].as_bool().unwrap_or(false);
            assert_eq!(
                (v.masked, v.hidden, v.raw, v.protected),
                (
                    flag("masked"),
                    flag("hidden"),
                    flag("raw"),
                    flag("protected")
                ),
                "{c}"
            );
        }
        "gitlab_webhook" => {
            let gl = &w.gitlab[s(&c["gitlab"])];
            let sc = scope(gl, c);
            assert!(
                gl.hooks
                    .values()
                    .any(|h| h.scope == sc && h.url == s(&c["url"])),
                "{c}"
            );
        }
        "zendesk_webhook" => {
            let zd = &w.zendesk[s(&c["zendesk"])];
            let hook = zd
                .webhooks
                .values()
                .find(|h| h.name == s(&c["webhook"]))
                .unwrap_or_else(|| panic!("{c}"));
            assert_eq!(
                hook.authentication.as_ref().unwrap().kind,
                s(&c["auth"]),
                "{c}"
            );
        }
        "zendesk_app_setting" => {
            let zd = &w.zendesk[s(&c["zendesk"])];
            let app = zd
                .apps
                .values()
                .find(|a| a.name == s(&c["app"]))
                .unwrap_or_else(|| panic!("{c}"));
            let inst = zd
                .installations
                .values()
                .find(|i| i.app_id == app.id)
                .unwrap();
            let setting = s(&c["setting"]);
            assert!(
                inst.secure_settings.contains_key(setting) || inst.settings.contains_key(setting),
                "{c}"
            );
        }
        "manual" | "command" => {}
        // The credential the run signs in with: the instance's admin token on GitLab, the
        // OAuth client (checked with its token entry) on Zendesk.
        "tokenops_credential" => match (c["gitlab"].as_str(), c["zendesk"].as_str()) {
            (Some(g), None) => assert!(w.gitlab[g].admin_token.is_some(), "{c}"),
            (None, Some(z)) => assert!(w.zendesk.contains_key(z), "{c}"),
            _ => panic!("a tokenops_credential names one instance: {c}"),
        },
        other => panic!("unknown consumer kind {other}"),
    }
}

#[tokio::test]
async fn default_seed_has_a_live_counterpart_for_every_manifest_entry() {
    let env = Scenario::demo().start();
    let tokens = manifests();
    assert!(tokens.len() >= 14, "read the example manifests");
    env.sandbox.with_state(|w| {
        for t in &tokens {
            let obj = t.as_object().unwrap();
            let kind = obj
                .keys()
                .find(|k| !["id", "description", "rotation", "consumers"].contains(&k.as_str()))
                .unwrap();
            check_token(w, kind, &t[kind.as_str()]);
            for c in t["consumers"].as_array().unwrap() {
                let (ckind, body) = c.as_object().unwrap().iter().next().unwrap();
                check_consumer(w, ckind, body);
            }
        }
    });
}

#[tokio::test]
async fn default_seed_gives_the_demo_work_to_do() {
    let env = Scenario::demo().start();
    let now: jiff::Timestamp = NOW.parse().unwrap();
    let horizon = tokenops::sandbox::state::utc_date(
        now.saturating_add(jiff::SignedDuration::from_hours(24 * 21))
            .unwrap(),
    );
    env.sandbox.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        let mut due: Vec<&str> = gl
            .tokens
            .values()
            .filter(|t| t.active(now) && t.expires_at.is_some_and(|e| e <= horizon))
            .map(|t| t.name.as_str())
            .collect();
        due.sort();
        assert_eq!(
            due,
            [
                "legacy-exporter",
                "ops-automation",
                "weekly-digest",
                "zendesk-global-app"
            ],
            "three declared (one a service account's), one undeclared"
        );
        let expired: Vec<&str> = gl
            .tokens
            .values()
            .filter(|t| t.expired(now))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(expired, ["triage-bot"]);
        // The stale consumer: its value authenticates as a revoked token.
        let zd = &w.zendesk["us-government"];
        let hook = zd
            .webhooks
            .values()
            .find(|h| h.name == "GitLab sync")
            .unwrap();
        let held = hook.authentication.as_ref().unwrap().data["token"]
            .reveal()
            .to_string();
        let token = gl
            .token_by_value(&held)
            .expect("a value the platform issued");
        assert!(token.revoked);
        assert_eq!(token.name, "zendesk-usgov-app");
        // Everyone else holding a GitLab token value holds the live one.
        let app = zd
            .installations
            .values()
            .find(|i| i.secure_settings.contains_key("gitlab_token"))
            .unwrap();
        assert!(
            gl.token_by_value(app.secure_settings["gitlab_token"].reveal())
                .unwrap()
                .active(now)
        );
        // The undeclared token sits in a group under support/ops.
        let undeclared = gl
            .tokens
            .values()
            .find(|t| t.name == "legacy-exporter")
            .unwrap();
        let TokenOwner::Project(pid) = undeclared.owner else {
            panic!("a project token")
        };
        assert_eq!(
            gl.projects[&pid].path_with_namespace,
            "support/ops/tools/legacy-exporter"
        );
    });
}

#[tokio::test]
async fn every_seeded_consumer_value_was_issued_by_the_sandbox() {
    let env = Scenario::demo().start();
    let issued: Vec<String> = env
        .sandbox
        .issued_values()
        .iter()
        .map(|v| v.expose_secret().to_string())
        .collect();
    let held: Vec<String> = env.sandbox.with_state(|w| {
        let mut out = Vec::new();
        for gl in w.gitlab.values() {
            // Deploy token usernames are not values anyone issues.
            let usernames: Vec<String> = gl.deploy_tokens.values().map(|t| t.username()).collect();
            out.extend(
                gl.variables
                    .iter()
                    .map(|v| v.value.reveal().to_string())
                    .filter(|v| !usernames.contains(v)),
            );
            out.extend(
                gl.hooks
                    .values()
                    .filter_map(|h| h.token.as_ref().map(|t| t.reveal().to_string())),
            );
            out.extend(gl.hooks.values().flat_map(|h| {
                h.custom_headers
                    .values()
                    .map(|v| v.reveal().trim_start_matches("Bearer ").to_string())
            }));
        }
        for zd in w.zendesk.values() {
            out.extend(
                zd.installations
                    .values()
                    .flat_map(|i| i.secure_settings.values().map(|v| v.reveal().to_string())),
            );
            for h in zd.webhooks.values() {
                if let Some(a) = &h.authentication {
                    out.extend(
                        a.data
                            .iter()
                            .filter(|(k, _)| *k != "username" && *k != "name")
                            .map(|(_, v)| v.reveal().to_string()),
                    );
                }
            }
        }
        out
    });
    assert!(held.len() > 20);
    for v in held {
        assert!(
            issued.contains(&v),
            "a consumer holds a value the sandbox did not issue"
        );
    }
}

#[tokio::test]
async fn seed_mistakes_are_reported_with_what_to_fix() {
    let bad_ref = "gitlab:\n  - name: g\n    users: [{ username: u }]\n    groups: [{ path: a }]\n    projects: [{ path: a/p }]\n    variables: [{ project: a/p, key: K, value: { value_of: nope } }]\n";
    let err = Sandbox::start(
        Seed::from_yaml_str(bad_ref, "t.yaml").unwrap(),
        SandboxOptions::at(NOW.parse().unwrap()),
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("value_of \"nope\""), "{err}");
    let bad_field =
        Seed::from_yaml_str("gitlab:\n  - name: g\n    colour: blue\n", "t.yaml").unwrap_err();
    assert!(bad_field.to_string().contains("t.yaml:"), "{bad_field}");
    let not_loopback = SandboxOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..SandboxOptions::at(NOW.parse().unwrap())
    };
    let err = Sandbox::start(Seed::default_demo(), not_loopback)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("loopback"));
}

#[test]
fn seed_now_sets_the_clock_and_relative_dates_follow_it() {
    let seed = "now: 2030-01-01T00:00:00Z\ngitlab:\n  - name: g\n    admin: root\n    users: [{ username: root, admin: true }]\n    tokens: [{ user: root, name: t, scopes: [api], expires_at: +10d }]\n";
    let sc = Scenario::seeded(seed).start();
    assert_eq!(sc.now().to_string(), "2030-01-01T00:00:00Z");
    let exp = sc.sandbox.with_state(|w| {
        w.gitlab["g"]
            .tokens
            .values()
            .find(|t| t.name == "t")
            .unwrap()
            .expires_at
            .unwrap()
    });
    assert_eq!(exp.to_string(), "2030-01-11");
}
