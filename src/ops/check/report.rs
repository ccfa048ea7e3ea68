//! How a check report reads: plain text for a terminal, JSON for machines, and the Markdown
//! task list of the report issue (one box per entry, each carrying its hidden key so that a
//! later run can keep the boxes people ticked). Names, owners and reasons come from servers
//! and manifests, so each is escaped for the terminal or for Markdown on its way out.

use std::fmt::Write as _;

use crate::text::{hide_credentials, markdown as md, one_line};

use super::classify::{Entry, Report, Suggestion, kind_words};
use jiff::Timestamp;

use crate::time::{days_between, days_words, midnight, utc_date};

/// The hidden marker that identifies the report issue.
pub const ISSUE_MARKER: &str = "<!-- tokenops:check -->";

/// The title of the report issue: how many entries need action, and how many it lists in all
/// when that is more, so that the count matches what the body shows.
pub fn title(report: &Report) -> String {
    let urgent = report.urgent();
    let listed = report.entries.len();
    let within = days_words(report.within_days);
    let head = match urgent {
        0 => format!("tokenops: no tokens need action within {within}"),
        1 => format!("tokenops: 1 token needs action within {within}"),
        n => format!("tokenops: {n} tokens need action within {within}"),
    };
    if listed > urgent {
        format!("{head} ({listed} listed)")
    } else {
        head
    }
}

/// When the entry's token stops working, with the rounding of [`crate::time::days_left`].
fn when(entry: &Entry, now: Timestamp) -> String {
    if entry.deactivated {
        return "already deactivated by Zendesk: its consumers are failing now".to_string();
    }
    let deadline = entry.suggestion == Suggestion::MigrateToOauth;
    match (entry.expires_at, entry.days_left) {
        (Some(date), Some(days)) if days < 0 => {
            let ago = midnight(date).map_or(-days, |at| days_between(at, now));
            format!("expired {date} ({} ago)", days_words(ago))
        }
        (Some(date), Some(0)) if deadline => format!("deadline {date} (in under a day)"),
        (Some(date), Some(0)) => format!("expires {date} (in under a day)"),
        (Some(date), Some(days)) if deadline => {
            format!("deadline {date} (in {})", days_words(days))
        }
        (Some(date), Some(days)) => format!("expires {date} (in {})", days_words(days)),
        _ => "no expiry date".to_string(),
    }
}

/// Where the token lives, naming the instance unless the owner already does.
fn place(entry: &Entry) -> String {
    if entry.owner.contains(&entry.platform) {
        entry.owner.clone()
    } else {
        format!("{} on {}", entry.owner, entry.platform)
    }
}

fn last_used(entry: &Entry) -> String {
    match entry.last_used_at {
        Some(at) => format!("last used {}", utc_date(at)),
        None => "never used".to_string(),
    }
}

fn action(entry: &Entry) -> &'static str {
    match entry.suggestion {
        Suggestion::Rotate { auto: true } => "rotate (the scheduled `tokenops apply` does it)",
        Suggestion::Rotate { auto: false } => "rotate (manual mode)",
        Suggestion::Recreate => "recreate",
        Suggestion::Revoke => "revoke",
        Suggestion::Declare => "declare it in a manifest",
        Suggestion::MigrateToOauth => "migrate to OAuth",
    }
}

fn declared(entry: &Entry) -> String {
    match &entry.declared_by {
        Some(d) => format!("declared as `{}` in {}", d.id, d.file),
        None => "not declared in any manifest".to_string(),
    }
}

fn used_by(entry: &Entry) -> String {
    if entry.consumers.is_empty() {
        match entry.declared_by {
            Some(_) => "no consumers declared".to_string(),
            None => "consumers unknown".to_string(),
        }
    } else {
        format!("used by {}", entry.consumers.join("; "))
    }
}

/// Plain text for a terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let urgent = report.urgent();
    let _ = writeln!(
        out,
        "{}: {} of {} listed token(s) need action within {} (checked {}).",
        if urgent == 0 { "OK" } else { "ATTENTION" },
        urgent,
        report.entries.len(),
        days_words(report.within_days),
        utc_date(report.checked_at)
    );
    for entry in &report.entries {
        let _ = writeln!(
            out,
            "\n{} {} `{}` ({}{})",
            if entry.within_window { "!" } else { "-" },
            kind_words(&entry.kind),
            one_line(&hide_credentials(&entry.name)),
            one_line(&hide_credentials(&place(entry))),
            entry
                .platform_id
                .as_ref()
                .map(|id| format!(", id {}", one_line(id)))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "    {}; {}",
            when(entry, report.checked_at),
            last_used(entry)
        );
        let _ = writeln!(
            out,
            "    {}; {}",
            one_line(&declared(entry)),
            one_line(&used_by(entry))
        );
        let _ = writeln!(
            out,
            "    action: {}: {}",
            action(entry),
            one_line(&entry.why)
        );
    }
    out
}

/// The report as JSON.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// Markdown: the task list alone (no issue sections), for `--format markdown`.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("**{}**\n\n", title(report));
    for entry in &report.entries {
        out.push_str(&task_line(entry, false, report.checked_at));
    }
    out
}

/// Keeps text from breaking out of Markdown inline code or starting a quick action.
fn code(text: &str) -> String {
    crate::text::markdown_code(&hide_credentials(text))
}

/// One task-list item: the box, the token in words, the hidden key; details below it.
pub fn task_line(entry: &Entry, ticked: bool, now: Timestamp) -> String {
    let mut out = format!(
        "- [{}] **{}** {} {} in {}{} {}\n",
        if ticked { "x" } else { " " },
        action(entry),
        kind_words(&entry.kind),
        code(&entry.name),
        code(&entry.owner),
        match (&entry.platform_id, entry.owner.contains(&entry.platform)) {
            (Some(id), true) => format!(" (id {})", md(id)),
            (Some(id), false) => format!(" (id {}, {})", md(id), md(&entry.platform)),
            (None, true) => String::new(),
            (None, false) => format!(" ({})", md(&entry.platform)),
        },
        key_marker(&entry.key),
    );
    let _ = writeln!(out, "  - {}; {}", when(entry, now), last_used(entry));
    let _ = writeln!(out, "  - {}; {}", md(&declared(entry)), md(&used_by(entry)));
    let _ = writeln!(out, "  - {}", md(&entry.why));
    out
}

/// The hidden key of an entry.
pub fn key_marker(key: &str) -> String {
    format!("<!-- token:{key} -->")
}

/// The fixed "how to work this issue" section.
pub fn how_to(within_days: i64) -> String {
    format!(
        "### How to work this issue\n\n\
         1. Take each entry in turn. **Rotate** what is still used (entries that say \
         *the scheduled `tokenops apply` does it* need nothing but a passing `apply`), **revoke** \
         what nobody uses (then say so in a comment), **declare** what is used but missing \
         from the manifests (`tokenops import` writes the entry), and move legacy Zendesk API \
         tokens to OAuth.\n\
         2. Tick the entry's box when it is done. Later runs keep the ticks and move entries \
         that no longer expire within {within_days} days under *Resolved since the last run*.\n\
         3. When every box is ticked, leave a comment and close the issue. The weekly check \
         opens a new one only when something is expiring again.\n"
    )
}
