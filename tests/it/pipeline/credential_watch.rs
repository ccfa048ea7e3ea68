//! The merge-request plan job watches the credentials it signs in with, as the template sets
//! them: the read token (`GITLAB_READ_TOKEN` from `TOKENOPS_READ_TOKEN`) and the note token
//! (`TOKENOPS_NOTE_TOKEN`). Both expiring within the check window and declared nowhere, the
//! plan document lists both and the merge-request note warns, naming the CI/CD variables.

use super::{Pipeline, Project};

const CONFIG: &str = "version: 1
gitlab:
  - name: gitlab.com
    url: https://gitlab.com
    token_env: GITLAB_TOKEN
    read_token_env: GITLAB_READ_TOKEN
state:
  backend: gitlab
escrow:
  recipient: age1-replaced
  identity_env: TOKENOPS_ESCROW_IDENTITY
";

#[test]
fn the_plan_job_warns_about_its_expiring_read_and_note_tokens_by_their_ci_variables() {
    let manifests = vec![(
        "gitlab.yaml".to_string(),
        crate::scenario::GITLAB_MANIFEST.to_string(),
    )];
    let mut project = Project::new(CONFIG, &manifests);
    project.set_template_credentials(&[]);
    let soon = jiff::civil::date(2026, 12, 3);
    for name in ["TOKENOPS_READ_TOKEN", "TOKENOPS_NOTE_TOKEN"] {
        let value = project.variable(name);
        project.sandbox.with_state(|w| {
            let gl = w.gitlab.get_mut("gitlab.com").expect("gitlab.com");
            let id = gl.token_by_value(&value).expect("issued token").id;
            gl.tokens.get_mut(&id).expect("token").expires_at = Some(soon);
        });
    }
    let plan = project.run(Pipeline::MergeRequest, "tokenops:plan");
    plan.assert_passed("MR plan");
    let doc: serde_json::Value =
        serde_json::from_str(&plan.artifact("plan.json")).expect("plan.json");
    let listed: Vec<(String, String)> = doc["credentials"]
        .as_array()
        .expect("a credentials list")
        .iter()
        .map(|c| {
            (
                c["env_var"].as_str().unwrap_or_default().to_string(),
                c["ci_variable"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                "GITLAB_READ_TOKEN".to_string(),
                "TOKENOPS_READ_TOKEN".to_string()
            ),
            ("TOKENOPS_NOTE_TOKEN".to_string(), String::new()),
        ]
    );
    let note = project.sandbox.with_state(|w| {
        w.gitlab["gitlab.com"]
            .notes
            .values()
            .map(|n| n.body.clone())
            .collect::<Vec<_>>()
            .join("\n")
    });
    assert!(
        note.contains(
            "**Warning**: GITLAB\\_READ\\_TOKEN (from the CI/CD variable TOKENOPS\\_READ\\_TOKEN)"
        ),
        "{note}"
    );
    assert!(note.contains("TOKENOPS\\_NOTE\\_TOKEN"), "{note}");
}
