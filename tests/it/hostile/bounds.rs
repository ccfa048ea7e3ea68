//! Bounded work and output: a 9.9 MiB list of numbers, a flood of bad tokens, a 1 MB key and a
//! symbolic link to `/` each end in a short report, quickly, in little memory.

use std::time::Duration;

use super::{ONE_TOKEN, config, project, run};

/// A manifest of `tokens: [1,1,…]` just under the 10 MiB file limit.
pub fn numbers_manifest() -> String {
    let n = (9_900_000 - 12) / 2;
    let mut text = String::with_capacity(9_900_000);
    text.push_str("tokens: [");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push('1');
    }
    text.push_str("]\n");
    text
}

#[test]
fn a_ten_megabyte_list_of_numbers_gives_a_short_report() {
    let dir = project(&config("https://gitlab.com", ""), &numbers_manifest());
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(
        out.stdout.len() < 10_000,
        "{} bytes of output",
        out.stdout.len()
    );
    assert!(
        out.stdout.contains("more than 1000000 values"),
        "{}",
        out.stdout
    );
    assert!(out.elapsed < Duration::from_secs(60), "{:?}", out.elapsed);
}

#[test]
fn a_flood_of_bad_tokens_is_capped_and_counted() {
    let items = vec!["1"; 200_000].join(",");
    let dir = project(
        &config("https://gitlab.com", ""),
        &format!("tokens: [{items}]\n"),
    );
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    let errors = out.stdout.matches(": error: ").count();
    assert_eq!(
        errors,
        tokenops::diag::MAX_DIAGNOSTICS,
        "{}",
        &out.stdout[..500]
    );
    assert!(
        out.stdout.contains("… and 199500 more problems not shown"),
        "{}",
        out.stdout
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(out.stdout.ends_with("200000 problems in 1 file\n"));
    assert!(out.stdout.len() < 200_000, "{} bytes", out.stdout.len());
}

#[test]
fn a_one_megabyte_key_is_not_echoed_whole() {
    let key = "K".repeat(1_000_000);
    let manifest = ONE_TOKEN.replace("key: BOT_TOKEN", &format!("key: \"{key}\""));
    let dir = project(&config("https://gitlab.com", ""), &manifest);
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(
        out.stdout.contains("1000000 characters in all"),
        "{}",
        &out.stdout[..300.min(out.stdout.len())]
    );
    assert!(
        out.stdout.len() < 5_000,
        "{} bytes of output",
        out.stdout.len()
    );
}

#[test]
fn a_symbolic_link_out_of_the_repository_is_not_followed() {
    let dir = project(&config("https://gitlab.com", ""), ONE_TOKEN);
    std::os::unix::fs::symlink("/", dir.path().join("manifests/root")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.yaml"), "tokens: []\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("x.yaml"),
        dir.path().join("manifests/x.yaml"),
    )
    .unwrap();
    // A link that stays inside is followed.
    std::fs::create_dir_all(dir.path().join("shared")).unwrap();
    std::fs::write(dir.path().join("shared/more.yaml"), "tokens: []\n").unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("shared"),
        dir.path().join("manifests/shared"),
    )
    .unwrap();
    let out = run(dir.path(), &["validate"], &[]);
    out.assert_refused(&[]);
    assert!(
        out.stdout
            .contains("manifests/root:1:1: error: symbolic link to / leaves the repository"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("manifests/x.yaml:1:1: error: symbolic link"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("2 problems in 2 files\n"),
        "{}",
        out.stdout
    );
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
}
