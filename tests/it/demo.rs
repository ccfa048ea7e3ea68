//! `tokenops demo` as a person sees it: one command, no credentials, four headed steps, the
//! estate converging, and no secret value anywhere in the output.

use crate::scenario::{NOW, Scenario, assert_filtered_snapshot, repo_root};

/// The instant the demo snapshot was recorded at (whole seconds; at [`NOW`] the day counts
/// of tokens expiring at a whole second read one less).
const SNAPSHOT_NOW: &str = "2026-11-28T12:00:00Z";

/// `tokenops demo` with its clock at `now`, run in a scenario whose sandbox is the demo's
/// twin (same seed, same clock), so the leak check looks for the values the demo's own
/// sandbox starts with.
pub(crate) fn demo(now: &str) -> (Scenario, String) {
    let sc = Scenario::demo().at(now).start();
    let stdout = sc.run(&["demo"], 0).stdout;
    (sc, stdout)
}

#[test]
fn demo_runs_the_whole_job_and_converges() {
    let (sc, stdout) = demo(SNAPSHOT_NOW);
    for heading in [
        "==> 1/6 tokenops plan",
        "==> 2/6 tokenops apply",
        "==> 3/6 tokenops plan again",
        "==> 4/6 tokenops apply --replace",
        "==> 5/6 tokenops plan after the replacement",
        "==> 6/6 tokenops check",
    ] {
        assert!(stdout.contains(heading), "missing {heading}");
    }
    let plans: Vec<&str> = stdout.split("==> ").collect();
    assert!(plans[1].contains(" due"), "the first plan shows due tokens");
    assert!(
        plans[1].contains(" expired"),
        "the first plan shows an expired token"
    );
    assert!(
        plans[1].contains("now stale"),
        "the first plan shows a stale consumer"
    );
    assert!(
        plans[1].contains(" legacy"),
        "the first plan shows legacy tokens"
    );
    // tokenops's own credential is due: the demo's apply rotates it last and says that the
    // run switched to the new value.
    let apply = plans[2];
    let own = apply
        .lines()
        .position(|l| l.starts_with("done     tokenops-rotate-token:"))
        .unwrap_or_else(|| panic!("the apply rotates tokenops's own credential:\n{apply}"));
    assert!(
        apply.lines().nth(own + 1).is_some_and(|l| l.contains(
            "tokenops's own credential for GitLab `gitlab.com`: the run switched to the new value"
        )),
        "{apply}"
    );
    let second = plans[3];
    assert!(
        !second.contains(" due\n") && !second.contains(" expired\n"),
        "{second}"
    );
    // The plan after apply says how many consumers nobody can prove, and replacing those tokens settles
    // every one tokenops can replace: only the legacy tokens' three stay.
    assert!(
        second.contains("; 15 consumers unverifiable (not counted as changes"),
        "{second}"
    );
    // The replacing apply gives tokenops's own Zendesk credentials, the secrets of the OAuth
    // client it signs in with, their first value made by tokenops, and says what that means
    // for the run and the next one.
    let replacing = plans[4];
    for (id, instance, var) in [
        (
            "tokenops-zendesk-global",
            "global",
            "ZENDESK_GLOBAL_CLIENT_SECRET",
        ),
        (
            "tokenops-zendesk-usgov",
            "us-government",
            "ZENDESK_USGOV_CLIENT_SECRET",
        ),
    ] {
        let done = replacing
            .lines()
            .position(|l| l.starts_with(&format!("done     {id}: new client secret generated")))
            .unwrap_or_else(|| panic!("the demo replaces {id}:\n{replacing}"));
        let notes: Vec<&str> = replacing.lines().skip(done + 1).take(2).collect();
        assert!(
            notes.iter().any(|l| l.contains(&format!(
                "tokenops's own credential for Zendesk `{instance}`: the run's access token \
                 keeps working"
            )) && l.contains(var)),
            "{replacing}"
        );
    }
    let replaced = plans[5];
    assert!(
        replaced.contains("; 3 consumers unverifiable"),
        "{replaced}"
    );
    for token in replaced
        .split("\n\n")
        .filter(|t| t.contains(" is unverifiable"))
    {
        assert!(token.contains("(zendesk_api_token) legacy"), "{token}");
    }
    // Paths are the manifests' own, never the demo's deleted temporary directory; the issue
    // it opened is named with its title and link; each manual step says where the value is.
    assert!(
        !stdout.contains("/tmp") && !stdout.contains("[TMP]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("in manifests/zendesk/legacy.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Opened the report issue #1 in support/ops/tokenops: \"tokenops: "),
        "{stdout}"
    );
    assert!(stdout.contains("/-/issues/1\n"), "{stdout}");
    for step in stdout.lines().filter(|l| l.starts_with("  - [ ] ")) {
        assert!(step.contains(" New value: "), "{step}");
    }
    assert_filtered_snapshot!(sc.filters(), "demo_output", stdout);
}

#[test]
fn embedded_examples_are_the_shipped_files() {
    let mut shipped: Vec<String> = Vec::new();
    fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    walk(&repo_root().join("manifests"), &repo_root(), &mut shipped);
    walk(&repo_root().join("scripts"), &repo_root(), &mut shipped);
    shipped.push("tokenops.yaml".into());
    shipped.sort();
    let mut embedded: Vec<String> = tokenops::ops::demo::EXAMPLE_FILES
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    embedded.sort();
    assert_eq!(embedded, shipped, "update EXAMPLE_FILES in src/ops/demo.rs");
    for (path, text) in tokenops::ops::demo::EXAMPLE_FILES {
        assert_eq!(
            std::fs::read_to_string(repo_root().join(path)).unwrap(),
            text
        );
    }
}

#[test]
fn progress_bars_only_on_a_terminal_and_never_with_quiet() {
    let bin = assert_cmd::cargo::cargo_bin("tokenops");
    let twin = Scenario::demo().start();
    let on_tty = |extra: &str| {
        let command = format!("{} {extra} --now {NOW} demo", bin.display());
        // `script` runs the command on a pseudo-terminal, as a person's shell would.
        let out = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(twin.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("script(1) from util-linux");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        twin.assert_no_secret_in("demo on a terminal", &text);
        text
    };
    assert!(
        on_tty("").contains("reading live state"),
        "a terminal shows progress"
    );
    assert!(
        !on_tty("--quiet").contains("reading live state"),
        "--quiet shows none"
    );
    let out = twin.run(&["demo"], 0);
    assert!(!out.both().contains("reading live state"));
}
