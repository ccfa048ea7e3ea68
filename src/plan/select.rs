//! What a person asked a plan to cover: `--replace ID` (rotate these tokens now, due or not,
//! as Terraform's `-replace` forces a resource) and `--target ID` (plan and apply only these
//! tokens), and the refusals that go with them. The engine reads the selection; this module
//! owns its checks.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{TokenPlan, TokenStatus};

/// The tokens a plan is asked to replace now and the tokens it is limited to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// `--replace`: rotate these now, due or not.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub replace: BTreeSet<String>,
    /// `--target`: only these tokens (empty: every token).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub target: BTreeSet<String>,
}

impl Selection {
    /// True when nothing was asked for: a whole, ordinary plan.
    pub fn is_empty(&self) -> bool {
        self.replace.is_empty() && self.target.is_empty()
    }

    /// Whether the plan covers token `id`.
    pub fn covers(&self, id: &str) -> bool {
        self.target.is_empty() || self.target.contains(id)
    }

    /// Whether token `id` is to be replaced now.
    pub fn replaces(&self, id: &str) -> bool {
        self.replace.contains(id)
    }

    /// The ids named by either flag, each with the flag that named it first.
    fn named(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.replace
            .iter()
            .map(|id| (id.as_str(), "--replace"))
            .chain(
                self.target
                    .iter()
                    .filter(|id| !self.replace.contains(*id))
                    .map(|id| (id.as_str(), "--target")),
            )
    }
}

/// Why a selection cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// An id no manifest declares.
    #[error(
        "{flag} {id}: no manifest declares a token with this id; the declared ids are: \
         {known}. Check the spelling (ids are the `id:` of each entry under `tokens:`)"
    )]
    Unknown {
        /// The flag.
        flag: &'static str,
        /// The id given.
        id: String,
        /// The declared ids, comma-separated.
        known: String,
    },
    /// A token a person must decide about first, or one tokenops never rotates.
    #[error("{flag} {id} ({object}) is refused: {reason}. {fix}")]
    Refused {
        /// The flag.
        flag: &'static str,
        /// The token id.
        id: String,
        /// The platform object in words.
        object: String,
        /// Why.
        reason: String,
        /// What to do instead.
        fix: String,
    },
}

/// Every id named is declared.
pub fn check_known(selection: &Selection, declared: &[&str]) -> Result<(), SelectionError> {
    for (id, flag) in selection.named() {
        if !declared.contains(&id) {
            return Err(SelectionError::Unknown {
                flag,
                id: id.to_string(),
                known: declared.join(", "),
            });
        }
    }
    Ok(())
}

/// Refuses a selection that names a token with scope drift (a person decides first) or a
/// legacy Zendesk API token (nobody can create one by API).
pub fn check_refusals(selection: &Selection, tokens: &[TokenPlan]) -> Result<(), SelectionError> {
    for (id, flag) in selection.named() {
        let Some(token) = tokens.iter().find(|t| t.id == id) else {
            continue;
        };
        let object = if token.platform.is_empty() {
            token.object.clone()
        } else {
            format!("{}: {}", token.platform, token.object)
        };
        let refused = |reason: String, fix: String| SelectionError::Refused {
            flag,
            id: id.to_string(),
            object: object.clone(),
            reason,
            fix,
        };
        match token.status {
            TokenStatus::ScopeDrift => {
                return Err(refused(
                    token.reason.clone(),
                    "Confirm the scopes first: set the entry's `scopes:` to what the token \
                     should carry (or fix them on the platform), run `tokenops plan`, then \
                     ask again"
                        .to_string(),
                ));
            }
            TokenStatus::Legacy => {
                return Err(refused(
                    "a legacy Zendesk API token cannot be created by API, so tokenops never \
                     rotates it"
                        .to_string(),
                    format!(
                        "Make a new API token in Zendesk Admin Center and distribute it with \
                         `tokenops apply --provide {id} --auto-approve` (value on stdin), then \
                         deactivate the old one there; better, migrate with `tokenops import \
                         --migrate-zendesk {id}`"
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
