//! The GitLab REST v4 client: one `GitLabClient` per instance over the shared `ApiClient`,
//! with one file per resource (tokens, triggers, hooks, variables, issues, notes, projects,
//! Terraform state). Paths are appended to the instance URL as given, path prefix included.

pub mod deploy_tokens;
pub mod hooks;
pub mod issues;
pub mod models;
pub mod notes;
pub mod projects;
pub mod terraform_state;
pub mod tokens;
pub mod triggers;
pub mod variables;

use std::sync::Arc;

use crate::http::{
    ApiClient, ApiError, Auth, ClientSettings, Clock, InstanceAccess, Platform, encode_segment,
};

pub use deploy_tokens::{DeployToken, NewDeployToken};
pub use hooks::HookWrite;
pub use issues::IssueFilter;
pub use models::*;
pub use notes::Noteable;

/// A client for one GitLab instance. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GitLabClient {
    api: ApiClient,
}

/// The project or group a token, hook or variable belongs to: a numeric id or a full path
/// such as `support/ops/zendesk-sync` (URL-encoded when sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A project.
    Project(String),
    /// A group.
    Group(String),
}

impl Owner {
    /// `/projects/<encoded>` or `/groups/<encoded>`.
    pub fn prefix(&self) -> String {
        match self {
            Owner::Project(id) => format!("/projects/{}", encode_segment(id)),
            Owner::Group(id) => format!("/groups/{}", encode_segment(id)),
        }
    }

    /// "project support/ops/x" or "group support/ops", for messages.
    pub fn label(&self) -> String {
        match self {
            Owner::Project(id) => format!("project {id}"),
            Owner::Group(id) => format!("group {id}"),
        }
    }
}

impl GitLabClient {
    /// A client for `access` (credential sent as `PRIVATE-TOKEN`).
    pub fn new(access: &InstanceAccess, settings: ClientSettings) -> Result<Self, ApiError> {
        let api = ApiClient::new(
            Platform::GitLab,
            &access.name,
            &access.url,
            Auth::PrivateToken(access.credential.clone()),
            settings,
        )?;
        Ok(GitLabClient { api })
    }

    /// A client that signs in as the running CI/CD job: `CI_JOB_TOKEN` as HTTP basic auth
    /// with the user `gitlab-ci-token`, which GitLab accepts on a few routes only (the
    /// project's Terraform state among them).
    pub fn for_ci_job(
        name: &str,
        url: &str,
        job_token: secrecy::SecretString,
        settings: ClientSettings,
    ) -> Result<Self, ApiError> {
        let api = ApiClient::new(
            Platform::GitLab,
            name,
            url,
            Auth::Basic {
                username: "gitlab-ci-token".to_string(),
                password: job_token,
            },
            settings,
        )?;
        Ok(GitLabClient { api })
    }

    /// Like [`GitLabClient::new`], on an injected clock (budget and waits).
    pub fn with_clock(
        access: &InstanceAccess,
        settings: ClientSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ApiError> {
        let api = ApiClient::with_clock(
            Platform::GitLab,
            &access.name,
            &access.url,
            Auth::PrivateToken(access.credential.clone()),
            settings,
            clock,
        )?;
        Ok(GitLabClient { api })
    }

    /// Wraps an existing `ApiClient`.
    pub fn from_api(api: ApiClient) -> Self {
        GitLabClient { api }
    }

    /// The shared HTTP client.
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The instance name.
    pub fn instance(&self) -> &str {
        self.api.instance()
    }

    /// Signs this client and every clone of it in with `token` from the next request on
    /// (after tokenops rotated its own credential).
    pub fn switch_credential(&self, token: &secrecy::SecretString) {
        self.api.replace_auth(Auth::PrivateToken(token.clone()));
    }
}

/// `/api/v4` + `rest`.
pub(crate) fn v4(rest: impl AsRef<str>) -> String {
    format!("/api/v4{}", rest.as_ref())
}
