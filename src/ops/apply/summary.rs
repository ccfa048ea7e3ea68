//! The run summary: one line per token (done, pending, failed with the reason, skipped,
//! manual, blocked), what happened on the way, the checklist of manual steps, and the
//! figures of the run. Never a value.

use std::io::Write;
use std::time::Duration;

/// How one token ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenOutcome {
    /// Rotated, every consumer verified, finished.
    Done,
    /// Left unfinished in the ledger; the next apply continues it.
    Pending,
    /// Failed; nothing is pending.
    Failed,
    /// Not handled by this version.
    Skipped,
    /// Manual mode: a person takes the steps.
    Manual,
    /// A person must decide first (scope drift, unreadable state).
    Blocked,
}

impl TokenOutcome {
    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            TokenOutcome::Done => "done",
            TokenOutcome::Pending => "pending",
            TokenOutcome::Failed => "failed",
            TokenOutcome::Skipped => "skipped",
            TokenOutcome::Manual => "manual",
            TokenOutcome::Blocked => "blocked",
        }
    }
}

/// The result for one token.
#[derive(Debug, Clone)]
pub struct TokenResult {
    /// Manifest id.
    pub id: String,
    /// How it ended.
    pub outcome: TokenOutcome,
    /// Why, in words.
    pub detail: String,
    /// What happened on the way (a lost value recovered, a call not repeated…).
    pub notes: Vec<String>,
}

impl TokenResult {
    /// A result.
    pub fn new(id: &str, outcome: TokenOutcome, detail: String) -> Self {
        TokenResult {
            id: id.to_string(),
            outcome,
            detail,
            notes: Vec::new(),
        }
    }

    /// A finished token.
    pub fn done(id: &str, detail: &str) -> Self {
        TokenResult::new(id, TokenOutcome::Done, detail.to_string())
    }
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Per token, sorted by id.
    pub results: Vec<TokenResult>,
    /// Manual steps left to people.
    pub checklist: Vec<String>,
    /// Time spent making the ledger durable.
    pub flush_time: Duration,
    /// Durable ledger writes.
    pub flushes: u64,
    /// Time rotations waited for their ledger changes to become durable, summed over them.
    pub flush_wait: Duration,
    /// Wall time of the run.
    pub wall_time: Duration,
    /// `--target`: the only tokens this run looked at, comma-separated.
    pub partial: Option<String>,
}

impl ApplyReport {
    /// True when every token that had work is done (manual-mode tokens count as handed over).
    pub fn all_done(&self) -> bool {
        self.results
            .iter()
            .all(|r| matches!(r.outcome, TokenOutcome::Done | TokenOutcome::Manual))
    }

    /// Number of results with `outcome`.
    pub fn count(&self, outcome: TokenOutcome) -> usize {
        self.results.iter().filter(|r| r.outcome == outcome).count()
    }
}

/// How the summary is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SummaryFormat {
    /// Lines for people.
    #[default]
    Text,
    /// The [`SummaryDoc`] JSON document, for pipelines and audit.
    Json,
}

/// Version of the apply summary's JSON shape; bumped on any incompatible change.
pub const SUMMARY_FORMAT: u32 = 1;

/// The apply summary as a JSON document (`apply --format json`). Never a value.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SummaryDoc<'a> {
    /// [`SUMMARY_FORMAT`].
    pub format: u32,
    /// Every token that had work is done (manual-mode tokens count as handed over); `apply`
    /// exits 0 exactly when this is true.
    pub all_done: bool,
    /// How many tokens ended each way.
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    /// One entry per token, sorted by id.
    pub tokens: Vec<TokenDoc<'a>>,
    /// The manual steps left to people, each naming its token and where its new value is.
    pub manual_steps: &'a [String],
    /// Durable ledger writes made by the run.
    pub ledger_flushes: u64,
    /// Wall time of the run, in milliseconds.
    pub wall_time_ms: u128,
}

/// One token in [`SummaryDoc`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenDoc<'a> {
    /// Manifest id.
    pub id: &'a str,
    /// `done`, `pending`, `failed`, `skipped`, `manual` or `blocked`.
    pub outcome: TokenOutcome,
    /// Why, in words.
    pub detail: &'a str,
    /// What happened on the way.
    pub notes: &'a [String],
}

const OUTCOMES: [TokenOutcome; 6] = [
    TokenOutcome::Done,
    TokenOutcome::Pending,
    TokenOutcome::Failed,
    TokenOutcome::Skipped,
    TokenOutcome::Manual,
    TokenOutcome::Blocked,
];

/// The JSON document of `report`.
pub fn json(report: &ApplyReport) -> String {
    let doc = SummaryDoc {
        format: SUMMARY_FORMAT,
        all_done: report.all_done(),
        counts: OUTCOMES
            .iter()
            .map(|o| (o.label(), report.count(*o)))
            .collect(),
        tokens: report
            .results
            .iter()
            .map(|r| TokenDoc {
                id: &r.id,
                outcome: r.outcome,
                detail: &r.detail,
                notes: &r.notes,
            })
            .collect(),
        manual_steps: &report.checklist,
        ledger_flushes: report.flushes,
        wall_time_ms: report.wall_time.as_millis(),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

/// Writes the summary in `format`.
pub fn write(
    report: &ApplyReport,
    format: SummaryFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        SummaryFormat::Text => print(report, out),
        SummaryFormat::Json => out.write_all(json(report).as_bytes()),
    }
}

/// Prints the summary.
pub fn print(report: &ApplyReport, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(ids) = &report.partial {
        writeln!(
            out,
            "Partial run (--target {ids}): no other token was planned, rotated or resumed."
        )?;
    }
    if report.results.is_empty() {
        match report.partial {
            Some(_) => writeln!(out, "Nothing to apply: every targeted token is in sync.")?,
            None => writeln!(out, "Nothing to apply: every declared token is in sync.")?,
        }
        return Ok(());
    }
    for result in &report.results {
        writeln!(
            out,
            "{:<8} {}: {}",
            result.outcome.label(),
            result.id,
            crate::text::one_line(&result.detail)
        )?;
        for note in &result.notes {
            writeln!(out, "         note: {}", crate::text::one_line(note))?;
        }
    }
    if !report.checklist.is_empty() {
        writeln!(out)?;
        writeln!(out, "Manual steps left to a person:")?;
        for item in &report.checklist {
            writeln!(out, "  - [ ] {}", crate::text::one_line(item))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(report))?;
    Ok(())
}

/// The closing line: the count of each outcome that occurred (tokens), then the manual steps
/// left to people (checklist items), named so that the two are never confused.
pub fn summary_line(report: &ApplyReport) -> String {
    let outcomes = [
        (TokenOutcome::Done, "done"),
        (TokenOutcome::Pending, "pending"),
        (TokenOutcome::Failed, "failed"),
        (TokenOutcome::Skipped, "skipped"),
        (TokenOutcome::Manual, "handed to a person (manual mode)"),
        (TokenOutcome::Blocked, "blocked"),
    ];
    let parts: Vec<String> = outcomes
        .iter()
        .map(|(o, words)| (report.count(*o), words))
        .filter(|(n, _)| *n > 0)
        .map(|(n, words)| format!("{n} {words}"))
        .collect();
    let mut line = format!("Summary: {}", parts.join(", "));
    match report.checklist.len() {
        0 => line.push('.'),
        1 => line.push_str("; 1 manual step left to a person (listed above)."),
        n => line.push_str(&format!(
            "; {n} manual steps left to a person (listed above)."
        )),
    }
    line
}
