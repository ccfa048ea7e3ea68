//! Teams that build tokenops from source compile it once per version, not once per job: the
//! template's jobs restore the binary from the cache keyed by `TOKENOPS_VERSION`, and only a
//! job that finds no binary runs `cargo install` (here a stand-in that counts its calls and
//! installs the binary under test).

use std::path::Path;

use secrecy::SecretString;

use super::{Pipeline, Project, Runner};

/// A `cargo` that records its arguments and installs the tokenops binary under `--root`.
fn fake_cargo(dir: &Path, calls: &Path) {
    let bin = assert_cmd::cargo::cargo_bin("tokenops");
    let script = format!(
        "#!/bin/bash\nset -e\necho \"$*\" >> '{calls}'\nroot=''\nwhile [ $# -gt 0 ]; do\n  \
         if [ \"$1\" = --root ]; then root=\"$2\"; fi\n  shift\ndone\n\
         mkdir -p \"$root/bin\"\ncp '{bin}' \"$root/bin/tokenops\"\n",
        calls = calls.display(),
        bin = bin.display()
    );
    let path = dir.join("cargo");
    std::fs::write(&path, script).expect("fake cargo");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn calls(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_source_build_compiles_once_per_version_and_jobs_reuse_it() {
    let manifests = vec![(
        "gitlab.yaml".to_string(),
        crate::scenario::GITLAB_MANIFEST.to_string(),
    )];
    let config = "version: 1\ngitlab:\n  - { name: gitlab.com, url: https://gitlab.com, \
                  token_env: GITLAB_TOKEN, read_token_env: GITLAB_READ_TOKEN }\n\
                  state: { backend: gitlab }\n";
    let mut project = Project::new(config, &manifests);
    project.set_template_credentials(&[]);
    let source = "https://gitlab.example.com/support/ops/tokenops.git";
    project.set("TOKENOPS_SOURCE", SecretString::from(source), false);
    let tools = tempfile::tempdir().expect("tools");
    let log = tools.path().join("calls.txt");
    fake_cargo(tools.path(), &log);
    let cache = tempfile::tempdir().expect("cache");
    let runner = Runner {
        rust_image: Some(tools.path().to_path_buf()),
        cache: Some(cache.path().to_path_buf()),
    };

    project
        .run_in(Pipeline::MergeRequest, "tokenops:validate", &runner)
        .assert_passed("the first job builds");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        calls(&log),
        vec![format!(
            "install --locked --git {source} --tag {version} --root .tokenops-bin tokenops"
        )]
    );
    assert!(
        cache
            .path()
            .join(format!("tokenops-bin-{version}/.tokenops-bin/bin/tokenops"))
            .exists(),
        "the binary is cached under the version's key"
    );
    let plan = project.run_in(Pipeline::MergeRequest, "tokenops:plan", &runner);
    plan.assert_passed("a later job");
    assert!(plan.log.contains("tokenops 0.1.0"), "{}", plan.log);
    assert_eq!(calls(&log).len(), 1, "the later job restored the binary");

    // Another version is another key: compiled once more.
    project.set("TOKENOPS_VERSION", SecretString::from("v9.9.9"), false);
    project
        .run_in(Pipeline::MergeRequest, "tokenops:validate", &runner)
        .assert_passed("a new version");
    assert_eq!(calls(&log).len(), 2, "{:?}", calls(&log));
    assert!(calls(&log)[1].contains("--tag v9.9.9"));
}
