//! Comments on merge requests and issues: list (all pages, oldest first), create, update.
//! Used for the one sticky plan comment per merge request.

use serde::Serialize;

use super::models::Note;
use super::{GitLabClient, encode_segment, v4};
use crate::http::{ApiError, ApiRequest};

/// What a note is attached to (by per-project number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noteable {
    /// A merge request iid.
    MergeRequest(u64),
    /// An issue iid.
    Issue(u64),
}

impl Noteable {
    fn segment(self) -> String {
        match self {
            Noteable::MergeRequest(iid) => format!("merge_requests/{iid}"),
            Noteable::Issue(iid) => format!("issues/{iid}"),
        }
    }

    fn label(self) -> String {
        match self {
            Noteable::MergeRequest(iid) => format!("merge request !{iid}"),
            Noteable::Issue(iid) => format!("issue #{iid}"),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    body: &'a str,
}

impl GitLabClient {
    /// `GET /projects/:id/{merge_requests|issues}/:iid/notes?sort=asc`, all pages (system
    /// notes included; callers filter on `system`).
    pub async fn list_notes(&self, project: &str, on: Noteable) -> Result<Vec<Note>, ApiError> {
        let req = ApiRequest::get(
            v4(format!(
                "/projects/{}/{}/notes",
                encode_segment(project),
                on.segment()
            )),
            format!("project {project} {} notes", on.label()),
        )
        .query("sort", "asc")
        .query("order_by", "created_at");
        self.api.gitlab_all(req).await
    }

    /// `POST …/notes`.
    pub async fn create_note(
        &self,
        project: &str,
        on: Noteable,
        body: &str,
    ) -> Result<Note, ApiError> {
        let req = ApiRequest::post(
            v4(format!(
                "/projects/{}/{}/notes",
                encode_segment(project),
                on.segment()
            )),
            format!("project {project} {} note create", on.label()),
        )
        .json(&Body { body });
        self.api.json(req).await
    }

    /// `PUT …/notes/:note_id`.
    pub async fn update_note(
        &self,
        project: &str,
        on: Noteable,
        note_id: u64,
        body: &str,
    ) -> Result<Note, ApiError> {
        let req = ApiRequest::put(
            v4(format!(
                "/projects/{}/{}/notes/{note_id}",
                encode_segment(project),
                on.segment()
            )),
            format!("project {project} {} note {note_id}", on.label()),
        )
        .json(&Body { body });
        self.api.json(req).await
    }
}
