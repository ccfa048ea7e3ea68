//! `tokenops demo` as a person sees it: one command, no credentials, four headed steps, the
//! estate converging, and no secret value anywhere in the output.

use crate::harness::{TEST_NOW, repo_root, tokenops};

fn demo() -> (String, String, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let out = tokenops(dir.path())
        .args(["--now", TEST_NOW, "demo"])
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn assert_no_token_values(text: &str) {
    let looks_secret = regex_lite(text);
    assert!(
        looks_secret.is_none(),
        "output holds something that looks like a token: {looks_secret:?}"
    );
}

/// The first run of characters that looks like an issued token value: a GitLab prefix with
/// a body, or a 40+ character run of hex or alphanumerics.
fn regex_lite(text: &str) -> Option<String> {
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        if (word.starts_with("glpat-") || word.starts_with("glptt-")) && word.len() > 10 {
            return Some(word.to_string());
        }
        if word.len() >= 40 && word.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Some(word.to_string());
        }
    }
    None
}

#[test]
fn demo_runs_the_whole_job_and_converges() {
    let (stdout, stderr, code) = demo();
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for heading in [
        "==> 1/4 tokenops plan",
        "==> 2/4 tokenops apply",
        "==> 3/4 tokenops plan again",
        "==> 4/4 tokenops check",
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
    let second = plans[3];
    assert!(
        !second.contains(" due\n") && !second.contains(" expired\n"),
        "{second}"
    );
    assert_no_token_values(&stdout);
    assert_no_token_values(&stderr);
    insta::with_settings!({ filters => vec![(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]")] }, {
        insta::assert_snapshot!("demo_output", stdout);
    });
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
    let on_tty = |extra: &str| {
        let dir = tempfile::tempdir().unwrap();
        let command = format!("{} {extra} --now {TEST_NOW} demo", bin.display());
        // `script` runs the command on a pseudo-terminal, as a person's shell would.
        let out = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("script(1) from util-linux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        on_tty("").contains("reading live state"),
        "a terminal shows progress"
    );
    assert!(
        !on_tty("--quiet").contains("reading live state"),
        "--quiet shows none"
    );
    let (stdout, stderr, _) = demo();
    assert!(!stdout.contains("reading live state") && !stderr.contains("reading live state"));
}
