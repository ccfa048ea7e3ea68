//! The `http` ledger backend: the ledger document kept in a GitLab-managed Terraform state
//! (`/projects/:id/terraform/state/:name`), so CI jobs on throwaway runners share one ledger.
//! The state's lock is the ledger's lock: taken before the first write, released at the end,
//! and a lock held by another run names its holder and how to release it.

use std::time::Duration;

use jiff::Timestamp;

use super::{Ledger, LedgerError};
use crate::gitlab::{GitLabClient, LockInfo};
use crate::http::ApiError;

/// Where a Terraform state lives, parsed from its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateAddress {
    /// The GitLab base URL (before `/api/v4`).
    pub base: String,
    /// The project id or full path.
    pub project: String,
    /// The state's name.
    pub name: String,
}

impl StateAddress {
    /// Parses `https://HOST[/PREFIX]/api/v4/projects/ID/terraform/state/NAME`.
    pub fn parse(address: &str) -> Result<StateAddress, LedgerError> {
        let bad = || LedgerError::Address {
            address: address.to_string(),
        };
        let (base, rest) = address.split_once("/api/v4/projects/").ok_or_else(bad)?;
        let (project, name) = rest.split_once("/terraform/state/").ok_or_else(bad)?;
        let name = name.trim_end_matches('/');
        if base.is_empty() || project.is_empty() || name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        let project = url::form_urlencoded::parse(format!("p={project}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| project.to_string());
        Ok(StateAddress {
            base: base.to_string(),
            project,
            name: name.to_string(),
        })
    }
}

/// A ledger held in a Terraform state, locked by this run.
#[derive(Debug)]
pub struct HttpLedger {
    client: GitLabClient,
    address: StateAddress,
    lock_id: String,
    released: bool,
}

impl HttpLedger {
    /// Reads the ledger without taking the lock (what `plan` needs).
    pub async fn read_unlocked(
        client: &GitLabClient,
        address: &StateAddress,
    ) -> Result<Ledger, LedgerError> {
        read(client, address).await
    }

    /// Takes the state's lock for `operation`, waiting up to `wait` for another holder to
    /// release it (zero: fail at once, naming the holder).
    pub async fn lock(
        client: GitLabClient,
        address: StateAddress,
        operation: &str,
        holder: &str,
        now: Timestamp,
        wait: Duration,
    ) -> Result<HttpLedger, LedgerError> {
        let lock_id = format!("{:032x}", rand::random::<u128>());
        let info = LockInfo {
            id: lock_id.clone(),
            operation: operation.to_string(),
            info: holder.to_string(),
            who: holder.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: now.to_string(),
            path: address.name.clone(),
        };
        let step = Duration::from_millis(500);
        let mut waited = Duration::ZERO;
        loop {
            match client
                .lock_state(&address.project, &address.name, &info)
                .await
            {
                Ok(_) => break,
                Err(ApiError::LockHeld { .. }) if waited < wait => {
                    tokio::time::sleep(step).await;
                    waited += step;
                }
                Err(source) => return Err(LedgerError::Http { source }),
            }
        }
        Ok(HttpLedger {
            client,
            address,
            lock_id,
            released: false,
        })
    }

    /// Reads the ledger.
    pub async fn read(&self) -> Result<Ledger, LedgerError> {
        read(&self.client, &self.address).await
    }

    /// Replaces the ledger (under this run's lock). The platform keeps every version.
    pub async fn write(&self, ledger: &Ledger) -> Result<(), LedgerError> {
        let bytes =
            super::document::to_bytes(ledger, false).map_err(|source| LedgerError::Corrupt {
                path: self.describe(),
                source,
            })?;
        self.client
            .put_state(
                &self.address.project,
                &self.address.name,
                bytes,
                Some(&self.lock_id),
            )
            .await
            .map_err(|source| LedgerError::Http { source })
    }

    /// Releases the lock.
    pub async fn unlock(self) -> Result<(), LedgerError> {
        self.client
            .unlock_state(
                &self.address.project,
                &self.address.name,
                Some(&self.lock_id),
            )
            .await
            .map_err(|source| LedgerError::Http { source })
    }

    /// `project P state N`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "project {} Terraform state {}",
            self.address.project, self.address.name
        )
    }
}

async fn read(client: &GitLabClient, address: &StateAddress) -> Result<Ledger, LedgerError> {
    let bytes = client
        .get_state(&address.project, &address.name)
        .await
        .map_err(|source| LedgerError::Http { source })?;
    match bytes {
        None => Ok(Ledger::default()),
        Some(bytes) => super::document::parse(
            &bytes,
            &format!(
                "project {} Terraform state {}",
                address.project, address.name
            ),
        ),
    }
}

impl Drop for HttpLedger {
    /// A run that ends without [`HttpLedger::unlock`] (an early error) still releases the lock
    /// when it can; a process that is killed leaves it held, as a crash must, and the next run
    /// names the holder and how to release it.
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("the shared ledger's lock {} was left held", self.lock_id);
            return;
        };
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            tracing::warn!("the shared ledger's lock {} was left held", self.lock_id);
            return;
        }
        let client = self.client.clone();
        let address = self.address.clone();
        let lock_id = self.lock_id.clone();
        let released = tokio::task::block_in_place(|| {
            handle.block_on(async move {
                client
                    .unlock_state(&address.project, &address.name, Some(&lock_id))
                    .await
            })
        });
        if let Err(err) = released {
            tracing::warn!("could not release the shared ledger's lock: {err}");
        }
    }
}
