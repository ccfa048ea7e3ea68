//! The ledger as apply holds it: the in-memory document behind a mutex, and durable writes
//! with group commit. Every change waits until a write that includes it has reached the disk
//! (temporary file, fsync, rename); changes made while a write is in flight are carried by the
//! next one, so many concurrent rotations share one write instead of queueing one each.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::ledger::{HeldLedger, Ledger, LedgerError, LedgerToken};

/// The locked ledger plus its in-memory copy.
pub struct Store {
    file: HeldLedger,
    state: Mutex<(Ledger, u64)>,
    flushed: AtomicU64,
    writer: tokio::sync::Mutex<()>,
    flush_nanos: AtomicU64,
    flushes: AtomicU64,
    wait_nanos: AtomicU64,
}

impl Store {
    /// Wraps a held ledger and the document read from it.
    pub fn new(file: HeldLedger, ledger: Ledger) -> Store {
        Store {
            file,
            state: Mutex::new((ledger, 0)),
            flushed: AtomicU64::new(0),
            writer: tokio::sync::Mutex::new(()),
            flush_nanos: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            wait_nanos: AtomicU64::new(0),
        }
    }

    /// A copy of the document.
    pub fn snapshot(&self) -> Ledger {
        self.lock().0.clone()
    }

    /// Reads something from the document.
    pub fn read<R>(&self, f: impl FnOnce(&Ledger) -> R) -> R {
        f(&self.lock().0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Ledger, u64)> {
        // A panic while holding the lock leaves a consistent document (every change is one
        // closure); keep going with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the record of `id` and returns once the change is on disk.
    pub async fn commit(
        &self,
        id: &str,
        change: impl FnOnce(&mut LedgerToken),
    ) -> Result<(), LedgerError> {
        self.commit_doc(|ledger| change(ledger.tokens.entry(id.to_string()).or_default()))
            .await
    }

    /// Changes the record of `id` in memory only; the next durable write carries it. For
    /// steps that are safe to redo after a crash (consumer writes are idempotent).
    pub fn record(&self, id: &str, change: impl FnOnce(&mut LedgerToken)) {
        let mut state = self.lock();
        change(state.0.tokens.entry(id.to_string()).or_default());
        state.0.serial += 1;
        state.1 += 1;
    }

    /// Writes whatever is not on disk yet.
    pub async fn flush(&self) -> Result<(), LedgerError> {
        self.commit_doc(|_| {}).await
    }

    /// Changes the document and returns once the change is on disk.
    pub async fn commit_doc(&self, change: impl FnOnce(&mut Ledger)) -> Result<(), LedgerError> {
        let asked = Instant::now();
        let result = self.commit_inner(change).await;
        self.wait_nanos
            .fetch_add(asked.elapsed().as_nanos() as u64, Ordering::Relaxed);
        result
    }

    async fn commit_inner(&self, change: impl FnOnce(&mut Ledger)) -> Result<(), LedgerError> {
        let generation = {
            let mut state = self.lock();
            change(&mut state.0);
            state.0.serial += 1;
            state.1 += 1;
            state.1
        };
        let _writer = self.writer.lock().await;
        if self.flushed.load(Ordering::SeqCst) >= generation {
            return Ok(());
        }
        let (document, covered) = {
            let state = self.lock();
            (state.0.clone(), state.1)
        };
        let started = Instant::now();
        self.file.write(&document).await?;
        self.flush_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.flushed.store(covered, Ordering::SeqCst);
        Ok(())
    }

    /// Gives back the held ledger, to release it.
    pub fn into_held(self) -> HeldLedger {
        self.file
    }

    /// Time spent writing the ledger durably, and how many writes.
    pub fn flush_stats(&self) -> (Duration, u64) {
        (
            Duration::from_nanos(self.flush_nanos.load(Ordering::Relaxed)),
            self.flushes.load(Ordering::Relaxed),
        )
    }

    /// Total time callers waited for their changes to become durable (summed over callers).
    pub fn wait_time(&self) -> Duration {
        Duration::from_nanos(self.wait_nanos.load(Ordering::Relaxed))
    }
}
