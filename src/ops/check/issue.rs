//! The report issue: one open issue per project, found again by its hidden marker (never by
//! title), rewritten on each run with the boxes people ticked kept by entry key. A run writes
//! at most one issue (create or update), well inside GitLab's issue-creation limit.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::classify::Report;
use super::report::{ISSUE_MARKER, how_to, key_marker, task_line, title};
use crate::gitlab::{GitLabClient, IssueFilter, IssueUpdate, NewIssue};
use crate::http::ApiError;
use crate::manifest::ReportTarget;
use crate::time::utc_date;

const TOKENS_HEADING: &str = "### Tokens";
const RESOLVED_HEADING: &str = "### Resolved since the last run";

/// What happened to the report issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// A new issue was opened.
    Created {
        /// Its number.
        iid: u64,
        /// Its address.
        url: Option<String>,
    },
    /// The open issue was rewritten.
    Updated {
        /// Its number.
        iid: u64,
        /// Its address.
        url: Option<String>,
    },
    /// Nothing is expiring and no issue is open: nothing was written.
    NothingToReport,
}

impl IssueOutcome {
    /// What happened, in one line for people: the issue's number, project, title and address.
    pub fn describe(&self, project: &str, title: &str) -> String {
        let (verb, iid, url) = match self {
            IssueOutcome::Created { iid, url } => ("Opened", iid, url),
            IssueOutcome::Updated { iid, url } => ("Updated", iid, url),
            IssueOutcome::NothingToReport => {
                return "Nothing expires and no report issue is open: no issue written."
                    .to_string();
            }
        };
        format!(
            "{verb} the report issue #{iid} in {project}: \"{title}\"{}",
            url.as_ref().map(|u| format!(" {u}")).unwrap_or_default()
        )
    }
}

/// One task-list item of a previous body.
#[derive(Debug, Clone)]
struct PreviousItem {
    ticked: bool,
    resolved: bool,
    /// The first line without its box and key marker.
    summary: String,
}

/// Reads the items of a previous body, by key.
fn previous_items(body: &str) -> BTreeMap<String, PreviousItem> {
    let mut items = BTreeMap::new();
    let mut resolved = false;
    for line in body.lines() {
        if line.starts_with("### ") {
            resolved = line.trim() == RESOLVED_HEADING;
            continue;
        }
        let ticked = if line.starts_with("- [x] ") || line.starts_with("- [X] ") {
            true
        } else if line.starts_with("- [ ] ") {
            false
        } else {
            continue;
        };
        let Some(start) = line.find("<!-- token:") else {
            continue;
        };
        let rest = &line[start + "<!-- token:".len()..];
        let Some(end) = rest.find(" -->") else {
            continue;
        };
        let key = rest[..end].to_string();
        let summary = line[6..start].trim_end().to_string();
        items.insert(
            key,
            PreviousItem {
                ticked,
                resolved,
                summary,
            },
        );
    }
    items
}

/// The issue body for `report`, keeping the ticks of `previous` (the current body, if the
/// issue exists).
pub fn compose(report: &Report, previous: Option<&str>) -> String {
    let before = previous.map(previous_items).unwrap_or_default();
    let today = utc_date(report.checked_at);
    let mut out = String::new();
    let _ = writeln!(out, "{ISSUE_MARKER}");
    let urgent = report.urgent();
    if urgent == 0 {
        let _ = writeln!(
            out,
            "**Nothing expires within {}** as of {today}: once the boxes below are \
             worked, this issue can be closed.\n",
            crate::time::days_words(report.within_days)
        );
    } else {
        let _ = writeln!(
            out,
            "**{urgent} token(s) need action within {}** (checked {today} by `tokenops \
             check`).\n",
            crate::time::days_words(report.within_days)
        );
    }
    let mut current = BTreeSet::new();
    if !report.entries.is_empty() {
        let _ = writeln!(out, "{TOKENS_HEADING}\n");
        let items: Vec<String> = report
            .entries
            .iter()
            .map(|entry| {
                current.insert(entry.key.clone());
                let ticked = before
                    .get(&entry.key)
                    .is_some_and(|p| p.ticked && !p.resolved);
                task_line(entry, ticked, report.checked_at)
            })
            .collect();
        push_items(&mut out, items);
        out.push('\n');
    }
    // Newly resolved entries first, then the ones already listed, at most RESOLVED_KEPT.
    let mut resolved: Vec<_> = before
        .iter()
        .filter(|(key, _)| !current.contains(*key))
        .collect();
    resolved.sort_by_key(|(_, item)| item.resolved);
    resolved.truncate(RESOLVED_KEPT);
    if !resolved.is_empty() {
        let _ = writeln!(out, "{RESOLVED_HEADING}\n");
        for (key, item) in resolved {
            let summary = if item.resolved {
                item.summary.clone()
            } else {
                format!(
                    "~~{}~~ (resolved {today}: no longer expiring within the window)",
                    item.summary
                )
            };
            let _ = writeln!(out, "- [x] {summary} {}", key_marker(key));
        }
        out.push('\n');
    }
    out.push_str(&how_to(report.within_days));
    out.push_str(
        "\n<sub>Written by `tokenops check --report-issue`; edited in place on every run.</sub>\n",
    );
    out
}

/// How many resolved entries the issue keeps listing.
pub const RESOLVED_KEPT: usize = 500;

/// Room for the task list: GitLab takes descriptions up to 1,048,576 characters; the rest of
/// the body (headings, resolved entries, how-to) stays well under the difference.
pub const LIST_LIMIT: usize = 900_000;

/// Appends the task items; when they would not fit, only each item's first line (box, token
/// and key), and past that a line saying how many were left out.
fn push_items(out: &mut String, items: Vec<String>) {
    let total: usize = items.iter().map(String::len).sum();
    let compact = total > LIST_LIMIT;
    let mut used = 0;
    for (n, item) in items.iter().enumerate() {
        let text = if compact {
            let first = item.lines().next().unwrap_or_default();
            format!("{first}\n")
        } else {
            item.clone()
        };
        if used + text.len() > LIST_LIMIT {
            let _ = writeln!(
                out,
                "- {} more entries do not fit in one issue; `tokenops check` lists them all.",
                items.len() - n
            );
            return;
        }
        used += text.len();
        out.push_str(&text);
    }
}

/// Finds the open report issue: labelled as configured and carrying the marker. The oldest
/// wins if several do.
pub async fn find(
    client: &GitLabClient,
    target: &ReportTarget,
) -> Result<Option<crate::gitlab::Issue>, ApiError> {
    let filter = IssueFilter {
        state: Some("opened".to_string()),
        labels: (!target.labels.is_empty()).then(|| target.labels.join(",")),
        search_title: None,
    };
    let issues = client.list_issues(&target.project, &filter).await?;
    Ok(issues
        .into_iter()
        .filter(|i| i.state == "opened" || i.state.is_empty())
        .filter(|i| {
            i.description
                .as_deref()
                .is_some_and(|d| d.contains(ISSUE_MARKER))
        })
        .min_by_key(|i| i.iid))
}

/// Opens or updates the report issue.
pub async fn upsert(
    client: &GitLabClient,
    target: &ReportTarget,
    report: &Report,
) -> Result<IssueOutcome, ApiError> {
    if let Some(issue) = find(client, target).await? {
        return update(client, target, report, issue).await;
    }
    if report.urgent() == 0 {
        return Ok(IssueOutcome::NothingToReport);
    }
    let new = NewIssue {
        title: title(report),
        description: compose(report, None),
        labels: (!target.labels.is_empty()).then(|| target.labels.join(",")),
        confidential: None,
    };
    match client.create_issue(&target.project, &new).await {
        Ok(issue) => Ok(IssueOutcome::Created {
            iid: issue.iid,
            url: issue.web_url,
        }),
        // The issue may exist although the answer was lost: look before opening another.
        Err(ApiError::OutcomeUnknown { .. }) => match find(client, target).await? {
            Some(issue) => update(client, target, report, issue).await,
            None => {
                let issue = client.create_issue(&target.project, &new).await?;
                Ok(IssueOutcome::Created {
                    iid: issue.iid,
                    url: issue.web_url,
                })
            }
        },
        Err(err) => Err(err),
    }
}

async fn update(
    client: &GitLabClient,
    target: &ReportTarget,
    report: &Report,
    issue: crate::gitlab::Issue,
) -> Result<IssueOutcome, ApiError> {
    let update = IssueUpdate {
        title: Some(title(report)),
        description: Some(compose(report, issue.description.as_deref())),
        ..IssueUpdate::default()
    };
    let updated = client
        .update_issue(&target.project, issue.iid, &update)
        .await?;
    Ok(IssueOutcome::Updated {
        iid: updated.iid,
        url: updated.web_url.or(issue.web_url),
    })
}
