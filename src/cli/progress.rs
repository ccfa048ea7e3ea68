//! The progress bar the CLI draws on stderr, only when stderr is a terminal and `--quiet` is
//! not given; piped output gets nothing extra.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::{Progress, ProgressSink};

struct Bar(Mutex<Option<ProgressBar>>);

impl ProgressSink for Bar {
    fn begin(&self, label: &str, total: u64) {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>20} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, steps: u64) {
        if let Ok(slot) = self.0.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(steps);
        }
    }

    fn end(&self) {
        if let Ok(mut slot) = self.0.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}

/// `--quiet`, as the command line gave it (set once by `cli::run`).
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records `--quiet` for [`progress`].
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A bar on stderr when it is a terminal and `--quiet` was not given; otherwise nothing.
pub fn progress() -> Progress {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return Progress::default();
    }
    Progress::to(Arc::new(Bar(Mutex::new(None))))
}
