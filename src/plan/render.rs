//! Renders a [`Plan`] for people (text, markdown for the MR note) and machines (json).
//! A plan holds no secret, so nothing here can print one. Every field comes from a manifest
//! or a server, so each is escaped on its way out: control characters in text (no forged
//! line, no terminal sequence), Markdown and HTML syntax in the note (no mention, link,
//! comment or quick action), and words shaped like credentials in what a server named.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::text::{hide_credentials, one_line};

use super::{Action, ConsumerPlan, ConsumerStatus, Plan, Summary, TokenPlan, TokenStatus};

/// GitLab's limit on a note body, in characters.
pub const NOTE_LIMIT: usize = 1_000_000;
/// The hidden marker that identifies tokenops's plan note on a merge request.
pub const PLAN_MARKER: &str = "<!-- tokenops:plan -->";

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human text.
    Text,
    /// Markdown for a merge-request note.
    Markdown,
    /// The plan document as JSON.
    Json,
}

/// Renders in `format`; `color` applies to text only.
pub fn render(plan: &Plan, format: Format, color: bool) -> String {
    match format {
        Format::Text => text(plan, color),
        Format::Markdown => markdown(plan, NOTE_LIMIT),
        Format::Json => json(plan),
    }
}

/// The JSON document (stable shape, see the README).
pub fn json(plan: &Plan) -> String {
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_else(|_| "{}".to_string());
    out.push('\n');
    out
}

/// One line of counts.
pub fn summary_line(summary: &Summary) -> String {
    if summary.is_empty() && summary.needs_human == 0 {
        let mut line = format!("No changes: {} in sync", plural(summary.in_sync, "token"));
        if summary.legacy > 0 {
            let _ = write!(line, ", {} legacy", summary.legacy);
        }
        if summary.undeclared > 0 {
            let _ = write!(line, ", {} undeclared", summary.undeclared);
        }
        line.push_str(&unverifiable_words(summary));
        line.push('.');
        return line;
    }
    let mut parts = Vec::new();
    let mut push = |n: usize, one: &str, many: &str| {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    };
    push(summary.rotations, "rotation", "rotations");
    push(summary.recreations, "recreation", "recreations");
    push(summary.writes, "consumer write", "consumer writes");
    push(summary.revocations, "revocation", "revocations");
    push(summary.manual, "manual step", "manual steps");
    push(
        summary.needs_human,
        "token needs a person",
        "tokens need a person",
    );
    push(summary.in_sync, "in sync", "in sync");
    push(summary.legacy, "legacy", "legacy");
    push(summary.undeclared, "undeclared", "undeclared");
    format!("Plan: {}{}.", parts.join(", "), unverifiable_words(summary))
}

/// The consumers nobody can prove hold the current value, and what settles them. They are not
/// pending changes: `--detailed-exitcode` does not exit 2 for them alone.
fn unverifiable_words(summary: &Summary) -> String {
    match summary.unverifiable {
        0 => String::new(),
        n => format!(
            "; {} unverifiable (not counted as changes: `tokenops apply --replace ID` writes \
             a new value to every consumer of a token so each can be proven; for a legacy \
             token, `apply --provide ID`)",
            plural(n, "consumer")
        ),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn sigil(token: &TokenPlan) -> (&'static str, &'static str) {
    if token.needs_human || token.status == TokenStatus::Legacy {
        ("!", "33")
    } else if token.actions.is_empty() {
        ("=", "2")
    } else {
        ("~", "36")
    }
}

/// Human text: the summary line, then each token that has something to say.
pub fn text(plan: &Plan, color: bool) -> String {
    let paint = Paint { on: color };
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint.paint("1", &summary_line(&plan.summary)));
    if let Some(line) = selection_line(plan) {
        let _ = writeln!(out, "{line}");
    }
    for cred in &plan.credentials {
        let _ = writeln!(
            out,
            "{} {}",
            paint.paint("33", "warning:"),
            foreign(&cred.words())
        );
    }
    for token in &plan.tokens {
        let (mark, code) = sigil(token);
        out.push('\n');
        let _ = writeln!(
            out,
            "{} {} ({}) {}",
            paint.paint(code, mark),
            paint.paint("1", &one_line(&token.id)),
            one_line(&token.kind),
            paint.paint(code, token.status.label())
        );
        let _ = writeln!(out, "    {}", one_line(&object_line(token)));
        let _ = writeln!(out, "    {}", one_line(&token.reason));
        for action in &token.actions {
            let _ = writeln!(out, "    {}", one_line(&action_line(action, token)));
        }
        for consumer in &token.consumers {
            if !consumer.write && consumer.status == ConsumerStatus::InSync {
                continue;
            }
            if consumer.write || consumer.status == ConsumerStatus::Manual {
                continue;
            }
            let settle = match (consumer.status, token.status) {
                (ConsumerStatus::Unverifiable, TokenStatus::Legacy) => {
                    format!("; `tokenops apply --provide {}` settles it", token.id)
                }
                (ConsumerStatus::Unverifiable, _) => {
                    format!("; `tokenops apply --replace {}` settles it now", token.id)
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "    consumer {} is {}: {}{settle}",
                one_line(&consumer.label),
                consumer.status.label(),
                one_line(&consumer.reason)
            );
        }
        for consumer in &token.consumers {
            if let Some(diff) = &consumer.diff {
                let _ = writeln!(out, "    settings of {}:", one_line(&consumer.label));
                for line in diff.lines() {
                    let _ = writeln!(out, "      {}", one_line(line));
                }
            }
        }
        for note in &token.notes {
            let _ = writeln!(out, "    note: {}", one_line(note));
        }
    }
    if !plan.undeclared.is_empty() {
        let _ = writeln!(
            out,
            "\nUndeclared tokens in the discovery scopes (`tokenops import --discover` declares them):"
        );
        for found in &plan.undeclared {
            let _ = writeln!(
                out,
                "  ? {} {} \"{}\" #{} on {}{}",
                one_line(&found.kind),
                foreign(&found.owner),
                foreign(&found.name),
                foreign(&found.platform_id),
                one_line(&found.platform),
                found
                    .expires_at
                    .map(|d| format!(", expires {d}"))
                    .unwrap_or_default()
            );
        }
    }
    out
}

/// What the plan was limited to and asked to replace, when anything.
fn selection_line(plan: &Plan) -> Option<String> {
    let selection = &plan.selection;
    let list = |ids: &std::collections::BTreeSet<String>| {
        ids.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !selection.target.is_empty() {
        parts.push(format!(
            "Partial plan (--target {}): other tokens are not shown and apply leaves them alone.",
            list(&selection.target)
        ));
    }
    if !selection.replace.is_empty() {
        parts.push(format!(
            "Replace requested (--replace {}): a new value now, due or not; the old value is \
             dead when apply ends.",
            list(&selection.replace)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `platform: object`, or just the object for secrets tokenops generates itself.
fn object_line(token: &TokenPlan) -> String {
    if token.platform.is_empty() {
        token.object.clone()
    } else {
        format!("{}: {}", token.platform, token.object)
    }
}

fn consumer_label<'a>(token: &'a TokenPlan, key: &'a str) -> &'a str {
    token
        .consumers
        .iter()
        .find(|c| c.key == key)
        .map(|c: &ConsumerPlan| c.label.as_str())
        .unwrap_or(key)
}

fn expiry_words(date: &Option<jiff::civil::Date>) -> String {
    date.map(|d| format!(", new expiry {d}"))
        .unwrap_or_default()
}

/// One action in words, e.g. `+ rotate, new expiry 2027-11-28 (value changes)`.
pub fn action_line(action: &Action, token: &TokenPlan) -> String {
    match action {
        Action::Rotate { new_expires_at } => {
            format!("+ rotate{} (value changes)", expiry_words(new_expires_at))
        }
        Action::Create { new_expires_at } => {
            format!(
                "+ create a new value{} (value changes)",
                expiry_words(new_expires_at)
            )
        }
        Action::Recreate { new_expires_at } => {
            format!(
                "+ create again{} (value changes)",
                expiry_words(new_expires_at)
            )
        }
        Action::Write { consumer } => {
            let label = consumer_label(token, consumer);
            let status = token
                .consumers
                .iter()
                .find(|c| &c.key == consumer)
                .map(|c| c.status)
                .filter(|s| *s != ConsumerStatus::InSync);
            match status {
                Some(status) => format!("~ write {label} (value changes; now {})", status.label()),
                None => format!("~ write {label} (value changes)"),
            }
        }
        Action::Revoke { old_platform_id } => {
            format!("- revoke the old token #{old_platform_id} once every consumer is verified")
        }
        Action::Manual { instructions } => format!("! manual: {instructions}"),
        Action::Resume { after } => format!("> resume the unfinished rotation (after {after})"),
    }
}

/// Text a server named, for a person: credential-shaped words hidden, on one line.
fn foreign(text: &str) -> String {
    one_line(&hide_credentials(text)).into_owned()
}

/// Text in a Markdown table cell or list item (see [`crate::text::markdown`]).
fn md_cell(text: &str) -> String {
    crate::text::markdown(text)
}

/// Text as Markdown inline code.
fn md_code(text: &str) -> String {
    crate::text::markdown_code(text)
}

/// Text inside an HTML element of the note (`<code>` in a summary line).
fn html_text(text: &str) -> String {
    one_line(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A diff line inside a fenced block: on one line, and unable to close the fence.
fn md_fenced(line: &str) -> Cow<'_, str> {
    let line = one_line(line);
    if line.contains("```") || line.contains("~~~") {
        Cow::Owned(line.replace("```", "'''").replace("~~~", "'''"))
    } else {
        line
    }
}

/// Markdown for the MR note, at most `limit` characters: a counts table and one row per token
/// that needs attention first, each token's details folded below. When the estate is too
/// large, the end is cut with a line pointing at the job artifact.
pub fn markdown(plan: &Plan, limit: usize) -> String {
    const CUT: &str = "\n\n**Truncated**: the plan is too long for a note; see the `plan.json` \
                       job artifact for the rest.\n";
    let budget = limit.saturating_sub(CUT.len());
    let mut out = String::new();
    let _ = writeln!(out, "{PLAN_MARKER}");
    let _ = writeln!(out, "### tokenops plan\n");
    let _ = writeln!(out, "{}\n", summary_line(&plan.summary));
    if let Some(line) = selection_line(plan) {
        let _ = writeln!(out, "**{}**\n", md_cell(&line));
    }
    for cred in &plan.credentials {
        let _ = writeln!(
            out,
            "> **Warning**: {}\n",
            md_cell(&hide_credentials(&cred.words()))
        );
    }
    let s = &plan.summary;
    let _ = writeln!(
        out,
        "| rotations | recreations | consumer writes | revocations | manual | needs a person | in sync | legacy | undeclared |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.rotations,
        s.recreations,
        s.writes,
        s.revocations,
        s.manual,
        s.needs_human,
        s.in_sync,
        s.legacy,
        s.undeclared
    );
    let attention: Vec<&TokenPlan> = plan
        .tokens
        .iter()
        .filter(|t| !t.actions.is_empty() || t.needs_human || t.status == TokenStatus::Legacy)
        .collect();
    let mut truncated = false;
    if !attention.is_empty() {
        out.push_str("| token | status | why | actions |\n|---|---|---|---|\n");
        for token in &attention {
            let row = format!(
                "| {} | {} | {} | {} |\n",
                md_code(&token.id),
                token.status.label(),
                md_cell(&token.reason),
                md_cell(&action_counts(token))
            );
            if out.len() + row.len() > budget {
                truncated = true;
                break;
            }
            out.push_str(&row);
        }
    }
    if !truncated {
        for token in &attention {
            let mut block = String::new();
            let _ = writeln!(
                block,
                "\n<details><summary><code>{}</code>: {}</summary>\n",
                html_text(&token.id),
                token.status.label()
            );
            let _ = writeln!(
                block,
                "- {} ({})",
                md_cell(&object_line(token)),
                md_cell(&token.kind)
            );
            let _ = writeln!(block, "- {}", md_cell(&token.reason));
            for action in &token.actions {
                let _ = writeln!(block, "- {}", md_code(&action_line(action, token)));
            }
            for consumer in token.consumers.iter().filter(|c| c.diff.is_some()) {
                let _ = writeln!(
                    block,
                    "- settings of {}:\n\n```diff",
                    md_cell(&consumer.label)
                );
                for line in consumer.diff.as_deref().unwrap_or_default().lines() {
                    let _ = writeln!(block, "{}", md_fenced(line));
                }
                block.push_str("```\n");
            }
            for note in &token.notes {
                let _ = writeln!(block, "- note: {}", md_cell(note));
            }
            block.push_str("\n</details>\n");
            if out.len() + block.len() > budget {
                truncated = true;
                break;
            }
            out.push_str(&block);
        }
    }
    if !truncated && !plan.undeclared.is_empty() {
        let mut block = String::from(
            "\n**Undeclared tokens** in the discovery scopes (`tokenops import --discover` declares them):\n\n",
        );
        for found in &plan.undeclared {
            let _ = writeln!(
                block,
                "- {} {} \"{}\" \\#{} on {}",
                md_cell(&found.kind),
                md_cell(&hide_credentials(&found.owner)),
                md_cell(&hide_credentials(&found.name)),
                md_cell(&found.platform_id),
                md_cell(&found.platform)
            );
        }
        if out.len() + block.len() > budget {
            truncated = true;
        } else {
            out.push_str(&block);
        }
    }
    if truncated {
        out.push_str(CUT);
    }
    out
}

fn action_counts(token: &TokenPlan) -> String {
    if token.actions.is_empty() {
        return if token.needs_human {
            "none until a person decides".into()
        } else {
            "none".into()
        };
    }
    let mut words: Vec<String> = Vec::new();
    let writes = token
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Write { .. }))
        .count();
    for action in &token.actions {
        let word = match action {
            Action::Rotate { .. } => "rotate",
            Action::Create { .. } => "create",
            Action::Recreate { .. } => "create again",
            Action::Revoke { .. } => "revoke old",
            Action::Manual { .. } => "manual step",
            Action::Resume { .. } => "resume",
            Action::Write { .. } => continue,
        };
        if !words.iter().any(|w| w == word) {
            words.push(word.to_string());
        }
    }
    if writes > 0 {
        words.insert(words.len().min(1), plural(writes, "write"));
    }
    words.join(", ")
}
