//! `tokenops check`: lists every token that expires within the window (declared tokens and
//! everything under `check.discover`), with the suggested action for each, and optionally
//! writes the report issue. Discovery gathers; [`classify`] decides, as a pure function.

mod classify;
pub mod issue;
pub mod report;

use std::io::Write;

use jiff::Timestamp;

pub use classify::{
    Declaration, Entry, Report, Suggestion, UNUSED_DAYS, ZENDESK_API_TOKEN_NO_NEW, add_credentials,
    classify, key, kind_words,
};
pub use issue::IssueOutcome;

use super::Outcome;
use crate::clients::Clients;
use crate::discover::{DiscoverError, ScanKinds, discover};
use crate::inventory::Inventory;
use crate::ledger::Ledger;
use crate::manifest::{Desired, Discover};
use crate::plan::render::Format;
use crate::time::{add_days, utc_date};

/// What `check` was asked to do.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The window in days.
    pub within_days: i64,
    /// Output format.
    pub format: Format,
    /// Open or update the report issue.
    pub report_issue: bool,
}

/// Why `check` could not finish.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Live state could not be read.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// `--report-issue` without `check.report` in tokenops.yaml.
    #[error(
        "--report-issue needs `check.report` in tokenops.yaml (gitlab, project, labels), for \
         example `report: {{ gitlab: gitlab.com, project: support/ops/tokenops, labels: \
         [token-checker] }}`"
    )]
    NoReportTarget,
    /// `check.report.gitlab` names no declared instance.
    #[error(
        "check.report.gitlab in tokenops.yaml names `{0}`, which is not a GitLab instance \
         declared under `gitlab:`"
    )]
    UnknownReportInstance(String),
    /// The issue could not be written.
    #[error("cannot write the report issue in project {project}: {source}")]
    Issue {
        /// The project.
        project: String,
        /// Why.
        source: crate::http::ApiError,
    },
    /// Writing the output failed.
    #[error("cannot write the report to stdout: {0}")]
    Write(#[from] std::io::Error),
}

/// The scan `check` makes: server-filtered to active tokens expiring within the window,
/// Zendesk OAuth tokens included, pipeline triggers when the instance lets them expire
/// (`check.discover.gitlab_pipeline_triggers`) and deploy tokens when asked
/// (`check.discover.gitlab_deploy_tokens`). The filter day is one past the
/// window (GitLab's docs do not say whether `expires_before` includes its day); [`classify`]
/// then keeps exactly the window.
pub fn scan_kinds(discover: &Discover, now: Timestamp, within_days: i64) -> ScanKinds {
    ScanKinds {
        triggers: discover.gitlab_pipeline_triggers,
        expires_before: Some(add_days(utc_date(now), within_days + 1)),
        zendesk_oauth: true,
        deploy_tokens: discover.gitlab_deploy_tokens,
    }
}

/// Reads what `check` needs: the declared tokens' records (consumers are not read; the
/// report names them from the manifest) and the discovery scopes.
pub async fn gather(
    desired: &Desired,
    clients: &Clients,
    now: Timestamp,
    within_days: i64,
) -> Result<Inventory, DiscoverError> {
    let mut bare = desired.clone();
    for token in &mut bare.tokens {
        token.spec.consumers.clear();
        token.consumer_origins.clear();
    }
    discover(
        &bare,
        &Ledger::default(),
        clients,
        now,
        Some(scan_kinds(&desired.config.check.discover, now, within_days)),
    )
    .await
}

/// How a check run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// Success (nothing within the window) or Changes (something is).
    pub outcome: Outcome,
    /// What happened to the report issue, with `--report-issue`.
    pub issue: Option<IssueOutcome>,
    /// The report's title (the issue's title).
    pub title: String,
}

/// Runs `tokenops check`.
pub async fn run(
    options: &CheckOptions,
    desired: &Desired,
    clients: &Clients,
    now: Timestamp,
    stdout: &mut dyn Write,
) -> Result<CheckRun, CheckError> {
    let target = if options.report_issue {
        let target = desired
            .config
            .check
            .report
            .clone()
            .ok_or(CheckError::NoReportTarget)?;
        let client = clients
            .gitlab
            .get(&target.gitlab)
            .cloned()
            .ok_or_else(|| CheckError::UnknownReportInstance(target.gitlab.clone()))?;
        Some((target, client))
    } else {
        None
    };
    let inventory = gather(desired, clients, now, options.within_days).await?;
    let mut report = classify(desired, &inventory, now, options.within_days);
    let facts = crate::discover::credentials::inspect(clients, None).await;
    let unwatched = crate::watch::unwatched(
        &facts,
        desired,
        &crate::watch::live_ids(&inventory),
        now,
        options.within_days,
    );
    add_credentials(&mut report, &unwatched);
    let rendered = match options.format {
        Format::Text => report::text(&report),
        Format::Markdown => report::markdown(&report),
        Format::Json => report::json(&report),
    };
    stdout.write_all(rendered.as_bytes())?;
    let issue = match target {
        Some((target, client)) => Some(issue::upsert(&client, &target, &report).await.map_err(
            |source| CheckError::Issue {
                project: target.project.clone(),
                source,
            },
        )?),
        None => None,
    };
    Ok(CheckRun {
        title: report::title(&report),
        outcome: if report.urgent() > 0 {
            Outcome::Changes
        } else {
            Outcome::Success
        },
        issue,
    })
}
