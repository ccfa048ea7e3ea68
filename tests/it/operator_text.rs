//! What an operator reads is true and complete: the same days-left figure in plan and check,
//! summary lines that never put two kinds of "manual" side by side, a deactivated legacy token
//! that does not "expire today", an issue title that counts what the issue lists.

use std::collections::BTreeMap;

use tokenops::ops::apply::summary::summary_line;
use tokenops::ops::apply::{ApplyReport, TokenOutcome, TokenResult};

use crate::scenario::{Exit, Scenario};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn plan_and_check_give_every_declared_token_the_same_days_left() {
    let sc = Scenario::example().start();
    let plan = json(&sc.run(&["plan", "--format", "json"], 0).stdout);
    let check = sc.cmd(&["check", "--format", "json"]).expect(Exit::Code(2));
    let check = json(&check.stdout);
    let planned: BTreeMap<&str, &serde_json::Value> = plan["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), &t["days_left"]))
        .collect();
    let mut compared = 0;
    for entry in check["entries"].as_array().unwrap() {
        let Some(id) = entry["declared_by"]["id"].as_str() else {
            continue;
        };
        if entry["kind"] == "zendesk_api_token" {
            continue; // the check's figure is the legacy deadline, not an expiry
        }
        assert_eq!(&entry["days_left"], planned[id], "{id}");
        compared += 1;
    }
    assert!(compared >= 1, "{check}");
    let text = sc.cmd(&["check"]).expect(Exit::Code(2)).stdout;
    assert!(!text.contains(" 1 days"), "{text}");
    // The token whose expiry is 2026-12-10 00:00 UTC, checked 2026-11-28 09:00 UTC: 11 whole
    // days left, in both.
    let plan_text = sc.run(&["plan"], 0).stdout;
    assert!(
        plan_text.contains("expires in 11 days (2026-12-10)"),
        "{plan_text}"
    );
}

#[test]
fn a_deactivated_legacy_token_is_reported_as_deactivated_not_as_expiring_today() {
    let sc = Scenario::example().start();
    let text = sc.cmd(&["check"]).expect(Exit::Code(2)).stdout;
    let entry = text
        .split("\n\n")
        .find(|e| e.contains("zd-usgov-legacy-forms"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(entry.contains("already deactivated by Zendesk"), "{entry}");
    assert!(!entry.contains("today"), "{entry}");
    let doc = json(
        &sc.cmd(&["check", "--format", "json"])
            .expect(Exit::Code(2))
            .stdout,
    );
    let legacy = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["declared_by"]["id"] == "zd-usgov-legacy-forms")
        .unwrap();
    assert_eq!(legacy["deactivated"], true);
}

#[test]
fn check_does_not_call_a_token_due_that_the_plan_calls_ok() {
    let sc = Scenario::example().start();
    let text = sc.cmd(&["check"]).expect(Exit::Code(2)).stdout;
    let entry = text
        .split("\n\n")
        .find(|e| e.contains("zd-usgov-oauth-escalations"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(!entry.contains("due for rotation"), "{entry}");
    assert!(entry.contains("not due yet"), "{entry}");
}

#[test]
fn issue_title_counts_what_the_issue_lists() {
    let sc = Scenario::example().start();
    let text = sc.cmd(&["check"]).expect(Exit::Code(2)).stdout;
    // "ATTENTION: 3 of 4 listed token(s) need action ..."
    let words: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    let (urgent, listed) = (words[1], words[3]);
    assert_ne!(
        urgent, listed,
        "the example lists an entry outside the window: {text}"
    );
    let markdown = sc
        .cmd(&["check", "--format", "markdown"])
        .expect(Exit::Code(2))
        .stdout;
    let title = markdown.lines().next().unwrap();
    assert_eq!(
        title,
        format!("**tokenops: {urgent} tokens need action within 21 days ({listed} listed)**")
    );
    let items = markdown.lines().filter(|l| l.starts_with("- [ ] ")).count();
    assert_eq!(items.to_string(), listed, "{markdown}");
}

#[test]
fn apply_summary_names_tokens_and_manual_steps_apart_and_omits_zero_counts() {
    let mut report = ApplyReport::default();
    report.results.push(TokenResult::done("a", "rotated"));
    report.results.push(TokenResult::done("b", "rotated"));
    report
        .results
        .push(TokenResult::new("c", TokenOutcome::Failed, "401".into()));
    report.checklist = vec!["a: paste it".into(), "b: paste it".into()];
    assert_eq!(
        summary_line(&report),
        "Summary: 2 done, 1 failed; 2 manual steps left to a person (listed above)."
    );
    report.checklist.clear();
    report
        .results
        .push(TokenResult::new("d", TokenOutcome::Manual, String::new()));
    let line = summary_line(&report);
    assert_eq!(
        line,
        "Summary: 2 done, 1 failed, 1 handed to a person (manual mode)."
    );
    assert!(!line.contains(" 0 "), "{line}");
}

#[test]
fn replace_settles_unverifiable_consumers_and_the_headline_counts_them() {
    let sc = Scenario::example().start();
    sc.run(&["apply", "--auto-approve"], 0);
    // In sync, yet some consumers cannot be proven: the headline says how many, that
    // --detailed-exitcode does not count them as changes, and what settles them.
    let plan = sc.run(&["plan", "--detailed-exitcode"], 0).stdout;
    let head = plan.lines().next().unwrap();
    assert!(head.starts_with("No changes: "), "{head}");
    assert!(
        head.contains(
            " consumers unverifiable (not counted as changes: `tokenops apply --replace ID`"
        ),
        "{head}"
    );
    assert!(
        plan.contains("`tokenops apply --replace gl-ops-bot-readonly` settles it now"),
        "{plan}"
    );
    let before = json(&sc.run(&["plan", "--format", "json"], 0).stdout);
    let unverifiable = before["summary"]["unverifiable"].as_u64().unwrap();
    assert!(unverifiable >= 2, "{before}");

    // Replacing the token writes a value made now to every consumer.
    sc.run(
        &[
            "plan",
            "--replace",
            "gl-ops-bot-readonly",
            "--detailed-exitcode",
        ],
        2,
    );
    let applied = sc
        .run(
            &[
                "apply",
                "--replace",
                "gl-ops-bot-readonly",
                "--auto-approve",
            ],
            0,
        )
        .stdout;
    assert!(
        applied.contains("done     gl-ops-bot-readonly: rotated"),
        "{applied}"
    );

    // Afterwards every consumer of the token is proven, and the count dropped by one.
    let after = json(&sc.run(&["plan", "--format", "json"], 0).stdout);
    let token = after["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "gl-ops-bot-readonly")
        .unwrap();
    for consumer in token["consumers"].as_array().unwrap() {
        assert_eq!(consumer["status"], "in-sync", "{consumer}");
    }
    assert_eq!(
        after["summary"]["unverifiable"].as_u64().unwrap(),
        unverifiable - 1
    );
}

#[test]
fn man_out_writes_every_page_the_main_page_refers_to() {
    let dir = tempfile::tempdir().unwrap();
    crate::scenario::plain_command(dir.path())
        .args(["man", "--out", "."])
        .assert()
        .success();
    let main = std::fs::read_to_string(dir.path().join("tokenops.1")).unwrap();
    let mut referred = 0;
    for (i, _) in main.match_indices("tokenops\\-") {
        let name: String = main[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '\\' || *c == '-')
            .collect::<String>()
            .replace("\\-", "-");
        assert!(
            dir.path().join(format!("{name}.1")).exists(),
            "tokenops.1 refers to {name}(1), which was not written"
        );
        referred += 1;
    }
    assert!(referred >= 5, "{main}");
    assert!(dir.path().join("tokenops-plan.1").exists());
}

#[test]
fn logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let sc = Scenario::example().start();
    // Without NO_COLOR: only the terminal test decides.
    let out = sc
        .cmd(&["-v", "plan"])
        .env_remove("NO_COLOR")
        .expect(Exit::Any);
    assert!(!out.stderr.is_empty(), "-v logs something");
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
}

#[test]
fn tokenops_config_and_tokenops_manifests_stand_for_the_flags() {
    let tmp = tempfile::tempdir().unwrap();
    crate::scenario::copy_tree(
        &crate::scenario::repo_root().join("manifests"),
        &tmp.path().join("desired"),
    );
    std::fs::copy(
        crate::scenario::repo_root().join("tokenops.yaml"),
        tmp.path().join("conf.yaml"),
    )
    .unwrap();
    crate::scenario::plain_command(tmp.path())
        .arg("validate")
        .env("TOKENOPS_CONFIG", "conf.yaml")
        .env("TOKENOPS_MANIFESTS", "desired")
        .assert()
        .success();
    // A flag still wins over the variable.
    crate::scenario::plain_command(tmp.path())
        .args(["validate", "--manifests", "nowhere"])
        .env("TOKENOPS_CONFIG", "conf.yaml")
        .env("TOKENOPS_MANIFESTS", "desired")
        .assert()
        .code(1);
}

#[test]
fn version_names_the_git_commit() {
    let out = crate::scenario::plain_command(&crate::scenario::repo_root())
        .arg("--version")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let rest = text
        .strip_prefix(&format!("tokenops {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{text}"));
    let commit = rest.trim_end().trim_end_matches(')');
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}

#[test]
fn apply_format_json_is_the_documented_summary_document() {
    let sc = Scenario::example().start();
    let out = sc.run(&["apply", "--auto-approve", "--format", "json"], 0);
    let doc = json(&out.stdout);
    assert_eq!(doc["format"], 1);
    assert_eq!(doc["all_done"], true);
    let tokens = doc["tokens"].as_array().unwrap();
    assert!(!tokens.is_empty());
    let done = tokens.iter().filter(|t| t["outcome"] == "done").count() as u64;
    assert_eq!(doc["counts"]["done"].as_u64().unwrap(), done);
    for key in ["pending", "failed", "skipped", "manual", "blocked"] {
        assert_eq!(doc["counts"][key], 0, "{key}");
    }
    for token in tokens {
        assert!(
            token["id"].is_string() && token["detail"].is_string(),
            "{token}"
        );
        assert!(token["notes"].is_array(), "{token}");
    }
    let steps = doc["manual_steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{doc}");
    assert!(
        steps
            .iter()
            .all(|s| s.as_str().unwrap().contains("New value: "))
    );
    assert!(doc["ledger_flushes"].as_u64().unwrap() > 0);
}

#[test]
fn show_prints_a_saved_plan_in_every_format() {
    let sc = Scenario::example().start();
    sc.run(&["plan", "--out", "plan.json"], 0);
    let saved = sc.read("plan.json");
    assert_eq!(
        sc.run(&["show", "plan.json", "--format", "json"], 0).stdout,
        saved
    );
    let text = sc.run(&["show", "plan.json"], 0).stdout;
    assert_eq!(text, sc.run(&["plan"], 0).stdout);
    let markdown = sc
        .run(&["show", "plan.json", "--format", "markdown"], 0)
        .stdout;
    assert!(markdown.starts_with("<!-- tokenops:plan -->"), "{markdown}");
    sc.write("broken.json", "{\"format\": 1}");
    let bad = sc.cmd(&["show", "broken.json"]).expect(Exit::Code(1));
    assert!(
        bad.stderr
            .contains("cannot read the saved plan broken.json"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("hint: "), "{}", bad.stderr);
}
