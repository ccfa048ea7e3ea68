//! The template's real home, end to end: a merge-request pipeline on a project whose
//! Terraform state was never written (validate, then plan with read-only credentials only:
//! the note and the widget report are written), then the default-branch pipeline (apply
//! converges and writes the ledger into the project's state through the job token), then a
//! later merge-request pipeline in fresh directories that finds nothing to do: generated
//! secrets `ok`, write-only consumers `in-sync`. Once for a GitLab-only estate, once for the
//! shipped example estate with its Zendesk instances.

use serde_json::Value;

use super::{Job, Pipeline, Project, shipped_manifests};

/// A GitLab-only estate whose config names nothing but the backend: in a pipeline the
/// state is the running project's, found from the predefined variables.
const GITLAB_CONFIG: &str = "version: 1
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

fn plan_doc(job: &Job) -> Value {
    serde_json::from_str(&job.artifact("plan.json")).expect("plan.json is JSON")
}

/// Counts of what apply would do, from a plan document.
fn pending(plan: &Value) -> u64 {
    let s = &plan["summary"];
    ["rotations", "recreations", "writes", "revocations"]
        .iter()
        .map(|k| s[k].as_u64().unwrap_or(0))
        .sum()
}

/// Requests other than GET the sandbox saw since `from`, as "METHOD route" (status).
fn writes_since(project: &Project, from: usize) -> Vec<String> {
    project.sandbox.requests().entries[from..]
        .iter()
        .filter(|e| e.method != "GET")
        .map(|e| format!("{} {} ({})", e.instance, e.route, e.status))
        .collect()
}

/// Every consumer of a plan document, with its token's id.
fn consumers(plan: &Value) -> impl Iterator<Item = (String, &Value)> {
    plan["tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            let id = t["id"].as_str().unwrap_or_default().to_string();
            t["consumers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (id.clone(), c))
        })
}

fn play(project: &Project, zendesk: bool) {
    // 1. The merge request: the state was never written.
    assert_eq!(project.state(), (String::new(), false), "a fresh project");
    let mark = project.sandbox.requests().entries.len();
    project
        .run(Pipeline::MergeRequest, "tokenops:validate")
        .assert_passed("MR validate");
    let plan = project.run(Pipeline::MergeRequest, "tokenops:plan");
    plan.assert_passed("MR plan on a fresh project");
    let log = project.sandbox.requests();
    assert!(
        log.entries[mark..]
            .iter()
            .any(|e| e.route.contains("terraform/state") && e.status == 404),
        "the ledger was read from a never-written state (404)"
    );
    let writes = writes_since(project, mark);
    assert!(
        writes.iter().all(|w| w.contains("/notes")),
        "the MR pipeline writes nothing but its note: {writes:?}"
    );
    if zendesk {
        assert!(
            log.entries[mark..]
                .iter()
                .any(|e| e.instance.starts_with("zendesk/") && e.status == 200),
            "the plan read Zendesk"
        );
    }
    let first = plan_doc(&plan);
    assert!(
        pending(&first) > 0,
        "the demo estate has work to do: {first}"
    );
    let widget: Value =
        serde_json::from_str(&plan.artifact("tokenops-widget.json")).expect("widget JSON");
    assert!(
        widget["create"].is_u64() && widget["update"].is_u64(),
        "{widget}"
    );
    let note = project.sandbox.with_state(|w| {
        let gl = &w.gitlab["gitlab.com"];
        gl.notes
            .values()
            .filter(|n| n.noteable_type == "MergeRequest" && n.noteable_iid == 1)
            .map(|n| n.body.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(note.len(), 1, "one sticky plan note");
    project.assert_no_secret_in("the MR note", &note[0]);
    assert_eq!(project.state().0, "", "plan writes no ledger");

    // 2. The merge: the default-branch pipeline applies.
    project
        .run(Pipeline::DefaultBranch, "tokenops:validate")
        .assert_passed("default-branch validate");
    let apply = project.run(Pipeline::DefaultBranch, "tokenops:apply");
    apply.assert_passed("apply on the default branch");
    let summary = apply.artifact("apply-summary.txt");
    assert!(
        summary.contains("\nSummary: ") && !summary.contains(" failed"),
        "{summary}"
    );
    let (ledger, locked) = project.state();
    assert!(!locked, "apply released the state's lock");
    let ledger: Value = serde_json::from_str(&ledger).expect("the ledger is in the state");
    assert!(ledger["serial"].as_u64().unwrap_or(0) > 0, "{ledger}");
    assert!(
        ledger["tokens"]["bridge-hook-secret"]["fingerprint"].is_string(),
        "the generated secret's fingerprint is kept: {ledger}"
    );

    // 3. A later merge request, in fresh directories: nothing to do, and everything apply
    // wrote is known from the ledger it finds in the state.
    let again = project.run(Pipeline::MergeRequest, "tokenops:plan");
    again.assert_passed("the later MR plan");
    let doc = plan_doc(&again);
    assert_eq!(pending(&doc), 0, "no changes after apply:\n{}", again.log);
    let written: Vec<(String, String)> = consumers(&first)
        .filter(|(_, c)| c["write"] == true)
        .map(|(id, c)| (id, c["key"].as_str().unwrap_or_default().to_string()))
        .collect();
    let mut write_only = 0;
    for (id, consumer) in consumers(&doc) {
        let status = consumer["status"].as_str().unwrap_or_default();
        let key = consumer["key"].as_str().unwrap_or_default().to_string();
        let label = consumer["label"].as_str().unwrap_or_default();
        let kind = consumer["kind"].as_str().unwrap_or_default();
        if written.contains(&(id.clone(), key)) {
            assert_eq!(status, "in-sync", "{id}: {label}, written by apply");
            let secret = kind.ends_with("webhook")
                || kind == "zendesk_app_setting"
                || label.contains("hidden");
            write_only += usize::from(secret);
        } else {
            // Not written by tokenops: in sync, a step for a person, or (write-only and never
            // written by tokenops) not verifiable, exactly as before apply.
            assert!(
                ["in-sync", "manual", "unverifiable"].contains(&status),
                "{id}: {label}: {status}"
            );
        }
    }
    assert!(
        write_only >= 2,
        "write-only consumers apply wrote: {write_only}"
    );
    for token in doc["tokens"].as_array().expect("tokens") {
        let status = token["status"].as_str().unwrap_or_default();
        assert!(
            ["ok", "legacy"].contains(&status),
            "{}: {status}",
            token["id"]
        );
    }
    let generated: Vec<&Value> = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "generated_secret")
        .collect();
    assert!(!generated.is_empty());
    assert!(
        generated.iter().all(|t| t["status"] == "ok"),
        "{generated:?}"
    );
}

#[test]
fn a_gitlab_estate_plans_in_the_merge_request_and_converges_on_the_default_branch() {
    let manifests = vec![(
        "gitlab.yaml".to_string(),
        crate::scenario::GITLAB_MANIFEST.to_string(),
    )];
    let mut project = Project::new(GITLAB_CONFIG, &manifests);
    project.set_template_credentials(&[]);
    play(&project, false);
}

#[test]
fn the_shipped_estate_with_zendesk_plans_with_read_credentials_and_converges() {
    let config = std::fs::read_to_string(crate::scenario::repo_root().join("tokenops.yaml"))
        .expect("the shipped tokenops.yaml");
    let mut project = Project::new(&config, &shipped_manifests());
    project.set_template_credentials(&[
        ("global", "ZENDESK_GLOBAL"),
        ("us-government", "ZENDESK_USGOV"),
    ]);
    // The client-credentials grant of the US Government escalations token needs its
    // client's secret in apply: a protected variable.
    let secret = project.sandbox.with_state(|w| {
        w.zendesk["us-government"]
            .clients
            .values()
            .find(|c| c.identifier == "tokenops_escalations")
            .map(|c| c.secret.reveal().to_string())
            .expect("client")
    });
    project.set(
        &tokenops::kinds::zendesk::secret_env("us-government", "tokenops_escalations"),
        secret.into(),
        true,
    );
    play(&project, true);
    // Zendesk saw no write from the merge-request jobs: every write came from apply, with the
    // admin credentials (the read-scoped tokens would have been refused with 403).
    let refused: Vec<String> = project
        .sandbox
        .requests()
        .entries
        .iter()
        .filter(|e| e.status == 403)
        .map(|e| format!("{} {} {}", e.instance, e.method, e.route))
        .collect();
    assert!(refused.is_empty(), "no call was refused: {refused:?}");

    // The bootstrap's last step: a person runs the replace job once for tokenops's own Zendesk
    // client secrets, made by hand and of an age Zendesk does not keep. Each apply signs in
    // with the client's secret, generates the new one last, writes it to the CI/CD variable,
    // and the next pipeline signs in with what the job wrote.
    let secrets = [
        "ZENDESK_GLOBAL_CLIENT_SECRET",
        "ZENDESK_USGOV_CLIENT_SECRET",
    ];
    let before: Vec<String> = secrets.iter().map(|k| project.variable(k)).collect();
    project.set_plain("TOKENOPS_JOB", "replace");
    project.set_plain(
        "TOKENOPS_REPLACE",
        "tokenops-zendesk-global tokenops-zendesk-usgov",
    );
    let replaced = project.run(Pipeline::Web, "tokenops:replace");
    replaced.assert_passed("the replace job");
    let summary = replaced.artifact("apply-summary.txt");
    for id in ["tokenops-zendesk-global", "tokenops-zendesk-usgov"] {
        assert!(
            summary.contains(&format!("done     {id}: new client secret generated")),
            "{summary}"
        );
    }
    for (key, old) in secrets.iter().zip(&before) {
        project.read_back(key);
        assert_ne!(&project.variable(key), old, "{key} holds the new secret");
    }
    project.set_plain("TOKENOPS_JOB", "");
    project.set_plain("TOKENOPS_REPLACE", "");
    let next = project.run(Pipeline::DefaultBranch, "tokenops:apply");
    next.assert_passed("the next apply, signed in with the secrets the replace job wrote");
    let plan = project.run(Pipeline::MergeRequest, "tokenops:plan");
    plan.assert_passed("a plan after the replace");
    let doc = plan_doc(&plan);
    for token in doc["tokens"].as_array().expect("tokens") {
        if ["tokenops-zendesk-global", "tokenops-zendesk-usgov"]
            .contains(&token["id"].as_str().unwrap_or_default())
        {
            assert_eq!(token["status"], "ok", "{token}");
            assert!(
                token["consumers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["kind"] == "gitlab_ci_variable")
                    .all(|c| c["status"] == "in-sync"),
                "the variable is proven now: {token}"
            );
        }
    }
}
