//! The `local` ledger backend: one JSON file, replaced atomically (temporary file in the same
//! directory, fsync, rename, fsync of the directory) and guarded by an exclusive lock on a
//! sibling `.lock` file, so a second `apply` fails fast (or waits) instead of racing.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Ledger, LedgerError};

/// An exclusive hold on a local ledger; released on drop.
#[derive(Debug)]
pub struct LocalLedger {
    path: PathBuf,
    lock: File,
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

impl LocalLedger {
    /// Takes the lock next to `path`, waiting up to `wait` (zero: fail at once). `holder`
    /// describes this run (pid, host, start time) for whoever finds the lock taken.
    pub fn lock(path: &Path, holder: &str, wait: Duration) -> Result<LocalLedger, LockError> {
        let lock_path = lock_path(path);
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LockError::Io {
                path: lock_path.display().to_string(),
                source,
            })?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|source| LockError::Io {
                path: lock_path.display().to_string(),
                source,
            })?;
        let step = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if waited < wait => {
                    std::thread::sleep(step);
                    waited += step;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    return Err(LockError::Held {
                        path: path.display().to_string(),
                        holder: if holder.trim().is_empty() {
                            "holder unknown".to_string()
                        } else {
                            holder.trim().to_string()
                        },
                    });
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(LockError::Io {
                        path: lock_path.display().to_string(),
                        source,
                    });
                }
            }
        }
        // Record who holds it; failure to write the note does not weaken the lock.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = file.write_all(holder.as_bytes());
        let _ = file.sync_data();
        Ok(LocalLedger {
            path: path.to_path_buf(),
            lock: file,
        })
    }

    /// Reads the ledger (empty when the file does not exist yet).
    pub fn read(&self) -> Result<Ledger, LedgerError> {
        Ledger::read_local(&self.path)
    }

    /// Replaces the ledger durably: when this returns, the new document survives a crash.
    pub fn write(&self, ledger: &Ledger) -> Result<(), LedgerError> {
        write_atomic(&self.path, ledger).map_err(|source| LedgerError::Io {
            path: self.path.display().to_string(),
            source,
        })
    }

    /// The ledger path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalLedger {
    fn drop(&mut self) {
        let _ = self.lock.set_len(0);
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

fn write_atomic(path: &Path, ledger: &Ledger) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let bytes = serde_json::to_vec_pretty(ledger).map_err(std::io::Error::other)?;
    let mut tmp_name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    {
        let mut file = File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // Make the rename itself durable.
    File::open(dir)?.sync_all()?;
    Ok(())
}
