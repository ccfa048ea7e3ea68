//! The shipped example (GitLab and Zendesk): apply rotates what this version handles and
//! reports every token with a Zendesk kind or consumer as skipped, never as a failure of the
//! whole run, and leaves those tokens untouched.

use crate::harness::{SandboxRun, repo_root};

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn zendesk_tokens_and_consumers_are_skipped_not_failed() {
    let run = SandboxRun::gitlab_demo();
    let config = std::fs::read_to_string(run.dir.path().join("tokenops.yaml")).expect("config");
    let recipient = config
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("test recipient")
        .trim_end_matches(',')
        .to_string();
    let shipped = std::fs::read_to_string(repo_root().join("tokenops.yaml")).expect("shipped");
    let shipped_recipient = shipped
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("shipped recipient");
    std::fs::write(
        run.dir.path().join("tokenops.yaml"),
        shipped.replace(shipped_recipient, &recipient),
    )
    .expect("write config");
    std::fs::remove_dir_all(run.dir.path().join("manifests")).expect("rm");
    copy_tree(
        &repo_root().join("manifests"),
        &run.dir.path().join("manifests"),
    );

    let mut cmd = run.cmd(&["apply", "--auto-approve"]);
    for (name, env) in [("global", "GLOBAL"), ("us-government", "US_GOVERNMENT")] {
        cmd.env(
            format!("TOKENOPS_ZENDESK_{env}_URL"),
            run.handle.zendesk_url(name),
        )
        .env(
            format!("TOKENOPS_ZENDESK_{env}_TOKEN"),
            secrecy::ExposeSecret::expose_secret(&run.handle.zendesk_admin_token(name)),
        );
    }
    let out = cmd.output().expect("apply");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |id: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!(" {id}:")))
            .unwrap_or_else(|| panic!("no line for {id}:\n{stdout}"))
            .to_string()
    };
    // Due, but one of its consumers is a Zendesk app setting: not rotated.
    assert!(
        line("gl-ops-bot-automation").starts_with("skipped"),
        "{stdout}"
    );
    assert!(
        line("gl-ops-bot-automation").contains("zendesk_app_setting"),
        "{stdout}"
    );
    // Generated secrets with GitLab consumers only: done.
    assert!(line("bridge-hook-secret").starts_with("done"), "{stdout}");
    assert!(stdout.contains("skipped"), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("failed")), "{stdout}");
    let rotations = run
        .handle
        .requests()
        .entries
        .iter()
        .filter(|e| e.route.ends_with("/rotate") || e.route.ends_with("access_tokens"))
        .filter(|e| e.method == "POST")
        .count();
    assert_eq!(
        rotations, 0,
        "no GitLab token with a Zendesk consumer was rotated"
    );
}
