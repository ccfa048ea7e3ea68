//! `gitlab_project_access_token`: a project access token, owned by the project's bot user.
//! Rotated by id (`POST /projects/:id/access_tokens/:token_id/rotate`) with an explicit expiry,
//! or created (`POST /projects/:id/access_tokens`), which makes a new bot user, with the
//! overlap strategy or when it must be created again.

use async_trait::async_trait;
use jiff::civil::Date;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::resource_access_token::resource_access_token;
use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::ListKey;
use crate::gitlab::{GitLabClient, NewAccessToken, Owner};
use crate::http::ApiError;
use crate::inventory::DiscoveredToken;
use crate::kinds::entry::{key, q, role, scopes, slug};
use crate::kinds::gitlab::{self as gl, GitlabRecords, Record};
use crate::kinds::{
    Issued, KindCheck, ScopeRules, StageCx, Stop, TokenClass, TokenDriver, TokenKindId, TokenMeta,
    UndeclaredEntry,
};
use crate::ledger::PendingRotation;
use crate::manifest::scopes::GITLAB_PROJECT_SCOPES;
use crate::manifest::{AccessLevel, Duration, GitlabOwner, LifetimeLimit};

/// A project access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitlabProjectAccessToken {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project, e.g. `support/ops/zendesk-sync`.
    pub project: String,
    /// Token name (also the bot user's display name).
    pub name: String,
    /// GitLab scopes a project token can carry.
    #[schemars(schema_with = "crate::manifest::scopes::gitlab_project_scopes_schema")]
    pub scopes: Vec<String>,
    /// Role of the token's bot user in the project.
    #[serde(default = "AccessLevel::default_role")]
    pub access_level: AccessLevel,
}

resource_access_token!(
    GitlabProjectAccessToken,
    project,
    Project,
    "project",
    GITLAB_PROJECT_SCOPES
);
