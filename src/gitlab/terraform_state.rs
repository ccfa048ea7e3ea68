//! GitLab-managed Terraform state, used as the ledger's shared `http` backend: read, write,
//! delete, lock and unlock one named state of a project. A lock held by someone else becomes
//! `ApiError::LockHeld` carrying the holder's lock info and the way to release it.

use super::models::LockInfo;
use super::{GitLabClient, encode_segment, v4};
use crate::http::{ApiError, ApiRequest, RequestClass};

fn state_path(project: &str, name: &str) -> String {
    v4(format!(
        "/projects/{}/terraform/state/{}",
        encode_segment(project),
        encode_segment(name)
    ))
}

impl GitLabClient {
    /// `GET …/terraform/state/:name`: the stored bytes, or `None` when nothing is stored yet:
    /// 404 for a state never locked nor written (a project's first run), 204 for one that
    /// exists without a file. A 404 about the project itself (`404 Project Not Found`: no
    /// such project, or the credential cannot see it) stays an error.
    pub async fn get_state(&self, project: &str, name: &str) -> Result<Option<Vec<u8>>, ApiError> {
        let req = ApiRequest::get(
            state_path(project, name),
            format!("project {project} state {name}"),
        )
        .accept_status(404);
        let response = self.api.send(req).await?;
        if response.status == 404 {
            let detail =
                crate::http::decode::decode_error_body(&response.body, &response.secrets()).message;
            if detail.to_ascii_lowercase().contains("project") {
                return Err(ApiError::NotFound {
                    target: Box::new(response.target().clone()),
                    detail,
                });
            }
            return Ok(None);
        }
        if response.status == 204 || response.body.is_empty() {
            return Ok(None);
        }
        Ok(Some(response.body))
    }

    /// `POST …/terraform/state/:name[?ID=lock]`: stores `bytes` (a whole document, so sending
    /// it twice leaves the same state: retried like an idempotent write).
    pub async fn put_state(
        &self,
        project: &str,
        name: &str,
        bytes: Vec<u8>,
        lock_id: Option<&str>,
    ) -> Result<(), ApiError> {
        let req = ApiRequest::post(
            state_path(project, name),
            format!("project {project} state {name} write"),
        )
        .class(RequestClass::IdempotentWrite)
        .query_opt("ID", lock_id)
        .raw_body(bytes, "application/json");
        self.send_state(req, project, name).await.map(drop)
    }

    /// `DELETE …/terraform/state/:name`.
    pub async fn delete_state(&self, project: &str, name: &str) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            state_path(project, name),
            format!("project {project} state {name} delete"),
        );
        self.api.send(req).await.map(drop)
    }

    /// `POST …/terraform/state/:name/lock`. Taking a lock again with the same id succeeds, so
    /// this is retried like an idempotent write. Someone else's lock is `ApiError::LockHeld`.
    pub async fn lock_state(
        &self,
        project: &str,
        name: &str,
        lock: &LockInfo,
    ) -> Result<LockInfo, ApiError> {
        let req = ApiRequest::post(
            format!("{}/lock", state_path(project, name)),
            format!("project {project} state {name} lock"),
        )
        .class(RequestClass::IdempotentWrite)
        .json(lock);
        let response = self.send_state(req, project, name).await?;
        if response.body.is_empty() {
            return Ok(lock.clone());
        }
        response.json()
    }

    /// `DELETE …/terraform/state/:name/lock[?ID=lock]`.
    pub async fn unlock_state(
        &self,
        project: &str,
        name: &str,
        lock_id: Option<&str>,
    ) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            format!("{}/lock", state_path(project, name)),
            format!("project {project} state {name} unlock"),
        )
        .query_opt("ID", lock_id);
        self.send_state(req, project, name).await.map(drop)
    }

    /// Sends a state call, turning a 409 with lock info into `LockHeld`.
    async fn send_state(
        &self,
        req: ApiRequest,
        project: &str,
        name: &str,
    ) -> Result<crate::http::ApiResponse, ApiError> {
        let response = self.api.send(req.accept_status(409)).await?;
        if response.status != 409 {
            return Ok(response);
        }
        let target = Box::new(response.target().clone());
        match serde_json::from_slice::<LockInfo>(&response.body) {
            Ok(holder) if !holder.id.is_empty() => {
                Err(lock_held(target, &response, holder, project, name))
            }
            _ => Err(ApiError::Conflict {
                target,
                detail: crate::http::decode::decode_error_body(&response.body, &response.secrets())
                    .message,
            }),
        }
    }
}

/// The holder named in a 409: every field is the server's text, so it is cleaned.
fn lock_held(
    target: Box<crate::http::Target>,
    response: &crate::http::ApiResponse,
    holder: LockInfo,
    project: &str,
    name: &str,
) -> ApiError {
    ApiError::LockHeld {
        target,
        lock_id: response.shown_id(&holder.id),
        who: if holder.who.is_empty() {
            "another user".to_string()
        } else {
            response.shown(&holder.who)
        },
        since: response.shown(&format!(
            "since {}, for {}",
            holder.created, holder.operation
        )),
        unlock_path: format!("{}/lock?ID=…", state_path(project, name)),
    }
}
