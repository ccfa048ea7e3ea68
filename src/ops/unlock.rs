//! `tokenops unlock LOCK_ID`: release the shared ledger's lock that a crashed run left held
//! (the `http` backend keeps the lock in GitLab's Terraform state, so a killed job cannot
//! release it). Only the named lock is released: a lock taken since by another run has
//! another id and stays. A `local` ledger's lock is an OS file lock that dies with its
//! process, so there is nothing to release.

use crate::http::ApiError;
use crate::ledger::{LedgerError, LedgerSource};

/// Why the lock could not be released.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    /// The backend keeps no lock to release.
    #[error(
        "the ledger is a local file ({path}); its lock is released when the process holding \
         it ends, so there is nothing to unlock. Stop the other `tokenops apply` instead"
    )]
    Local {
        /// The file.
        path: String,
    },
    /// The lock is held under another id.
    #[error(
        "the shared ledger's lock is held by {who} (lock id {held}, since {since}), not by \
         lock {asked}: another run took it after the crash. Wait for it to finish, or pass \
         that id if it crashed too"
    )]
    Other {
        /// The id asked for.
        asked: String,
        /// The id holding it.
        held: String,
        /// Its holder.
        who: String,
        /// Since when and for what.
        since: String,
    },
    /// The platform refused.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Releases lock `lock_id` of the ledger at `source`.
pub async fn run(source: &LedgerSource, lock_id: &str) -> Result<(), UnlockError> {
    match source {
        LedgerSource::Local(path) => Err(UnlockError::Local {
            path: path.display().to_string(),
        }),
        LedgerSource::Http { client, address } => {
            match client
                .unlock_state(&address.project, &address.name, Some(lock_id))
                .await
            {
                Ok(()) => Ok(()),
                Err(ApiError::LockHeld {
                    lock_id: held,
                    who,
                    since,
                    ..
                }) => Err(UnlockError::Other {
                    asked: lock_id.to_string(),
                    held,
                    who,
                    since,
                }),
                Err(source) => Err(UnlockError::Ledger(LedgerError::Http { source })),
            }
        }
    }
}
