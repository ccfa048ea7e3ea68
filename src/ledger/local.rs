//! The `local` ledger backend: one JSON file, replaced atomically (temporary file in the same
//! directory, fsync, rename, fsync of the directory; the temporary file removed whatever
//! fails) and guarded by an exclusive lock on a sibling `.lock` file, so a second `apply`
//! fails fast (or waits) instead of racing. A file that is not a ledger is never replaced.
//!
//! The lock file always holds its holder's note: a holder writes the note into a fresh file,
//! locks it, and only then puts it in place (a link when there is none, a rename over one a
//! crashed run left), and removes it when it lets go. So whoever finds the lock taken reads a
//! complete note, never an empty one; a reader trusts the note only while the file it read is
//! still the one in place.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::{Ledger, LedgerError};

/// An exclusive hold on a local ledger; released on drop.
#[derive(Debug)]
pub struct LocalLedger {
    path: PathBuf,
    lock: File,
    /// What the file looked like when this run last read or wrote it, so that a write can
    /// tell whether someone else replaced it since (and then check it is still a ledger).
    seen: Mutex<Option<Stamp>>,
}

/// Why the ledger lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error(
        "the ledger {path} is locked by another tokenops run ({holder}); wait for it to finish, \
         or pass --lock-timeout to wait. If that run crashed, the lock is released with its \
         process: no file needs deleting"
    )]
    Held {
        /// The ledger path.
        path: String,
        /// What the holder wrote into the lock file.
        holder: String,
    },
    /// The lock file could not be opened.
    #[error("cannot open the ledger lock {path}: {source}")]
    Io {
        /// The lock path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Identity and size of a file: what changes when someone else replaces or edits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// What one attempt at the lock came to.
enum Attempt {
    Taken(File),
    Held(String),
    Retry,
}

impl LocalLedger {
    /// Takes the lock next to `path`, waiting up to `wait` (zero: fail at once). `holder`
    /// describes this run (pid, host, start time) for whoever finds the lock taken.
    pub fn lock(path: &Path, holder: &str, wait: Duration) -> Result<LocalLedger, LockError> {
        let lock_path = lock_path(path);
        let io = |source| LockError::Io {
            path: lock_path.display().to_string(),
            source,
        };
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let step = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        loop {
            match attempt(&lock_path, holder).map_err(io)? {
                Attempt::Taken(file) => {
                    let held = LocalLedger {
                        path: path.to_path_buf(),
                        lock: file,
                        seen: Mutex::new(None),
                    };
                    held.remove_leftovers();
                    return Ok(held);
                }
                Attempt::Retry => continue,
                Attempt::Held(_) if waited < wait => {
                    std::thread::sleep(step);
                    waited += step;
                }
                Attempt::Held(note) => {
                    return Err(LockError::Held {
                        path: path.display().to_string(),
                        holder: if note.trim().is_empty() {
                            "holder unknown".to_string()
                        } else {
                            crate::text::echo(note.trim())
                        },
                    });
                }
            }
        }
    }

    /// Reads the ledger (empty when the file does not exist yet).
    pub fn read(&self) -> Result<Ledger, LedgerError> {
        let stamp = std::fs::metadata(&self.path).ok().map(|m| Stamp::of(&m));
        let ledger = Ledger::read_local(&self.path)?;
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = stamp;
        Ok(ledger)
    }

    /// Replaces the ledger durably: when this returns, the new document survives a crash.
    /// A file someone else put in place since this run read it is replaced only if it is
    /// still a ledger.
    pub fn write(&self, ledger: &Ledger) -> Result<(), LedgerError> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(meta) = std::fs::metadata(&self.path)
            && *seen != Some(Stamp::of(&meta))
        {
            Ledger::read_local(&self.path)?;
        }
        let stamp = write_atomic(&self.path, ledger)?;
        *seen = Some(stamp);
        Ok(())
    }

    /// The ledger path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes temporary files an earlier run left when it was killed mid-write (this run
    /// holds the lock, so no other writer owns a ledger's temporary file).
    fn remove_leftovers(&self) {
        let (Some(dir), Some(name)) = (parent(&self.path), self.path.file_name()) else {
            return;
        };
        let prefix = format!("{}.tmp-", name.to_string_lossy());
        let lock_prefix = format!("{}.lock.tmp-", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            // A lock note being prepared belongs to a run racing for the lock right now;
            // only one left long ago by a killed run is litter.
            let stale_note = file_name.starts_with(&lock_prefix)
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(600));
            if file_name.starts_with(&prefix) || stale_note {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// One try at the lock at `lock_path`.
fn attempt(lock_path: &Path, holder: &str) -> std::io::Result<Attempt> {
    match File::open(lock_path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            // No lock file yet: put ours in place, note and lock included, or lose the race.
            let fresh = fresh_note(lock_path, holder)?;
            let linked = std::fs::hard_link(&fresh.path, lock_path);
            let _ = std::fs::remove_file(&fresh.path);
            match linked {
                Ok(()) => Ok(Attempt::Taken(fresh.file)),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(Attempt::Retry),
                Err(err) => Err(err),
            }
        }
        Err(err) => Err(err),
        Ok(mut current) => match current.try_lock() {
            Ok(()) => {
                // Released by its last holder. Still the file in place? Then replace it with
                // ours, locked before it becomes visible, while holding the old one.
                if !still_in_place(&current, lock_path)? {
                    return Ok(Attempt::Retry);
                }
                let fresh = fresh_note(lock_path, holder)?;
                if let Err(err) = std::fs::rename(&fresh.path, lock_path) {
                    let _ = std::fs::remove_file(&fresh.path);
                    return Err(err);
                }
                drop(current);
                Ok(Attempt::Taken(fresh.file))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut note = String::new();
                let _ = current.read_to_string(&mut note);
                // A run taking over a crashed run's file holds it for the instant before its
                // own replaces it: trust the note only if the file is still there a moment on.
                if still_in_place(&current, lock_path)? {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if still_in_place(&current, lock_path)? {
                    Ok(Attempt::Held(note))
                } else {
                    Ok(Attempt::Retry)
                }
            }
            Err(std::fs::TryLockError::Error(err)) => Err(err),
        },
    }
}

fn still_in_place(file: &File, path: &Path) -> std::io::Result<bool> {
    let open = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(now) => Ok(same_file(&open, &now)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

struct Fresh {
    path: PathBuf,
    file: File,
}

/// A new file next to the lock holding `holder`, synced and locked by this process.
fn fresh_note(lock_path: &Path, holder: &str) -> std::io::Result<Fresh> {
    let mut name = lock_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(
        ".tmp-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let path = lock_path.with_file_name(name);
    let result = (|| {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(holder.as_bytes())?;
        file.sync_data()?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::Error(err)) => Err(err),
            Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::other(
                "a brand-new lock file was locked by someone else",
            )),
        }
    })();
    match result {
        Ok(file) => Ok(Fresh { path, file }),
        Err(err) => {
            let _ = std::fs::remove_file(&path);
            Err(err)
        }
    }
}

impl Drop for LocalLedger {
    fn drop(&mut self) {
        // Remove the file (with its note) while still holding it, then let go: a file in
        // place is always a live holder's, or a crashed one's.
        let lock_path = lock_path(&self.path);
        if still_in_place(&self.lock, &lock_path).unwrap_or(false) {
            let _ = std::fs::remove_file(&lock_path);
        }
        let _ = self.lock.unlock();
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

fn parent(path: &Path) -> Option<&Path> {
    Some(
        path.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )
}

/// Writes `ledger` to a temporary file and renames it over `path`; whatever fails, the
/// temporary file does not stay behind.
fn write_atomic(path: &Path, ledger: &Ledger) -> Result<Stamp, LedgerError> {
    let dir = parent(path).unwrap_or(Path::new("."));
    let failed = |err: std::io::Error, leftover: bool| LedgerError::write(path, &err, leftover);
    std::fs::create_dir_all(dir).map_err(|e| failed(e, false))?;
    let bytes = super::document::to_bytes(ledger, true)
        .map_err(|e| failed(std::io::Error::other(e), false))?;
    let mut tmp_name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(err) = written {
        let leftover = std::fs::remove_file(&tmp)
            .err()
            .is_some_and(|e| e.kind() != std::io::ErrorKind::NotFound);
        return Err(failed(err, leftover));
    }
    // Make the rename itself durable.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| failed(e, false))?;
    let meta = std::fs::metadata(path).map_err(|e| failed(e, false))?;
    Ok(Stamp::of(&meta))
}
