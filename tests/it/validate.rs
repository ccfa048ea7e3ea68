//! `tokenops validate`: the shipped examples pass, every case of the invalid corpus in
//! tests/bad/ gives its reviewed output, and no input makes the loader panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tokenops::manifest::{self, LoadOptions};

use crate::scenario::{
    assert_filtered_snapshot, copy_tree, filters, plain_command, repo_root, write_file,
};

#[test]
fn shipped_manifests_are_valid() {
    let out = plain_command(&repo_root())
        .arg("validate")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.starts_with("ok: 25 tokens"), "{stdout}");
}

#[test]
fn shipped_manifests_cover_every_token_and_consumer_kind() {
    let desired = manifest::load(&LoadOptions {
        config: repo_root().join("tokenops.yaml"),
        manifests: repo_root().join("manifests"),
    })
    .expect("shipped manifests load");
    for &kind in manifest::TOKEN_KINDS {
        assert!(
            desired.tokens.iter().any(|t| t.spec.kind.key() == kind),
            "no example token of kind {kind}"
        );
    }
    for &kind in manifest::CONSUMER_KINDS {
        assert!(
            desired
                .tokens
                .iter()
                .any(|t| t.spec.consumers.iter().any(|c| c.kind_key() == kind)),
            "no example consumer of kind {kind}"
        );
    }
    assert_eq!(desired.config.zendesk.len(), 2);
}

fn corpus_dir() -> PathBuf {
    repo_root().join("tests/bad")
}

/// Copies one corpus case into a temporary directory, with the shared tokenops.yaml unless
/// the case brings its own (or is about a missing one).
fn stage_case(case: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(case, tmp.path());
    let own_config = case.join("tokenops.yaml").exists();
    if !own_config && !case.join("NO_CONFIG").exists() {
        std::fs::copy(
            corpus_dir().join("tokenops.yaml"),
            tmp.path().join("tokenops.yaml"),
        )
        .expect("copy shared config");
    }
    tmp
}

#[test]
fn corpus_of_invalid_inputs() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/bad")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = stage_case(&case);
        let output = plain_command(tmp.path())
            .arg("validate")
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(1), "case {name} should fail");
        assert!(output.stderr.is_empty(), "case {name}: {:?}", output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !name.starts_with("several-") {
            assert!(
                stdout.ends_with("1 problem in 1 file\n"),
                "case {name} should report exactly one problem:\n{stdout}"
            );
        }
        assert_filtered_snapshot!(filters(tmp.path()), format!("bad__{name}"), stdout);
    }
}

#[test]
fn several_problems_are_all_reported_with_positions() {
    let tmp = stage_case(&corpus_dir().join("several-problems-one-file"));
    let output = plain_command(tmp.path())
        .arg("validate")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let errors: Vec<&str> = stdout.lines().filter(|l| l.contains(": error: ")).collect();
    assert!(errors.len() >= 8, "{stdout}");
    for line in errors {
        let place = line.split(": error: ").next().unwrap();
        let parts: Vec<&str> = place.rsplitn(3, ':').collect();
        assert_eq!(parts.len(), 3, "{line}");
        assert!(parts[0].parse::<u64>().unwrap() > 0, "{line}");
        assert!(parts[1].parse::<u64>().unwrap() > 0, "{line}");
    }
    assert_eq!(
        stdout.matches("\n  hint: ").count(),
        stdout.matches(": error: ").count()
    );
}

#[test]
fn config_and_manifest_paths_can_be_given() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join("manifests"), &tmp.path().join("desired"));
    std::fs::copy(
        repo_root().join("tokenops.yaml"),
        tmp.path().join("conf.yaml"),
    )
    .unwrap();
    plain_command(tmp.path())
        .args([
            "validate",
            "--config",
            "conf.yaml",
            "--manifests",
            "desired",
        ])
        .assert()
        .success();
    plain_command(tmp.path()).arg("validate").assert().code(1);
}

#[test]
fn quiet_prints_only_problems() {
    let out = plain_command(&repo_root())
        .args(["--quiet", "validate"])
        .assert()
        .success();
    assert!(out.get_output().stdout.is_empty());
    let tmp = stage_case(&corpus_dir().join("missing-id"));
    let out = plain_command(tmp.path())
        .args(["validate", "-q"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.starts_with("manifests/a.yaml:2:5: error: missing field `id`"));
}

#[test]
fn huge_file_is_refused_without_reading_it() {
    let tmp = stage_case(&corpus_dir().join("missing-kind"));
    let big = tmp.path().join("manifests/big.yaml");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    let output = plain_command(tmp.path()).arg("validate").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "manifests/big.yaml:1:1: error: file is too large (50 MiB; the limit is 10 MiB)"
        ),
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn invalid_utf8_reports_line_and_column() {
    let tmp = stage_case(&corpus_dir().join("not-utf8"));
    let output = plain_command(tmp.path()).arg("validate").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("manifests/a.yaml:3:21: error: file is not valid UTF-8"),
        "{stdout}"
    );
}

#[test]
fn a_valid_token_loads_with_effective_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus_dir().join("tokenops.yaml"),
        tmp.path().join("tokenops.yaml"),
    )
    .unwrap();
    write_file(
        tmp.path(),
        "manifests/a.yaml",
        "tokens:\n  - id: cc\n    zendesk_oauth_token: { zendesk: global, client: c, scopes: [read], grant: client_credentials }\n    rotation: { rotate_before: 6h }\n",
    );
    let desired = manifest::load(&LoadOptions {
        config: tmp.path().join("tokenops.yaml"),
        manifests: tmp.path().join("manifests"),
    })
    .expect("valid");
    let token = &desired.tokens[0];
    assert_eq!(token.origin.line, 2);
    let policy = desired.rotation(&token.spec);
    // The inherited 365d lifetime is capped under Zendesk's 48h client-credentials limit.
    assert_eq!(policy.lifetime.to_string(), "47h");
    assert_eq!(policy.rotate_before.to_string(), "6h");
}

fn load_text(dir: &Path, text: &str) {
    std::fs::write(dir.join("manifests/a.yaml"), text).unwrap();
    let result = manifest::load(&LoadOptions {
        config: dir.join("tokenops.yaml"),
        manifests: dir.join("manifests"),
    });
    if let Err(diags) = result {
        assert!(!diags.is_empty());
        for d in &diags.0 {
            assert!(d.hint.is_some(), "no hint for {d}");
        }
    }
}

const SEED: &str = "tokens:
  - id: tok
    description: seed
    gitlab_project_access_token:
      gitlab: gitlab.com
      project: support/ops/x
      name: bot
      scopes: [api, read_api]
      access_level: developer
    rotation: { lifetime: 90d, rotate_before: 14d, strategy: overlap }
    consumers:
      - gitlab_ci_variable: { gitlab: gitlab.com, project: a/b, key: K, masked: true }
      - zendesk_webhook: { zendesk: global, webhook: W, auth: basic_auth, username: u }
      - gitlab_webhook: { gitlab: gitlab.com, group: a, url: https://x.example/h, header: X }
      - manual: { instructions: do it }
  - id: sec
    generated_secret: { length: 32, alphabet: hex }
";

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "(?s).{0,400}") {
        let tmp = stage_case(&corpus_dir().join("missing-kind"));
        load_text(tmp.path(), &text);
    }

    #[test]
    fn yaml_like_text_never_panics(
        text in proptest::collection::vec(
            prop_oneof![
                Just("tokens:\n".to_string()), Just("  - id: x\n".to_string()),
                Just("    generated_secret: { length: 9 }\n".to_string()),
                Just("    rotation: { lifetime: 1d }\n".to_string()), Just("    consumers:\n".to_string()),
                Just("      - manual: { instructions: a }\n".to_string()),
                Just("      - gitlab_ci_variable: { gitlab: gitlab.com, project: p, key: K, masked: true }\n".to_string()),
                Just("&a [*a]\n".to_string()), Just("<<: *b\n".to_string()), Just("- !!binary x\n".to_string()),
                "[ -~]{0,30}\n",
            ],
            0..20,
        )
    ) {
        let tmp = stage_case(&corpus_dir().join("missing-kind"));
        load_text(tmp.path(), &text.concat());
    }

    #[test]
    fn mutated_manifest_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..8)
    ) {
        let mut bytes: Vec<char> = SEED.chars().collect();
        for (at, op, c) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match op {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, c),
                2 => bytes[i] = c,
                _ => { let j = at.index(bytes.len().min(i + 20).max(1)); bytes.swap(i, j); }
            }
        }
        let tmp = stage_case(&corpus_dir().join("missing-kind"));
        load_text(tmp.path(), &bytes.into_iter().collect::<String>());
    }
}

#[test]
fn zendesk_sign_ins_a_deadline_ends_are_warned_about_with_what_to_use_instead() {
    let tmp = tempfile::tempdir().unwrap();
    write_file(
        tmp.path(),
        "tokenops.yaml",
        "version: 1\nzendesk:\n  - name: global\n    url: https://example.zendesk.com\n    \
         oauth_token_env: ZD_TOKEN\n  - name: legacy\n    url: https://legacy.zendesk.com\n    \
         email_env: ZD_EMAIL\n    api_token_env: ZD_API_TOKEN\n  - name: signed\n    url: \
         https://signed.zendesk.com\n    client_id_env: ZD_CLIENT_ID\n    client_secret_env: \
         ZD_CLIENT_SECRET\n",
    );
    write_file(
        tmp.path(),
        "manifests/a.yaml",
        "tokens:\n  - id: tokenops-zendesk\n    zendesk_oauth_client_secret: { zendesk: signed, \
         client: tokenops }\n    consumers:\n      - tokenops_credential: { zendesk: signed }\n",
    );
    let output = plain_command(tmp.path()).arg("validate").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "warnings do not fail validate"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("ok: 1 tokens"), "{stdout}");
    assert!(
        lines[1].starts_with("tokenops.yaml:5:22: warning: Zendesk instance `global` signs in with a static OAuth access token (ZD_TOKEN), which lapses"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("`client_id_env` and `client_secret_env`"),
        "{stdout}"
    );
    assert!(lines[2].contains("tokenops_credential"), "{stdout}");
    assert!(
        lines[3].starts_with("tokenops.yaml:9:20: warning: Zendesk instance `legacy` signs in with a legacy API token"),
        "{stdout}"
    );
    assert!(lines[3].contains("2027-04-30"), "{stdout}");
    assert!(
        !stdout.contains("`signed`"),
        "no warning for the client sign-in: {stdout}"
    );
    assert_eq!(lines.len(), 5, "{stdout}");
}
