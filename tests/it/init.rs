//! `tokenops init`: a starting project that validates, its JSON Schemas current, the age
//! identity printed once (and a leak anywhere else), the CI/CD variables listed with their
//! protection, questions on a terminal, a usage error without flags or terminal, and never
//! an overwritten file.

use std::str::FromStr;

use crate::scenario::Scenario;

const FLAGS: [&str; 10] = [
    "--gitlab",
    "https://gitlab.com",
    "--gitlab-user",
    "tokenops-admin",
    "--project",
    "support/ops/tokenops",
    "--zendesk",
    "global=https://example.zendesk.com",
    "--zendesk",
    "us-government=https://example-federal.zendesk.com",
];

fn init_args(dir: &str) -> Vec<&str> {
    let mut args = vec!["init", "--dir", dir];
    args.extend(FLAGS);
    args
}

fn identity_in(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("AGE-SECRET-KEY-1"))
        .expect("the identity is printed")
        .to_string()
}

#[test]
fn init_writes_a_project_that_validates_and_prints_the_identity_once() {
    let sc = Scenario::demo().start();
    let out = sc.cmd(&init_args("fresh")).expect(0);
    assert!(
        out.stdout.contains(
            "Store this as the masked, protected CI/CD variable TOKENOPS_ESCROW_IDENTITY"
        ),
        "{}",
        out.stdout
    );
    for line in [
        "TOKENOPS_ROTATE_TOKEN      protected, masked",
        "TOKENOPS_READ_TOKEN        not protected, masked",
        "TOKENOPS_NOTE_TOKEN        not protected, masked",
        "ZENDESK_GLOBAL_CLIENT_ID   not protected, masked",
        "ZENDESK_GLOBAL_CLIENT_SECRET protected, masked",
        "ZENDESK_GLOBAL_READ_TOKEN  not protected, masked",
        "ZENDESK_US_GOVERNMENT_CLIENT_SECRET protected, masked",
        "TOKENOPS_ESCROW_IDENTITY   protected, masked and hidden",
    ] {
        assert!(out.stdout.contains(line), "no `{line}` in:\n{}", out.stdout);
    }

    // Only the recipient is written, and it is the identity's.
    let config = sc.read("fresh/tokenops.yaml");
    let identity = age::x25519::Identity::from_str(&identity_in(&out.stdout)).expect("identity");
    let recipient = identity.to_public().to_string();
    assert!(
        config.contains(&format!("recipient: {recipient}")),
        "{config}"
    );
    let manifest = sc.read("fresh/manifests/tokenops.yaml");
    assert!(manifest.contains("tokenops_credential: { gitlab: \"gitlab.com\" }"));
    assert!(manifest.contains("key: TOKENOPS_ROTATE_TOKEN"));
    assert!(manifest.contains("key: ZENDESK_US_GOVERNMENT_READ_TOKEN"));
    // tokenops's own Zendesk credential is the OAuth client's secret, kept alive like the
    // GitLab one; the config signs in with that client, not with a static token.
    assert!(manifest.contains("tokenops_credential: { zendesk: \"us-government\" }"));
    assert!(manifest.contains("key: ZENDESK_US_GOVERNMENT_CLIENT_SECRET"));
    assert!(config.contains("client_secret_env: ZENDESK_US_GOVERNMENT_CLIENT_SECRET"));
    assert!(
        !config
            .lines()
            .any(|l| l.trim_start().starts_with("oauth_token_env")),
        "{config}"
    );

    let valid = sc.run(
        &[
            "validate",
            "--config",
            "fresh/tokenops.yaml",
            "--manifests",
            "fresh/manifests",
        ],
        0,
    );
    assert!(!valid.stdout.contains("error"), "{}", valid.stdout);
    // No sign-in that a Zendesk deadline ends.
    assert!(
        !format!("{}{}", valid.stdout, valid.stderr).contains("warning"),
        "{}{}",
        valid.stdout,
        valid.stderr
    );
    sc.run(&["schema", "--check", "--dir", "fresh/schemas"], 0);
    for (file, schema) in [
        ("fresh/tokenops.yaml", "fresh/schemas/tokenops.schema.json"),
        (
            "fresh/manifests/tokenops.yaml",
            "fresh/schemas/manifest.schema.json",
        ),
    ] {
        let text = sc.read(file);
        let target = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# yaml-language-server: $schema="))
            .unwrap_or_else(|| panic!("{file} names no schema"));
        let resolved = sc.path().join(file).parent().unwrap().join(target);
        assert_eq!(
            std::fs::canonicalize(resolved).expect("schema exists"),
            std::fs::canonicalize(sc.path().join(schema)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn the_identity_init_printed_is_a_leak_in_any_other_output() {
    let sc = Scenario::demo().start();
    let out = sc.cmd(&init_args("fresh")).expect(0);
    let identity = identity_in(&out.stdout);
    let leaked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sc.assert_no_secret_in("a later output", &format!("key: {identity}\n"));
    }));
    assert!(leaked.is_err(), "the leak check knows the printed identity");
    let twice = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sc.printed_once(
            "an init that prints it twice",
            &format!("{identity}\n{identity}\n"),
        );
    }));
    assert!(twice.is_err(), "an identity printed twice is refused");
}

#[test]
fn init_refuses_before_writing_anything_when_a_target_exists() {
    let sc = Scenario::demo().start();
    sc.write("fresh/manifests/tokenops.yaml", "tokens: []\n");
    let out = sc.cmd(&init_args("fresh")).expect(1);
    assert!(
        out.stderr.contains(
            "fresh/manifests/tokenops.yaml already exists; tokenops init never overwrites"
        ),
        "{}",
        out.stderr
    );
    assert!(!sc.path().join("fresh/tokenops.yaml").exists());
    assert!(!sc.path().join("fresh/schemas").exists());
    assert_eq!(sc.read("fresh/manifests/tokenops.yaml"), "tokens: []\n");
    assert!(
        !out.stdout.contains("AGE-SECRET-KEY"),
        "no key pair was made public"
    );
}

#[test]
fn init_without_flags_or_a_terminal_is_a_usage_error_naming_the_flags() {
    let sc = Scenario::demo().start();
    let out = sc.cmd(&["init", "--dir", "fresh"]).stdin("").expect(1);
    for flag in [
        "--gitlab URL",
        "--gitlab-user USER",
        "--project PATH",
        "--zendesk NAME=URL",
    ] {
        assert!(out.stderr.contains(flag), "{flag}: {}", out.stderr);
    }
    assert!(!sc.path().join("fresh").exists());
    let partial = sc
        .cmd(&["init", "--dir", "fresh", "--gitlab", "https://gitlab.com"])
        .expect(1);
    assert!(
        partial.stderr.contains("--gitlab-user"),
        "{}",
        partial.stderr
    );
}

#[test]
fn init_refuses_an_unusable_answer_naming_the_flag() {
    let sc = Scenario::demo().start();
    let mut args = init_args("fresh");
    args[8] = "tokenops";
    let out = sc.cmd(&args).expect(1);
    assert!(
        out.stderr.contains("--project `tokenops`"),
        "{}",
        out.stderr
    );
    assert!(!sc.path().join("fresh").exists());
}

#[test]
fn the_questions_on_a_terminal_give_the_same_setup_as_the_flags() {
    let answers = "\ntokenops-admin\nsupport/ops/tokenops\nglobal=https://example.zendesk.com\n\n";
    let mut input = std::io::Cursor::new(answers.as_bytes());
    let mut prompts = Vec::new();
    let (gitlab, zendesk) =
        tokenops::cli::init::ask(&mut input, &mut prompts).expect("answers are enough");
    assert_eq!(gitlab.name, "gitlab.com");
    assert_eq!(gitlab.url, "https://gitlab.com");
    assert_eq!(gitlab.user, "tokenops-admin");
    assert_eq!(gitlab.project, "support/ops/tokenops");
    assert_eq!(zendesk.len(), 1);
    assert_eq!(zendesk[0].name, "global");
    let prompts = String::from_utf8(prompts).unwrap();
    assert!(
        prompts.contains("GitLab URL [https://gitlab.com]: "),
        "{prompts}"
    );
    let mut short = std::io::Cursor::new(b"https://gitlab.com\n".as_slice());
    let err = tokenops::cli::init::ask(&mut short, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("nothing was written"), "{err}");
}

#[test]
fn a_project_from_init_plans_against_the_sandbox() {
    let sc = Scenario::demo().start();
    let mut args = vec!["init", "--dir", "fresh"];
    args.extend(&FLAGS[..6]);
    sc.cmd(&args).expect(0);
    let plan = sc.run(
        &[
            "plan",
            "--config",
            "fresh/tokenops.yaml",
            "--manifests",
            "fresh/manifests",
        ],
        0,
    );
    assert!(
        plan.stdout.contains("tokenops-rotate-token"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("tokenops-read-token"),
        "{}",
        plan.stdout
    );
}
