//! `tokenops schema`: the committed schemas are current, `--check` catches stale ones, and
//! the example manifests point editors at them.

use crate::scenario::{plain_command, repo_root};

#[test]
fn committed_schemas_are_current() {
    for (name, text) in tokenops::ops::schema::schemas() {
        let committed = std::fs::read_to_string(repo_root().join("schemas").join(name))
            .unwrap_or_else(|_| panic!("schemas/{name} is missing"));
        assert!(
            committed == text,
            "schemas/{name} is stale: run `tokenops schema --out schemas`"
        );
    }
    plain_command(&repo_root())
        .args(["schema", "--check"])
        .assert()
        .success();
}

#[test]
fn check_fails_on_a_stale_or_missing_schema() {
    let tmp = tempfile::tempdir().unwrap();
    plain_command(tmp.path())
        .args(["schema", "--out", "."])
        .assert()
        .success();
    plain_command(tmp.path())
        .args(["schema", "--check", "--dir", "."])
        .assert()
        .success();
    std::fs::write(tmp.path().join("manifest.schema.json"), "{}\n").unwrap();
    std::fs::remove_file(tmp.path().join("tokenops.schema.json")).unwrap();
    let out = plain_command(tmp.path())
        .args(["schema", "--check", "--dir", "."])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    insta::assert_snapshot!(stdout, @r"
    ./tokenops.schema.json: error: schema file is missing
      hint: run `tokenops schema --out .` and commit the result
    ./manifest.schema.json: error: schema is stale
      hint: run `tokenops schema --out .` and commit the result
    ");
}

#[test]
fn printed_schemas_are_json_describing_every_kind() {
    let out = plain_command(&repo_root()).arg("schema").assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("JSON documents");
    assert_eq!(docs.len(), 2);
    let manifest = docs[1].to_string();
    for kind in tokenops::manifest::TOKEN_KINDS
        .iter()
        .chain(tokenops::manifest::CONSUMER_KINDS.iter())
    {
        assert!(
            manifest.contains(kind),
            "{kind} missing from the manifest schema"
        );
    }
    assert!(docs[0].to_string().contains("oauth_token_env"));
}

#[test]
fn example_files_name_their_schema() {
    let config = std::fs::read_to_string(repo_root().join("tokenops.yaml")).unwrap();
    assert!(config.starts_with("# yaml-language-server: $schema=schemas/tokenops.schema.json"));
    let mut stack = vec![repo_root().join("manifests")];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let first = text.lines().next().unwrap_or_default();
                let target = first
                    .strip_prefix("# yaml-language-server: $schema=")
                    .unwrap_or_else(|| panic!("{} has no schema line", path.display()));
                let resolved = path.parent().unwrap().join(target);
                assert!(resolved.exists(), "{} points at {target}", path.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= 7);
}

fn committed(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo_root().join("schemas").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every `properties` entry anywhere in `node`, as (path, schema).
fn properties<'a>(
    node: &'a serde_json::Value,
    path: String,
    out: &mut Vec<(String, &'a serde_json::Value)>,
) {
    match node {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                for (key, prop) in props {
                    out.push((format!("{path}/{key}"), prop));
                }
            }
            for (key, child) in map {
                properties(child, format!("{path}/{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                properties(item, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_property_of_both_schemas_has_a_description() {
    for name in ["manifest.schema.json", "tokenops.schema.json"] {
        let schema = committed(name);
        let mut all = Vec::new();
        properties(&schema, String::new(), &mut all);
        assert!(all.len() > 20, "{name}");
        for (path, prop) in all {
            assert!(
                prop.get("description")
                    .and_then(|d| d.as_str())
                    .is_some_and(|d| !d.is_empty()),
                "{name}{path} has no description"
            );
        }
    }
}

#[test]
fn schema_scopes_are_the_kinds_own_and_choices_are_plain_enums() {
    let schema = committed("manifest.schema.json");
    let defs = &schema["definitions"];
    let scopes = |kind: &str| -> Vec<String> {
        defs[kind]["properties"]["scopes"]["items"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{kind} scopes are not an enum"))
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    use tokenops::manifest::scopes::*;
    assert_eq!(
        scopes("GitlabPersonalAccessToken"),
        GITLAB_PAT_SCOPES.map(String::from)
    );
    assert_eq!(
        scopes("GitlabGroupAccessToken"),
        GITLAB_GROUP_SCOPES.map(String::from)
    );
    assert_eq!(
        scopes("GitlabProjectAccessToken"),
        GITLAB_PROJECT_SCOPES.map(String::from)
    );
    assert_eq!(scopes("ZendeskOauthToken"), zendesk_scopes());
    // What validate refuses, an editor refuses too.
    assert!(!scopes("GitlabPersonalAccessToken").contains(&"read_usr".to_string()));
    assert!(!scopes("GitlabProjectAccessToken").contains(&"read_user".to_string()));
    assert!(!scopes("ZendeskOauthToken").contains(&"auditlogs:write".to_string()));
    // A wrong `strategy` reads "Value is not accepted. Valid values: ..." in an editor.
    assert_eq!(
        defs["Strategy"]["enum"],
        serde_json::json!(["rotate", "overlap"])
    );
    assert!(defs["Strategy"].get("oneOf").is_none());
    assert!(!schema.to_string().contains("\"const\":\"rotate\""));
    // An empty client (what import --migrate-zendesk writes) is refused, as validate does.
    assert_eq!(
        defs["ZendeskOauthToken"]["properties"]["client"]["minLength"],
        1
    );
    // Durations are checked by pattern.
    assert_eq!(defs["Duration"]["pattern"], "^[0-9]+[smhdw]$");
}
