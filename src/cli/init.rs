//! `tokenops init` arguments: the instances from flags, or from questions on stderr when
//! stdin is a terminal; without either, a usage error that names the flags.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use crate::ops::Outcome;
use crate::ops::init::{GitlabSetup, InitOptions, ZendeskSetup, gitlab_name, init, report};

/// Write a starting tokenops.yaml, an age key pair and the manifest that keeps tokenops's own
/// credentials alive (never overwrites a file).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
tokenops init --gitlab https://gitlab.com \\\n      \
--gitlab-user tokenops-bot --project support/ops/tokenops\n  \
tokenops init --gitlab https://gitlab.example.com \\\n      \
--gitlab-user tokenops --project ops/tokenops \\\n      \
--zendesk global=https://example.zendesk.com\n  \
tokenops init              # on a terminal: asks\n\n\
Writes tokenops.yaml, manifests/tokenops.yaml and schemas/, prints the age identity once \
(store it as the masked, protected CI/CD variable TOKENOPS_ESCROW_IDENTITY; only its public \
recipient is written) and the CI/CD variables to create.\n\n\
Exit codes: 0 written, 1 error (including a file that already exists: nothing is written).")]
pub struct Args {
    /// The directory to write tokenops.yaml, manifests/ and schemas/ in.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The GitLab instance tokenops's pipelines run on: `URL` or `NAME=URL` (the name
    /// defaults to the URL's host).
    #[arg(long, value_name = "[NAME=]URL", requires_all = ["gitlab_user", "project"])]
    pub gitlab: Option<String>,
    /// The GitLab user (a service account or bot user) whose personal access tokens tokenops
    /// signs in with.
    #[arg(long, value_name = "USER", requires = "gitlab")]
    pub gitlab_user: Option<String>,
    /// The project that runs tokenops's pipelines: it holds the CI/CD variables, the ledger
    /// and the check report.
    #[arg(long, value_name = "PATH", requires = "gitlab")]
    pub project: Option<String>,
    /// A Zendesk instance, `NAME=URL`; repeat for more.
    #[arg(long, value_name = "NAME=URL", requires = "gitlab")]
    pub zendesk: Vec<String>,
    /// The confidential Zendesk OAuth client tokenops signs in to every Zendesk instance with
    /// (client-credentials grant), created by hand once; its secret is kept alive by apply,
    /// and the read-only tokens plan and check use are minted with it.
    #[arg(long, value_name = "CLIENT", default_value = "tokenops")]
    pub zendesk_client: String,
}

/// Runs `init`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (gitlab, zendesk) = match &args.gitlab {
        Some(spec) => {
            let (name, url) = gitlab_spec(spec)?;
            let gitlab = GitlabSetup {
                name,
                url,
                user: args.gitlab_user.clone().unwrap_or_default(),
                project: args.project.clone().unwrap_or_default(),
            };
            let zendesk = args
                .zendesk
                .iter()
                .map(|z| zendesk_spec(z))
                .collect::<anyhow::Result<Vec<_>>>()?;
            (gitlab, zendesk)
        }
        None if std::io::stdin().is_terminal() => {
            let stdin = std::io::stdin();
            ask(&mut stdin.lock(), &mut std::io::stderr())?
        }
        None => anyhow::bail!(
            "tokenops init needs the instances: pass --gitlab URL --gitlab-user USER --project \
             PATH (and --zendesk NAME=URL for each Zendesk instance), or run it on a terminal \
             to be asked"
        ),
    };
    let options = InitOptions {
        dir: args.dir,
        gitlab,
        zendesk,
        zendesk_client: args.zendesk_client,
    };
    let done = init(&options)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(report(&done, &options.gitlab.project).as_bytes())?;
    Ok(Outcome::Success)
}

fn gitlab_spec(spec: &str) -> anyhow::Result<(String, String)> {
    match spec.split_once('=') {
        Some((name, url)) if !name.contains("://") => {
            Ok((name.trim().to_string(), url.trim().to_string()))
        }
        _ => Ok((gitlab_name(spec.trim())?, spec.trim().to_string())),
    }
}

fn zendesk_spec(spec: &str) -> anyhow::Result<ZendeskSetup> {
    match spec.split_once('=') {
        Some((name, url)) if !name.trim().is_empty() && !url.trim().is_empty() => {
            Ok(ZendeskSetup {
                name: name.trim().to_string(),
                url: url.trim().to_string(),
            })
        }
        _ => anyhow::bail!(
            "--zendesk `{spec}` is not NAME=URL; write it like \
             --zendesk global=https://example.zendesk.com"
        ),
    }
}

/// Asks for the instances on `err`, reading answers from `input`.
pub fn ask(
    input: &mut dyn BufRead,
    err: &mut dyn Write,
) -> anyhow::Result<(GitlabSetup, Vec<ZendeskSetup>)> {
    let mut question = |text: &str, default: Option<&str>| -> anyhow::Result<String> {
        loop {
            match default {
                Some(d) if !d.is_empty() => write!(err, "{text} [{d}]: ")?,
                _ => write!(err, "{text}: ")?,
            }
            err.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                anyhow::bail!("no answer to `{text}` (end of input); nothing was written");
            }
            let answer = line.trim();
            match (answer.is_empty(), default) {
                (false, _) => return Ok(answer.to_string()),
                (true, Some(d)) => return Ok(d.to_string()),
                (true, None) => writeln!(err, "  an answer is needed")?,
            }
        }
    };
    let url = question("GitLab URL", Some("https://gitlab.com"))?;
    let (name, url) = gitlab_spec(&url)?;
    let user = question(
        "GitLab user whose personal access tokens tokenops signs in with",
        None,
    )?;
    let project = question(
        "Project that runs tokenops's pipelines (full path, e.g. support/ops/tokenops)",
        None,
    )?;
    let mut zendesk = Vec::new();
    loop {
        let z = question("Zendesk instance as NAME=URL (empty: no more)", Some(""))?;
        if z.is_empty() {
            break;
        }
        zendesk.push(zendesk_spec(&z)?);
    }
    Ok((
        GitlabSetup {
            name,
            url,
            user,
            project,
        },
        zendesk,
    ))
}
