//! The pipeline files parse, and every `tokenops` command their jobs run is one the CLI
//! accepts, flags included, so a renamed flag cannot silently break a team's pipeline.

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
        if let Err(err) = Cli::try_parse_from(argv) {
            panic!(
                "`{}` is not a valid tokenops command:\n{err}",
                argv.join(" ")
            );
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
    assert_eq!(check["allow_failure"]["exit_codes"][0], 2);
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
