//! Issues, for the expiry report: find the open report issue, create it, update it.

use super::models::{Issue, IssueUpdate, NewIssue};
use super::{GitLabClient, encode_segment, v4};
use crate::http::{ApiError, ApiRequest};

/// Filters for listing a project's issues.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    /// `opened`, `closed` or `all`.
    pub state: Option<String>,
    /// Comma-separated labels, all required.
    pub labels: Option<String>,
    /// Words searched in the title.
    pub search_title: Option<String>,
}

impl GitLabClient {
    /// `GET /projects/:id/issues` with filters, all pages.
    pub async fn list_issues(
        &self,
        project: &str,
        filter: &IssueFilter,
    ) -> Result<Vec<Issue>, ApiError> {
        let mut req = ApiRequest::get(
            v4(format!("/projects/{}/issues", encode_segment(project))),
            format!("project {project} issues"),
        )
        .query_opt("state", filter.state.as_deref())
        .query_opt("labels", filter.labels.as_deref());
        if let Some(words) = &filter.search_title {
            req = req.query("search", words).query("in", "title");
        }
        self.api.gitlab_all(req).await
    }

    /// `POST /projects/:id/issues`.
    pub async fn create_issue(&self, project: &str, issue: &NewIssue) -> Result<Issue, ApiError> {
        let req = ApiRequest::post(
            v4(format!("/projects/{}/issues", encode_segment(project))),
            format!("project {project} issue create"),
        )
        .json(issue);
        self.api.json(req).await
    }

    /// `PUT /projects/:id/issues/:iid`.
    pub async fn update_issue(
        &self,
        project: &str,
        iid: u64,
        update: &IssueUpdate,
    ) -> Result<Issue, ApiError> {
        let req = ApiRequest::put(
            v4(format!(
                "/projects/{}/issues/{iid}",
                encode_segment(project)
            )),
            format!("project {project} issue #{iid}"),
        )
        .json(update);
        self.api.json(req).await
    }
}
