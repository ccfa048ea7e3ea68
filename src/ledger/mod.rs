//! The ledger: what tokenops remembers between runs, never a secret in clear.
//!
//! For each declared token it keeps the platform id tokenops last saw, when the value was last
//! replaced, the keyed fingerprint of the current value and of what each write-only consumer
//! was given, and an unfinished rotation if there is one. The plan reads it; apply writes it.

pub mod document;
pub mod gitlab;
pub mod http;
pub mod local;

use std::collections::BTreeMap;
use std::path::Path;

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use jiff::civil::Date;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The ledger document (also the body stored by the `http` backend).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Ledger {
    /// Increases with every write (the Terraform-state protocol reads it as the version).
    #[serde(default)]
    pub serial: u64,
    /// Random key for the keyed fingerprints below (hex); made on the first write.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint_key: String,
    /// Records by manifest token id.
    #[serde(default)]
    pub tokens: BTreeMap<String, LedgerToken>,
}

/// What is remembered about one token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LedgerToken {
    /// Platform id of the record tokenops last created or rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_id: Option<String>,
    /// When tokenops last replaced the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_at: Option<Timestamp>,
    /// The expiry tokenops gave the current value (generated secrets have no platform record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Date>,
    /// Keyed fingerprint of the current value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Keyed fingerprint of what each consumer was last given, by consumer key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub consumers: BTreeMap<String, String>,
    /// An unfinished rotation, which apply completes before anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingRotation>,
}

/// A rotation that started and has not finished.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingRotation {
    /// The last step that completed.
    pub step: Step,
    /// When the rotation started.
    pub started_at: Timestamp,
    /// How the new value is obtained: the plan's action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Obtain>,
    /// The live record to retire once every consumer holds the new value, as the plan
    /// decided (overlap, pipeline triggers, Zendesk OAuth tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire: Option<String>,
    /// The consumers to write, by key, as the plan listed them (every written consumer of
    /// the token when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<String>,
    /// A recovery under way, when the first call's value was lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
    /// Platform id of the record being replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_platform_id: Option<String>,
    /// Ids of the records with the token's name that existed when the intent was written, so
    /// a create whose answer was lost can be told apart from older records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_ids: Vec<String>,
    /// Platform id of the new record, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_platform_id: Option<String>,
    /// The new value, age-encrypted to the escrow recipient (ASCII armor); dropped at finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<String>,
    /// Keyed fingerprint of the new value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The username the new value signs in with (deploy tokens), fixed with the intent so
    /// that a resumed run gives consumers the username the new record was created with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Expiry of the new value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_expires_at: Option<Date>,
    /// Keyed fingerprints of what each consumer was given and verified to hold, by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub verified: BTreeMap<String, String>,
    /// What happened on the way, for the run summary (a lost value recovered, and so on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl PendingRotation {
    /// A fresh rotation at the intent step.
    pub fn intent(started_at: Timestamp, action: Obtain) -> PendingRotation {
        PendingRotation {
            step: Step::Intent,
            started_at,
            action: Some(action),
            retire: None,
            consumers: Vec::new(),
            recovery: None,
            old_platform_id: None,
            known_ids: Vec::new(),
            new_platform_id: None,
            escrow: None,
            fingerprint: None,
            username: None,
            new_expires_at: None,
            verified: BTreeMap::new(),
            notes: Vec::new(),
        }
    }
}

/// How a rotation obtains its new value: the plan's typed action, recorded with the intent.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Obtain {
    /// The platform's rotate (or secret reset) call: the old value dies at once.
    Rotate,
    /// A new record next to the old one (overlap, replaceable kinds, generated secrets).
    #[serde(alias = "generate")]
    Create,
    /// A new record for one that is expired, revoked or missing.
    Recreate,
    /// A value a person obtained by hand (`apply --provide`).
    Provide,
}

impl Obtain {
    /// The action in words.
    pub fn label(self) -> &'static str {
        match self {
            Obtain::Rotate => "rotate",
            Obtain::Create => "create",
            Obtain::Recreate => "recreate",
            Obtain::Provide => "provide",
        }
    }
}

/// A recovery the rotation is in the middle of.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recovery {
    /// The value of new record `record` was lost; it is being rotated again by id.
    LostValue {
        /// The record whose value nobody knows.
        record: String,
    },
}

/// Steps of the rotation protocol, in order.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// About to obtain the new value.
    Intent,
    /// The new value is obtained and escrowed.
    Staged,
    /// Every consumer was written.
    Distributed,
    /// Every consumer was verified.
    Verified,
}

impl Step {
    /// The step's name as shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Step::Intent => "intent recorded",
            Step::Staged => "new value staged",
            Step::Distributed => "consumers written",
            Step::Verified => "consumers verified",
        }
    }
}

/// A ledger file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The file exists but could not be read.
    #[error("cannot read the ledger {path}: {source}")]
    Io {
        /// The ledger path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The local ledger's lock is held by another run.
    #[error(transparent)]
    Lock(#[from] local::LockError),
    /// The `http` backend's address is not a GitLab Terraform state address.
    #[error(
        "the state address `{address}` is not a GitLab Terraform state address; write it like \
         https://gitlab.com/api/v4/projects/42/terraform/state/tokenops"
    )]
    Address {
        /// The address as configured.
        address: String,
    },
    /// The `http` backend failed (its message names the lock holder when it is locked).
    #[error("the shared ledger: {source}")]
    Http {
        /// The platform error.
        #[source]
        source: crate::http::ApiError,
    },
    /// The file is not a ledger document.
    #[error(
        "the ledger {path} is not valid ({source}); restore it from the previous CI artifact or \
         the state backend's history, never delete it while a rotation is pending"
    )]
    Corrupt {
        /// The ledger path.
        path: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The document is JSON but not a ledger (a list, `{}`, a Terraform state, …).
    #[error(
        "{path} is not a tokenops ledger: {reason}. It was not read and will not be \
         overwritten; nothing was changed. Restore the ledger from the previous CI artifact or \
         the state backend's history (a ledger holds `format`, `serial` and `tokens`), or point \
         `state:` in tokenops.yaml at the right file"
    )]
    NotALedger {
        /// The ledger path.
        path: String,
        /// What is wrong with its shape.
        reason: String,
    },
    /// A ledger written by a newer version of tokenops.
    #[error(
        "the ledger {path} has format {format}, written by a newer tokenops than this one \
         (which reads format {current}); it was not read and will not be overwritten. Run the \
         newer tokenops",
        current = document::FORMAT
    )]
    NewerFormat {
        /// The ledger path.
        path: String,
        /// Its format version.
        format: u64,
    },
    /// The ledger could not be written (read-only file or directory, full disk).
    #[error(
        "cannot write the ledger {path}: {reason}{}. The ledger on disk is the one from this \
         run's last successful write; what the run did after it is not recorded there (a value \
         already obtained was still written to its consumers). {fix}, then run apply again at \
         once: it finishes every rotation the ledger shows as unfinished, re-reading the \
         platform where an answer was not recorded",
        if *leftover { "" } else { " (no temporary file was left behind)" }
    )]
    Write {
        /// The ledger path.
        path: String,
        /// The operating system's words.
        reason: String,
        /// What to do about it.
        fix: &'static str,
        /// Whether a temporary file could not be removed.
        leftover: bool,
    },
}

impl LedgerError {
    /// The error for a failed write of the ledger at `path`.
    pub fn write(path: &Path, err: &std::io::Error, leftover: bool) -> LedgerError {
        let fix = match err.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => "Free disk space where the ledger lives",
            Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS) => {
                "Make the ledger file and its directory writable for this user"
            }
            _ => "Fix the cause above",
        };
        LedgerError::Write {
            path: path.display().to_string(),
            reason: err.to_string(),
            fix,
            leftover,
        }
    }

    /// The error in one clause, for a per-token line of a summary whose end gives the whole
    /// message once.
    pub fn brief(&self) -> String {
        match self {
            LedgerError::Write { path, reason, .. } => {
                format!("cannot write the ledger {path}: {reason}")
            }
            other => other.to_string(),
        }
    }

    /// Whether this error is a failed write (work may have been done that the ledger on disk
    /// does not show yet).
    pub fn is_write(&self) -> bool {
        matches!(self, LedgerError::Write { .. })
    }
}

/// Where the ledger is kept, resolved at the edge from `state:` in tokenops.yaml.
#[derive(Debug, Clone)]
pub enum LedgerSource {
    /// A local JSON file.
    Local(std::path::PathBuf),
    /// A GitLab Terraform state, with a client allowed to read (and lock) it.
    Http {
        /// Client for the GitLab that serves the state.
        client: crate::gitlab::GitLabClient,
        /// The state.
        address: http::StateAddress,
    },
}

/// A ledger this run holds exclusively (its lock taken), on either backend.
#[derive(Debug)]
pub enum HeldLedger {
    /// A local file under an OS lock (released when dropped, or when the process dies).
    Local(std::sync::Arc<local::LocalLedger>),
    /// A Terraform state under its HTTP lock (released by [`HeldLedger::release`]).
    Http(http::HttpLedger),
}

impl HeldLedger {
    /// Takes the lock of `source`, waiting up to `wait` for another holder.
    pub async fn acquire(
        source: &LedgerSource,
        holder: &str,
        now: jiff::Timestamp,
        wait: std::time::Duration,
    ) -> Result<HeldLedger, LedgerError> {
        match source {
            LedgerSource::Local(path) => {
                let path = path.clone();
                let holder = holder.to_string();
                let held = tokio::task::spawn_blocking(move || {
                    local::LocalLedger::lock(&path, &holder, wait)
                })
                .await
                .map_err(|e| LedgerError::Io {
                    path: "ledger lock".to_string(),
                    source: std::io::Error::other(e),
                })??;
                Ok(HeldLedger::Local(std::sync::Arc::new(held)))
            }
            LedgerSource::Http { client, address } => Ok(HeldLedger::Http(
                http::HttpLedger::lock(client.clone(), address.clone(), "apply", holder, now, wait)
                    .await?,
            )),
        }
    }

    /// Reads the ledger.
    pub async fn read(&self) -> Result<Ledger, LedgerError> {
        match self {
            HeldLedger::Local(file) => file.read(),
            HeldLedger::Http(state) => state.read().await,
        }
    }

    /// Replaces the ledger durably: when this returns, the new document survives a crash.
    /// A local write runs on a blocking thread, so that other rotations polled by the same
    /// task keep going (and pile their changes up for the next write).
    pub async fn write(&self, ledger: &Ledger) -> Result<(), LedgerError> {
        match self {
            HeldLedger::Local(file) => {
                let file = file.clone();
                let document = ledger.clone();
                let path = file.path().to_path_buf();
                tokio::task::spawn_blocking(move || file.write(&document))
                    .await
                    .map_err(|e| LedgerError::write(&path, &std::io::Error::other(e), false))?
            }
            HeldLedger::Http(state) => state.write(ledger).await,
        }
    }

    /// Releases the lock.
    pub async fn release(self) -> Result<(), LedgerError> {
        match self {
            HeldLedger::Local(file) => {
                drop(file);
                Ok(())
            }
            HeldLedger::Http(state) => state.unlock().await,
        }
    }
}

impl LedgerSource {
    /// Reads the ledger without locking it.
    pub async fn read(&self) -> Result<Ledger, LedgerError> {
        match self {
            LedgerSource::Local(path) => Ledger::read_local(path),
            LedgerSource::Http { client, address } => {
                http::HttpLedger::read_unlocked(client, address).await
            }
        }
    }
}

impl Ledger {
    /// Reads a local ledger file; a missing file is an empty ledger (the first run), anything
    /// but a ledger document is an error (see [`document`]).
    pub fn read_local(path: &Path) -> Result<Ledger, LedgerError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Ledger::default()),
            Err(source) => {
                return Err(LedgerError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        document::parse(&bytes, &path.display().to_string())
    }

    /// Keyed fingerprint of a secret value: HMAC-SHA256 under the ledger's key, so the ledger
    /// can say "this consumer holds the current value" without holding anything that helps
    /// guess it. `None` until the ledger has a key.
    pub fn fingerprint(&self, value: &SecretString) -> Option<String> {
        if self.fingerprint_key.is_empty() {
            return None;
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(self.fingerprint_key.as_bytes()).ok()?;
        mac.update(value.expose_secret().as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Some(format!("hmac-sha256:{hex}"))
    }

    /// The record of one token, if any.
    pub fn token(&self, id: &str) -> Option<&LedgerToken> {
        self.tokens.get(id)
    }
}
