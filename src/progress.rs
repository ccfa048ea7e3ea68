//! Progress reporting from long operations (discovery, apply) to whoever is watching. The
//! library only calls [`Progress`]; the CLI decides whether a bar is drawn (a terminal, not
//! `--quiet`) and nothing is printed otherwise.

use std::sync::Arc;

/// Receives progress events.
pub trait ProgressSink: Send + Sync {
    /// A phase starts, with how many steps it has.
    fn begin(&self, label: &str, total: u64);
    /// Some steps finished.
    fn advance(&self, steps: u64);
    /// The phase ended.
    fn end(&self);
}

/// A cheap handle to an optional [`ProgressSink`]; the default reports nowhere.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn ProgressSink>>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(on)"
        } else {
            "Progress(off)"
        })
    }
}

impl Progress {
    /// Reports to `sink`.
    pub fn to(sink: Arc<dyn ProgressSink>) -> Self {
        Progress(Some(sink))
    }

    /// See [`ProgressSink::begin`].
    pub fn begin(&self, label: &str, total: u64) {
        if let Some(sink) = &self.0 {
            sink.begin(label, total);
        }
    }

    /// See [`ProgressSink::advance`].
    pub fn advance(&self, steps: u64) {
        if let Some(sink) = &self.0 {
            sink.advance(steps);
        }
    }

    /// See [`ProgressSink::end`].
    pub fn end(&self) {
        if let Some(sink) = &self.0 {
            sink.end();
        }
    }
}
