//! Discovery: projects and groups by path or id, a group's projects (subgroups included), its
//! descendant groups, the authenticated user and users by name (keyset pagination).

use super::models::{Group, Project, User};
use super::{GitLabClient, encode_segment, v4};
use crate::http::pages::GitlabPage;
use crate::http::{ApiError, ApiRequest};

impl GitLabClient {
    /// `GET /projects/:id` (`support/ops/x` is URL-encoded).
    pub async fn get_project(&self, project: &str) -> Result<Project, ApiError> {
        let req = ApiRequest::get(
            v4(format!("/projects/{}", encode_segment(project))),
            format!("project {project}"),
        );
        self.api.json(req).await
    }

    /// `GET /groups/:id`.
    pub async fn get_group(&self, group: &str) -> Result<Group, ApiError> {
        let req = ApiRequest::get(
            v4(format!("/groups/{}", encode_segment(group))),
            format!("group {group}"),
        );
        self.api.json(req).await
    }

    /// `GET /groups/:id/projects` (not archived, not shared in), all pages.
    pub async fn group_projects(
        &self,
        group: &str,
        include_subgroups: bool,
    ) -> Result<Vec<Project>, ApiError> {
        let req = ApiRequest::get(
            v4(format!("/groups/{}/projects", encode_segment(group))),
            format!("group {group} projects"),
        )
        .query("include_subgroups", include_subgroups)
        .query("with_shared", false)
        .query("archived", false)
        .query("simple", true);
        self.api.gitlab_all(req).await
    }

    /// `GET /groups/:id/descendant_groups`, all pages.
    pub async fn descendant_groups(&self, group: &str) -> Result<Vec<Group>, ApiError> {
        let req = ApiRequest::get(
            v4(format!(
                "/groups/{}/descendant_groups",
                encode_segment(group)
            )),
            format!("group {group} subgroups"),
        );
        self.api.gitlab_all(req).await
    }

    /// `GET /user`: who tokenops's credential belongs to.
    pub async fn current_user(&self) -> Result<User, ApiError> {
        self.api
            .json(ApiRequest::get(v4("/user"), "current user"))
            .await
    }

    /// `GET /users/:id`.
    pub async fn user(&self, id: u64) -> Result<User, ApiError> {
        self.api
            .json(ApiRequest::get(
                v4(format!("/users/{id}")),
                format!("user {id}"),
            ))
            .await
    }

    /// `GET /users?username=…`: the user with exactly that name, if any.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, ApiError> {
        let req =
            ApiRequest::get(v4("/users"), format!("user {username}")).query("username", username);
        let users: Vec<User> = self.api.json(req).await?;
        Ok(users.into_iter().find(|u| u.username == username))
    }

    /// The first page of `GET /users?search=…` (offset pagination, so the answer counts the
    /// matches; finish it with `api().gitlab_rest`). Matches user names and display names.
    pub async fn search_users_first_page(
        &self,
        search: &str,
    ) -> Result<GitlabPage<User>, ApiError> {
        let req = ApiRequest::get(v4("/users"), format!("users matching `{search}`"))
            .query("search", search);
        self.api.gitlab_first_page(req).await
    }

    /// `GET /users` with keyset pagination (`order_by=id`), every page.
    pub async fn list_users(&self, search: Option<&str>) -> Result<Vec<User>, ApiError> {
        let req = ApiRequest::get(v4("/users"), "users")
            .query("pagination", "keyset")
            .query("order_by", "id")
            .query("sort", "asc")
            .query_opt("search", search);
        self.api.gitlab_all(req).await
    }
}
