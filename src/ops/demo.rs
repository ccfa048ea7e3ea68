//! `tokenops demo`: the whole job with no credentials. Starts the built-in sandbox in-process,
//! seeded with the live counterpart of the example manifests, and runs plan, apply, plan again,
//! apply --replace (the tokens whose consumers cannot be proven), plan and check against it,
//! with a heading before each step.

use std::io::Write;
use std::path::Path;

use jiff::Timestamp;
use secrecy::SecretString;

use super::Outcome;
use super::apply::{ApplyOptions, escrow::generate_identity};
use super::check::CheckOptions;
use super::plan::PlanOptions;
use crate::clients::{Clients, RunContext};
use crate::gitlab::GitLabClient;
use crate::http::{ClientSettings, InstanceAccess};
use crate::ledger::LedgerSource;
use crate::manifest::LoadOptions;
use crate::plan::render::Format;
use crate::sandbox::{Sandbox, SandboxHandle, SandboxOptions, Seed};
use crate::zendesk::ZendeskClient;

/// The example configuration and manifests, built into the binary so the demo runs anywhere.
pub const EXAMPLE_FILES: [(&str, &str); 13] = [
    ("tokenops.yaml", include_str!("../../tokenops.yaml")),
    (
        "manifests/tokenops.yaml",
        include_str!("../../manifests/tokenops.yaml"),
    ),
    (
        "manifests/gitlab/deploy.yaml",
        include_str!("../../manifests/gitlab/deploy.yaml"),
    ),
    (
        "manifests/gitlab/groups.yaml",
        include_str!("../../manifests/gitlab/groups.yaml"),
    ),
    (
        "manifests/gitlab/personal.yaml",
        include_str!("../../manifests/gitlab/personal.yaml"),
    ),
    (
        "manifests/gitlab/projects.yaml",
        include_str!("../../manifests/gitlab/projects.yaml"),
    ),
    (
        "manifests/gitlab/service-accounts.yaml",
        include_str!("../../manifests/gitlab/service-accounts.yaml"),
    ),
    (
        "manifests/gitlab/triggers.yaml",
        include_str!("../../manifests/gitlab/triggers.yaml"),
    ),
    (
        "manifests/shared/webhook-secrets.yaml",
        include_str!("../../manifests/shared/webhook-secrets.yaml"),
    ),
    (
        "manifests/zendesk/legacy.yaml",
        include_str!("../../manifests/zendesk/legacy.yaml"),
    ),
    (
        "manifests/zendesk/oauth.yaml",
        include_str!("../../manifests/zendesk/oauth.yaml"),
    ),
    ("scripts/vault-put", include_str!("../../scripts/vault-put")),
    (
        "scripts/vault-check",
        include_str!("../../scripts/vault-check"),
    ),
];

/// The environment of the example's `command` consumers in the demo: the vault scripts'
/// stand-in directory, and the usual system directories for the tools they use.
fn demo_commands(dir: &Path) -> crate::clients::CommandEnv {
    let standin = dir.join(".vault").display().to_string();
    crate::clients::CommandEnv::new(
        move |name| match name {
            "TOKENOPS_VAULT_STANDIN" => Some(standin.clone()),
            "PATH" => Some("/usr/local/bin:/usr/bin:/bin".to_string()),
            _ => None,
        },
        Some(dir.to_path_buf()),
    )
}

/// What the demo needs from the edge.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The sandbox clock's start.
    pub now: Timestamp,
    /// Colour in text output.
    pub color: bool,
    /// Where discovery and apply report progress.
    pub progress: crate::progress::Progress,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The sandbox did not start.
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// Writing the example files failed.
    #[error("cannot prepare the demo directory: {0}")]
    Io(#[from] std::io::Error),
    /// A step failed.
    #[error("the demo's {step} step failed: {reason}")]
    Step {
        /// Which step.
        step: &'static str,
        /// Why.
        reason: String,
    },
}

fn step_err(step: &'static str) -> impl Fn(String) -> DemoError {
    move |reason| DemoError::Step { step, reason }
}

/// Runs the demo in `dir` (an empty directory the caller removes afterwards).
pub async fn run(
    options: &DemoOptions,
    dir: &Path,
    stdout: &mut dyn Write,
) -> Result<Outcome, DemoError> {
    let sandbox = Sandbox::start(Seed::default_demo(), SandboxOptions::at(options.now)).await?;
    let result = run_against(options, dir, &sandbox, stdout).await;
    sandbox.shutdown().await;
    result
}

async fn run_against(
    options: &DemoOptions,
    dir: &Path,
    sandbox: &SandboxHandle,
    stdout: &mut dyn Write,
) -> Result<Outcome, DemoError> {
    // A fresh escrow key for this run: the shipped recipient's secret key exists nowhere.
    let (identity, recipient) = generate_identity();
    for (path, text) in EXAMPLE_FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = if path == "tokenops.yaml" {
            with_recipient(text, &recipient)
        } else {
            text.to_string()
        };
        std::fs::write(&target, text)?;
        if path.starts_with("scripts/") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    let load = LoadOptions {
        config: dir.join("tokenops.yaml"),
        manifests: dir.join("manifests"),
    };
    let desired = crate::manifest::load(&load).map_err(|d| DemoError::Step {
        step: "load",
        reason: d.to_string(),
    })?;
    let ctx = RunContext {
        now: options.now,
        clients: Clients {
            progress: options.progress.clone(),
            // The vault scripts keep only a digest in the demo directory: no 1Password.
            commands: demo_commands(dir),
            ..sandbox_clients(&desired.config, sandbox).map_err(step_err("connect"))?
        },
    };
    own_credential_due(sandbox, options.now);
    let ledger = LedgerSource::Local(dir.join(".tokenops/state.json"));
    let plan_options = PlanOptions {
        ledger: ledger.clone(),
        format: Format::Text,
        out: None,
        detailed_exitcode: false,
        color: options.color,
        comment: None,
        widget_report: None,
        selection: Default::default(),
    };

    heading(
        stdout,
        "1/6",
        "tokenops plan: what is due, expired, stale or legacy in the sandbox",
    )?;
    crate::ops::plan::run(&plan_options, &desired, &ctx, stdout)
        .await
        .map_err(|e| step_err("first plan")(e.to_string()))?;

    heading(
        stdout,
        "2/6",
        "tokenops apply: rotate, write every consumer, verify, finish",
    )?;
    let apply_options = ApplyOptions {
        config: load.config.clone(),
        ledger: ledger.clone(),
        plan_file: None,
        lock_timeout: std::time::Duration::ZERO,
        parallel: 8,
        escrow_identity: Some(identity),
        crash_at: None,
        holder: "tokenops demo".to_string(),
        provide: None,
        zendesk_client_secrets: sandbox_client_secrets(sandbox),
        selection: Default::default(),
        summary_format: Default::default(),
    };
    let (_, report) = crate::ops::apply::run(&apply_options, &desired, &ctx, stdout)
        .await
        .map_err(|e| step_err("apply")(e.to_string()))?;

    heading(stdout, "3/6", "tokenops plan again: what apply left to do")?;
    crate::ops::plan::run(&plan_options, &desired, &ctx, stdout)
        .await
        .map_err(|e| step_err("second plan")(e.to_string()))?;

    // The tokens whose consumers tokenops cannot prove get a value made now (`--replace`).
    let unproven = unverifiable_tokens(&desired, &ledger, &ctx).await?;
    let flags: Vec<String> = unproven
        .iter()
        .map(|id| format!("--replace {id}"))
        .collect();
    heading(
        stdout,
        "4/6",
        &format!(
            "tokenops apply {}: a new value for every token with unverifiable consumers, so \
             that each consumer can be proven",
            flags.join(" ")
        ),
    )?;
    let replace_options = ApplyOptions {
        selection: crate::plan::Selection {
            replace: unproven.into_iter().collect(),
            target: Default::default(),
        },
        ..apply_options.clone()
    };
    let (_, replaced) = crate::ops::apply::run(&replace_options, &desired, &ctx, stdout)
        .await
        .map_err(|e| step_err("replacing apply")(e.to_string()))?;

    heading(
        stdout,
        "5/6",
        "tokenops plan after the replacement: only the legacy tokens' consumers stay \
         unverifiable",
    )?;
    crate::ops::plan::run(&plan_options, &desired, &ctx, stdout)
        .await
        .map_err(|e| step_err("third plan")(e.to_string()))?;

    heading(
        stdout,
        "6/6",
        "tokenops check --report-issue: the weekly expiry report",
    )?;
    let check_options = CheckOptions {
        within_days: 21,
        format: Format::Text,
        report_issue: true,
    };
    let checked = crate::ops::check::run(&check_options, &desired, &ctx.clients, ctx.now, stdout)
        .await
        .map_err(|e| step_err("check")(e.to_string()))?;
    if let Some(issue) = &checked.issue {
        let project = desired
            .config
            .check
            .report
            .as_ref()
            .map(|r| r.project.as_str())
            .unwrap_or_default();
        writeln!(stdout, "\n{}", issue.describe(project, &checked.title))?;
    }
    writeln!(
        stdout,
        "\nThe demo ran against a sandbox that lived in this process; nothing outside it was \
         touched. Point the same commands at your instances with tokenops.yaml and the \
         credentials it names."
    )?;
    Ok(if report.all_done() && replaced.all_done() {
        Outcome::Success
    } else {
        Outcome::Problems
    })
}

/// The declared tokens (legacy ones aside: tokenops cannot replace them) with a consumer the
/// plan calls unverifiable.
async fn unverifiable_tokens(
    desired: &crate::manifest::Desired,
    ledger: &LedgerSource,
    ctx: &RunContext,
) -> Result<Vec<String>, DemoError> {
    let read = ledger
        .read()
        .await
        .map_err(|e| step_err("unverifiable consumers")(e.to_string()))?;
    let plan = crate::ops::plan::make_plan(desired, &read, ctx, &Default::default())
        .await
        .map_err(|e| step_err("unverifiable consumers")(e.to_string()))?;
    Ok(plan
        .tokens
        .iter()
        .filter(|t| t.status != crate::plan::TokenStatus::Legacy)
        .filter(|t| {
            t.consumers
                .iter()
                .any(|c| c.status == crate::plan::ConsumerStatus::Unverifiable)
        })
        .map(|t| t.id.clone())
        .collect())
}

fn heading(stdout: &mut dyn Write, step: &str, title: &str) -> std::io::Result<()> {
    writeln!(stdout, "\n==> {step} {title}\n")
}

/// Days left on the credential the demo signs in to gitlab.com with: inside its
/// `rotate_before`, so that the demo's apply rotates tokenops's own credential (last, through
/// self-rotate) and says the run switched to the new value.
const OWN_CREDENTIAL_DAYS_LEFT: i64 = 10;

/// Makes the sandbox's admin token, which the demo signs in with and the example declares as
/// `tokenops-rotate-token`, expire within its `rotate_before`, as one created by hand a year
/// ago would.
fn own_credential_due(sandbox: &SandboxHandle, now: Timestamp) {
    let expires = crate::time::add_days(crate::time::utc_date(now), OWN_CREDENTIAL_DAYS_LEFT);
    sandbox.with_state(|w| {
        for gl in w.gitlab.values_mut() {
            let Some(admin) = gl.admin_token.clone() else {
                continue;
            };
            let Some(id) = gl.token_by_value(admin.reveal()).map(|t| t.id) else {
                continue;
            };
            if let Some(t) = gl.tokens.get_mut(&id) {
                t.expires_at = Some(expires);
            }
        }
    });
}

/// The example configuration with its escrow recipient replaced.
fn with_recipient(config: &str, recipient: &str) -> String {
    config
        .lines()
        .map(|line| match line.trim_start().strip_prefix("recipient:") {
            Some(_) => format!("  recipient: {recipient}"),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// One client per declared instance, pointed at the sandbox with its admin credentials.
fn sandbox_clients(
    config: &crate::manifest::Config,
    sandbox: &SandboxHandle,
) -> Result<Clients, String> {
    let mut clients = Clients::default();
    for instance in &config.gitlab {
        let access = InstanceAccess {
            name: instance.name.clone(),
            url: sandbox.gitlab_url(&instance.name),
            credential: sandbox.gitlab_admin_token(&instance.name),
            email: None,
        };
        let client =
            GitLabClient::new(&access, ClientSettings::gitlab()).map_err(|e| e.to_string())?;
        clients.gitlab.insert(instance.name.clone(), client);
        // The admin credential stands in for the instance's own (`token_env`).
        clients.credentials.push(crate::watch::RunCredential {
            platform: crate::Platform::GitLab,
            instance: instance.name.clone(),
            env_var: instance.token_env.clone(),
            ci_variable: None,
            own: true,
            no_record: false,
        });
    }
    for instance in &config.zendesk {
        let access = InstanceAccess {
            name: instance.name.clone(),
            url: sandbox.zendesk_url(&instance.name),
            credential: sandbox.zendesk_admin_token(&instance.name),
            email: None,
        };
        // An instance that signs in with an OAuth client does so with the sandbox's client of
        // that identifier, as a pipeline would with the client's identifier and secret.
        let own = own_client(instance, sandbox)?;
        // The run's own short-lived token is revoked at its end: nothing to watch.
        let no_record = own.is_some();
        let client = match own {
            Some(credentials) => ZendeskClient::with_client_credentials(
                &access,
                credentials,
                ClientSettings::zendesk(),
            ),
            None => ZendeskClient::new(&access, ClientSettings::zendesk()),
        }
        .map_err(|e| e.to_string())?;
        clients.zendesk.insert(instance.name.clone(), client);
        clients.credentials.push(crate::watch::RunCredential {
            platform: crate::Platform::Zendesk,
            instance: instance.name.clone(),
            env_var: instance
                .client_secret_env
                .clone()
                .or_else(|| instance.oauth_token_env.clone())
                .or_else(|| instance.api_token_env.clone())
                .unwrap_or_default(),
            ci_variable: None,
            own: true,
            no_record,
        });
    }
    Ok(clients)
}

/// For an instance that signs in with an OAuth client (`client_id_env`, `client_secret_env`),
/// the identifier and current secret of the sandbox's client `tokenops`, the one the example
/// declares: what a pipeline would find in those two variables.
fn own_client(
    instance: &crate::manifest::ZendeskInstance,
    sandbox: &SandboxHandle,
) -> Result<Option<crate::zendesk::ClientCredentials>, String> {
    let (Some(_), Some(secret_env)) = (&instance.client_id_env, &instance.client_secret_env) else {
        return Ok(None);
    };
    let found = sandbox.with_state(|w| {
        w.zendesk.get(&instance.name).and_then(|z| {
            z.clients
                .values()
                .find(|c| c.identifier == DEMO_CLIENT)
                .map(|c| SecretString::from(c.secret.reveal().to_string()))
        })
    });
    let secret = found.ok_or_else(|| {
        format!(
            "the sandbox has no OAuth client `{DEMO_CLIENT}` on Zendesk `{}`",
            instance.name
        )
    })?;
    Ok(Some(crate::zendesk::ClientCredentials::new(
        DEMO_CLIENT,
        secret,
        secret_env,
    )))
}

/// The OAuth client the example's Zendesk instances sign in with.
const DEMO_CLIENT: &str = "tokenops";

/// The sandbox's OAuth client secrets, as an operator would export them for the
/// client-credentials grant.
fn sandbox_client_secrets(
    sandbox: &SandboxHandle,
) -> std::collections::BTreeMap<String, SecretString> {
    sandbox.with_state(|w| {
        w.zendesk
            .iter()
            .flat_map(|(name, z)| {
                z.clients.values().map(move |c| {
                    (
                        crate::kinds::zendesk::secret_key(name, &c.identifier),
                        SecretString::from(c.secret.reveal().to_string()),
                    )
                })
            })
            .collect()
    })
}
