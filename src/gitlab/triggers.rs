//! Pipeline trigger tokens: list, get, create, update the description, delete. GitLab has no
//! rotate for them: rotation is create, switch consumers, delete the old one.

use serde::Serialize;

use super::models::Trigger;
use super::{GitLabClient, encode_segment, v4};
use crate::http::ApiError;
use crate::http::ApiRequest;

#[derive(Serialize)]
struct Description<'a> {
    description: &'a str,
}

impl GitLabClient {
    /// `GET /projects/:id/triggers`, all pages.
    pub async fn list_triggers(&self, project: &str) -> Result<Vec<Trigger>, ApiError> {
        let req = ApiRequest::get(
            v4(format!("/projects/{}/triggers", encode_segment(project))),
            format!("project {project} pipeline triggers"),
        );
        self.api.gitlab_all(req).await
    }

    /// `GET /projects/:id/triggers/:trigger_id`.
    pub async fn get_trigger(&self, project: &str, id: u64) -> Result<Trigger, ApiError> {
        let req = ApiRequest::get(
            v4(format!(
                "/projects/{}/triggers/{id}",
                encode_segment(project)
            )),
            format!("project {project} pipeline trigger {id}"),
        );
        self.api.json(req).await
    }

    /// `POST /projects/:id/triggers`: a new trigger whose value is returned to its owner.
    pub async fn create_trigger(
        &self,
        project: &str,
        description: &str,
    ) -> Result<Trigger, ApiError> {
        let req = ApiRequest::post(
            v4(format!("/projects/{}/triggers", encode_segment(project))),
            format!("project {project} pipeline trigger create"),
        )
        .json(&Description { description });
        self.api.json(req).await
    }

    /// `PUT /projects/:id/triggers/:trigger_id` (description only; the value cannot change).
    pub async fn update_trigger(
        &self,
        project: &str,
        id: u64,
        description: &str,
    ) -> Result<Trigger, ApiError> {
        let req = ApiRequest::put(
            v4(format!(
                "/projects/{}/triggers/{id}",
                encode_segment(project)
            )),
            format!("project {project} pipeline trigger {id}"),
        )
        .json(&Description { description });
        self.api.json(req).await
    }

    /// `DELETE /projects/:id/triggers/:trigger_id`.
    pub async fn delete_trigger(&self, project: &str, id: u64) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v4(format!(
                "/projects/{}/triggers/{id}",
                encode_segment(project)
            )),
            format!("project {project} pipeline trigger {id} delete"),
        );
        self.api.send(req).await.map(drop)
    }
}
