//! `tokenops apply` arguments. Reads the escrow identity and the test-only crash point from
//! the environment here, at the edge, and passes them down as options.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;

use super::credentials::Access;
use super::env::process_env;
use super::ledger::{explain_refusal, refuse_local_in_ci};
use super::session::{Session, Sources, TuningArgs, run_to_end};
use crate::ops::Outcome;
use crate::ops::apply::ApplyOptions;

/// The environment variable naming a fault point (`<token-id>:<step>`) at which `apply`
/// kills itself with SIGKILL. For crash tests only.
pub const CRASH_ENV: &str = "TOKENOPS_TEST_CRASH_AT";

/// Rotate what is due: finish unfinished rotations, then plan (or take PLANFILE) and apply.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  tokenops plan --out plan.json && tokenops apply plan.json\n  \
tokenops apply --auto-approve\n  \
tokenops apply --replace gl-ops-bot-automation   # a leaked token: rotate it now\n\n\
Exit codes: 0 every token done, 1 error or any token pending, failed, skipped or blocked.\n\
The escrow key: `escrow.recipient` in tokenops.yaml, the identity in the variable named by\n\
`escrow.identity_env` (default TOKENOPS_ESCROW_IDENTITY)."
)]
pub struct Args {
    /// A plan saved by `tokenops plan --out`; refused when live state moved since.
    pub plan_file: Option<PathBuf>,
    /// Where tokenops.yaml and the manifests are.
    #[command(flatten)]
    pub sources: Sources,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Wait this many seconds for another run's ledger lock instead of failing at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
    /// Tokens rotated at the same time.
    #[arg(long, default_value_t = DEFAULT_PARALLEL)]
    pub parallel: usize,
    /// How requests are sent.
    #[command(flatten)]
    pub tuning: TuningArgs,
    /// Distribute a value obtained by hand (read from stdin) for this token id instead of
    /// applying the plan: for legacy Zendesk API tokens, which nobody can create by API.
    #[arg(long, value_name = "TOKEN_ID", conflicts_with = "plan_file")]
    pub provide: Option<String>,
    /// The local ledger file outlives this CI job (the job keeps it as a cache or an
    /// artifact the next run restores). Without it, apply refuses a local ledger in CI.
    #[arg(long)]
    pub local_ledger_kept: bool,
    /// Rotate this token now, due or not (repeatable), as Terraform's `-replace`: for a
    /// leaked value, which is dead when apply ends. Refused on scope drift and on legacy
    /// Zendesk API tokens.
    #[arg(long, value_name = "TOKEN_ID", conflicts_with_all = ["plan_file", "provide"])]
    pub replace: Vec<String>,
    /// Plan and apply only this token (repeatable); other tokens, and their unfinished
    /// rotations, are left alone.
    #[arg(long, value_name = "TOKEN_ID", conflicts_with_all = ["plan_file", "provide"])]
    pub target: Vec<String>,
    /// How the summary is written: lines for people, or the JSON document (see the README)
    /// for pipelines and audit.
    #[arg(long, value_enum, default_value_t = SummaryFormatArg::Text)]
    pub format: SummaryFormatArg,
}

/// Formats of the apply summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormatArg {
    /// Lines for people.
    Text,
    /// The summary as a JSON document.
    Json,
}

/// How many tokens `apply` rotates at the same time unless `--parallel` says otherwise.
pub const DEFAULT_PARALLEL: usize = 8;

/// Runs `apply`.
pub fn run(args: Args, now: Option<&str>) -> anyhow::Result<Outcome> {
    let session = Session::load(&args.sources)?;
    let desired = &session.desired;
    let ledger = session.ledger(Access::Write)?;
    refuse_local_in_ci(&ledger.source, args.local_ledger_kept, &process_env)?;
    let provided = match &args.provide {
        Some(id) => {
            if !args.auto_approve {
                anyhow::bail!(
                    "--provide {id} reads the value from stdin, so apply cannot ask for \
                     confirmation there; pass --auto-approve"
                );
            }
            let mut value = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut value)
                .context("reading the provided value from stdin")?;
            let value = value.trim_end_matches(['\r', '\n']).to_string();
            Some((id.clone(), SecretString::from(value)))
        }
        None => None,
    };
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "apply changes live tokens and stdin is not a terminal to confirm on; pass \
                 --auto-approve (as the CI job does)"
            );
        }
        eprint!("Apply the plan to live tokens? Type `yes` to continue: ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .context("reading the confirmation")?;
        if answer.trim() != "yes" {
            anyhow::bail!("not confirmed; nothing was changed");
        }
    }
    let mut ctx = session.run_context(now, args.tuning.into(), Access::Write)?;
    // `command` consumers run next to tokenops.yaml, with the variables they name.
    let base_dir = session
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf);
    ctx.clients.commands = crate::clients::CommandEnv::new(process_env, base_dir);
    let identity_env = desired
        .config
        .escrow
        .as_ref()
        .map(|e| e.identity_env.clone())
        .unwrap_or_else(|| "TOKENOPS_ESCROW_IDENTITY".to_string());
    let options = ApplyOptions {
        ledger: ledger.source,
        config: session.config.clone(),
        plan_file: args.plan_file,
        lock_timeout: Duration::from_secs(args.lock_timeout),
        parallel: args.parallel,
        escrow_identity: process_env(&identity_env)
            .filter(|v| !v.trim().is_empty())
            .map(SecretString::from),
        crash_at: process_env(CRASH_ENV).filter(|v| !v.is_empty()),
        holder: format!(
            "pid {} on {}, started {}",
            std::process::id(),
            process_env("HOSTNAME").unwrap_or_else(|| "this host".to_string()),
            ctx.now
        ),
        zendesk_client_secrets: client_secrets(desired, &process_env),
        provide: provided,
        selection: crate::plan::Selection {
            replace: args.replace.into_iter().collect(),
            target: args.target.into_iter().collect(),
        },
        summary_format: match args.format {
            SummaryFormatArg::Text => crate::ops::apply::SummaryFormat::Text,
            SummaryFormatArg::Json => crate::ops::apply::SummaryFormat::Json,
        },
    };
    let mut stdout = std::io::stdout().lock();
    let (outcome, _) = run_to_end(
        &ctx.clients,
        crate::ops::apply::run(&options, desired, &ctx, &mut stdout),
    )?
    .map_err(|err| explain_refusal(err.into(), ledger.sign_in.as_deref()))?;
    Ok(outcome)
}

/// The client secrets the client-credentials grant needs, one environment variable per
/// declared client (the driver names it).
fn client_secrets(
    desired: &crate::manifest::Desired,
    process_env: &dyn Fn(&str) -> Option<String>,
) -> std::collections::BTreeMap<String, SecretString> {
    desired
        .tokens
        .iter()
        .filter_map(|t| {
            let (key, env) = t.spec.kind.driver().client_secret()?;
            let value = process_env(&env).filter(|v| !v.trim().is_empty())?;
            Some((key, SecretString::from(value)))
        })
        .collect()
}
