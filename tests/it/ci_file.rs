//! The pipeline files parse, and every `tokenops` command their jobs run is one the CLI
//! accepts, flags included, so a renamed flag cannot silently break a team's pipeline. The
//! template's promises are checked here too: a prebuilt image of this version by default,
//! a version-keyed cache for source builds, read-only unprotected credentials in the plan
//! job, plans kept for members only; and this repository's pipeline runs once per change and
//! publishes the image on tags. (`.ci/run` also has the files checked against GitLab's own
//! CI schema by an independent parser.)

use clap::Parser;
use serde_json::Value;
use tokenops::cli::Cli;

use crate::scenario::repo_root;

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    tokenops::yaml::from_str::<Value>(&text, path).unwrap_or_else(|e| panic!("{e}"))
}

/// Every `tokenops` invocation in the scripts of `doc`.
fn tokenops_commands(doc: &Value) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (name, job) in doc.as_object().unwrap() {
        let Some(job) = job.as_object() else { continue };
        for key in ["before_script", "script", "after_script"] {
            let lines: Vec<String> = match job.get(key) {
                Some(Value::Array(lines)) => lines
                    .iter()
                    .filter_map(|l| l.as_str().map(String::from))
                    .collect(),
                Some(Value::String(line)) => vec![line.clone()],
                _ => continue,
            };
            for line in lines.iter().flat_map(|l| {
                l.lines()
                    .map(str::trim)
                    .map(String::from)
                    .collect::<Vec<_>>()
            }) {
                let Some(rest) = ["$TOKENOPS_BIN ", "target/release/tokenops ", "tokenops "]
                    .iter()
                    .find_map(|p| line.strip_prefix(p))
                else {
                    continue;
                };
                let command = rest.split(['|', '>']).next().unwrap();
                let mut argv = vec!["tokenops".to_string()];
                argv.extend(command.split_whitespace().map(String::from));
                assert!(argv.len() > 1, "job {name}: empty tokenops command");
                found.push(argv);
            }
        }
    }
    found
}

#[test]
fn pipeline_files_parse_and_run_only_commands_that_exist() {
    let main = load(".gitlab-ci.yml");
    let template = load("templates/tokenops.gitlab-ci.yml");
    let included = main["include"][0]["local"].as_str().unwrap();
    assert_eq!(included, "templates/tokenops.gitlab-ci.yml");
    let mut commands = tokenops_commands(&main);
    commands.extend(tokenops_commands(&template));
    let subcommands: std::collections::BTreeSet<&str> =
        commands.iter().map(|c| c[1].as_str()).collect();
    for expected in ["validate", "plan", "apply", "check"] {
        assert!(
            subcommands.contains(expected),
            "no job runs `tokenops {expected}`"
        );
    }
    for argv in &commands {
        match Cli::try_parse_from(argv) {
            Ok(_) => {}
            // `tokenops --version`, which the jobs print first.
            Err(err) if err.kind() == clap::error::ErrorKind::DisplayVersion => {}
            Err(err) => panic!(
                "`{}` is not a valid tokenops command:\n{err}",
                argv.join(" ")
            ),
        }
    }
}

#[test]
fn pipeline_jobs_have_the_rules_and_artifacts_teams_rely_on() {
    let t = load("templates/tokenops.gitlab-ci.yml");
    let plan = &t["tokenops:plan"];
    assert_eq!(plan["artifacts"]["expire_in"], "30 days");
    assert_eq!(
        plan["artifacts"]["reports"]["terraform"],
        "tokenops-widget.json"
    );
    assert!(
        plan["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("merge_request_event")
    );
    let apply = &t["tokenops:apply"];
    assert_eq!(apply["resource_group"], "tokenops");
    assert!(apply["environment"]["name"].is_string());
    assert_eq!(apply["artifacts"]["when"], "always");
    let check = &t["tokenops:check"];
    assert!(
        check["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("$TOKENOPS_JOB == \"check\"")
    );
    assert_eq!(check["allow_failure"]["exit_codes"], serde_json::json!([2]));
    let rotate = &t["tokenops:rotate"];
    assert_eq!(rotate["extends"], "tokenops:apply");
    assert!(
        rotate["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("$TOKENOPS_JOB == \"rotate\"")
    );
    // Every job the main file refines exists in the template.
    let main = load(".gitlab-ci.yml");
    for (name, _) in main
        .as_object()
        .unwrap()
        .iter()
        .filter(|(n, _)| n.starts_with("tokenops:"))
    {
        assert!(
            t.get(name).is_some(),
            "{name} refines a job the template does not define"
        );
    }
}

/// A job of `doc` with its `extends` merged in (hashes merged, other values replaced).
fn resolved(doc: &Value, name: &str) -> Value {
    let job = doc[name].clone();
    let mut out = serde_json::Map::new();
    if let Some(parent) = job["extends"].as_str() {
        merge(&mut out, resolved(doc, parent).as_object().unwrap());
    }
    merge(&mut out, job.as_object().unwrap());
    Value::Object(out)
}

fn merge(into: &mut serde_json::Map<String, Value>, from: &serde_json::Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

#[test]
fn the_template_runs_the_prebuilt_image_of_this_version() {
    let t = load("templates/tokenops.gitlab-ci.yml");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(t["variables"]["TOKENOPS_VERSION"], version.as_str());
    let image = t["variables"]["TOKENOPS_IMAGE"].as_str().unwrap();
    assert!(
        image.ends_with(&format!("/support/ops/tokenops:{version}")),
        "the default image is this release's: {image}"
    );
    for job in [
        "tokenops:validate",
        "tokenops:plan",
        "tokenops:apply",
        "tokenops:rotate",
        "tokenops:check",
    ] {
        let job = resolved(&t, job);
        assert_eq!(job["image"], "$TOKENOPS_IMAGE");
        // Built from source, the binary is compiled once per version, then restored.
        assert_eq!(job["cache"]["key"], "tokenops-bin-$TOKENOPS_VERSION");
        let setup = job["before_script"][0].as_str().unwrap();
        assert!(setup.contains("--tag \"$TOKENOPS_VERSION\""), "{setup}");
        assert!(
            setup.contains("[ ! -x .tokenops-bin/bin/tokenops ]"),
            "{setup}"
        );
    }
}

#[test]
fn the_plan_job_gets_only_unprotected_read_credentials() {
    use tokenops::cli::credentials::TEMPLATE_VARIABLES;
    let t = load("templates/tokenops.gitlab-ci.yml");
    let text =
        std::fs::read_to_string(repo_root().join("templates/tokenops.gitlab-ci.yml")).unwrap();
    // The list the error messages quote is the one the template applies.
    for known in TEMPLATE_VARIABLES {
        for job in known.jobs {
            assert_eq!(
                resolved(&t, job)["variables"][known.env],
                format!("${}", known.from).as_str(),
                "{job} sets {} from {}",
                known.env,
                known.from
            );
        }
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("#   {} ", known.from)))
            .unwrap_or_else(|| panic!("the header documents {}", known.from));
        assert_eq!(
            line.contains("not protected"),
            !known.protected,
            "{} is documented as {}protected: {line}",
            known.from,
            if known.protected { "" } else { "not " }
        );
    }
    let plan = resolved(&t, "tokenops:plan");
    for (name, value) in plan["variables"].as_object().unwrap() {
        let from = value.as_str().unwrap().trim_start_matches('$');
        let known = TEMPLATE_VARIABLES
            .iter()
            .find(|k| k.from == from)
            .unwrap_or_else(|| panic!("plan sets {name} from an unknown variable {from}"));
        assert!(!known.protected, "plan must not need the protected {from}");
        assert!(
            name.contains("READ"),
            "plan gets read credentials only: {name}"
        );
    }
}

#[test]
fn plans_and_summaries_are_kept_for_members_only() {
    let t = load("templates/tokenops.gitlab-ci.yml");
    for job in ["tokenops:plan", "tokenops:apply", "tokenops:rotate"] {
        assert_eq!(
            resolved(&t, job)["artifacts"]["access"],
            "developer",
            "{job}'s artifacts"
        );
    }
}

#[test]
fn this_repository_runs_one_pipeline_per_change_and_publishes_the_image_on_tags() {
    let main = load(".gitlab-ci.yml");
    let rules = main["workflow"]["rules"].as_array().unwrap();
    assert!(
        rules[0]["if"]
            .as_str()
            .unwrap()
            .contains("merge_request_event")
    );
    assert!(
        rules.iter().any(|r| r["if"]
            .as_str()
            .is_some_and(|i| i.contains("$CI_OPEN_MERGE_REQUESTS"))
            && r["when"] == "never"),
        "no branch pipeline while a merge request is open: {rules:?}"
    );
    let release = &main["release:image"];
    assert!(
        release["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("$CI_COMMIT_TAG")
    );
    let script = release["script"].as_array().unwrap();
    let text: Vec<&str> = script.iter().filter_map(Value::as_str).collect();
    let text = text.join("\n");
    assert!(text.contains("docker build"), "{text}");
    assert!(
        text.contains("docker push \"$CI_REGISTRY_IMAGE:$CI_COMMIT_TAG\""),
        "{text}"
    );
    assert!(
        text.contains("Cargo.toml"),
        "the tag must match the crate version: {text}"
    );
    // This repository's jobs run the binary its build job made, not a published image.
    assert_eq!(main["variables"]["TOKENOPS_BIN"], "target/release/tokenops");

    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    assert!(
        froms[1].contains("slim"),
        "a small runtime image: {}",
        froms[1]
    );
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("the image sets a user");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    assert!(
        !dockerfile.lines().any(|l| l.starts_with("ENTRYPOINT")),
        "GitLab runs job scripts through the image's shell"
    );
}
