//! The sticky plan note on a merge request: one note per merge request, found again by a
//! hidden marker and by its author, updated in place on every push, never duplicated.

use crate::gitlab::{GitLabClient, Noteable};
use crate::http::ApiError;
use crate::plan::Plan;
use crate::plan::render::{NOTE_LIMIT, PLAN_MARKER, markdown, summary_line};

/// The merge request a pipeline runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRequestRef {
    /// Project id or full path.
    pub project: String,
    /// The merge request's iid.
    pub iid: u64,
    /// The commit the plan was made for.
    pub commit: Option<String>,
}

/// What happened to the note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteOutcome {
    /// A new note was created.
    Created(u64),
    /// The existing note was updated.
    Updated(u64),
}

/// The note's body: the markdown plan (or one line when there is nothing to do) and the
/// commit it was made for, within GitLab's note size limit.
pub fn note_body(plan: &Plan, commit: Option<&str>) -> String {
    let commit = commit.map(|c| c.chars().take(12).collect::<String>());
    let made_for = match &commit {
        Some(sha) => format!("\n\n<sub>Made by `tokenops plan` for commit {sha}.</sub>\n"),
        None => "\n\n<sub>Made by `tokenops plan`.</sub>\n".to_string(),
    };
    if plan.summary.is_empty() && plan.summary.needs_human == 0 {
        return format!(
            "{PLAN_MARKER}\n**tokenops plan**: {}{made_for}",
            summary_line(&plan.summary)
        );
    }
    let mut body = markdown(plan, NOTE_LIMIT - made_for.len());
    body.push_str(&made_for);
    body
}

/// Creates the plan note, or updates the one tokenops's identity already wrote.
pub async fn upsert_plan_note(
    client: &GitLabClient,
    mr: &MergeRequestRef,
    body: &str,
) -> Result<NoteOutcome, ApiError> {
    let on = Noteable::MergeRequest(mr.iid);
    let me = client.current_user().await?;
    if let Some(id) = find_note(client, mr, me.id).await? {
        client.update_note(&mr.project, on, id, body).await?;
        return Ok(NoteOutcome::Updated(id));
    }
    match client.create_note(&mr.project, on, body).await {
        Ok(note) => Ok(NoteOutcome::Created(note.id)),
        // The note may exist even though the answer was lost: look before trying again.
        Err(ApiError::OutcomeUnknown { .. }) => match find_note(client, mr, me.id).await? {
            Some(id) => {
                client.update_note(&mr.project, on, id, body).await?;
                Ok(NoteOutcome::Updated(id))
            }
            None => Ok(NoteOutcome::Created(
                client.create_note(&mr.project, on, body).await?.id,
            )),
        },
        Err(err) => Err(err),
    }
}

async fn find_note(
    client: &GitLabClient,
    mr: &MergeRequestRef,
    author: u64,
) -> Result<Option<u64>, ApiError> {
    let notes = client
        .list_notes(&mr.project, Noteable::MergeRequest(mr.iid))
        .await?;
    Ok(notes
        .iter()
        .filter(|n| !n.system)
        .filter(|n| n.author.as_ref().is_some_and(|a| a.id == author))
        .find(|n| n.body.starts_with(PLAN_MARKER))
        .map(|n| n.id))
}

/// GitLab's Terraform MR-widget report (`artifacts:reports:terraform`): value changes as
/// `create`, consumer writes as `update`, revocations as `delete`.
pub fn widget_report(plan: &Plan) -> String {
    let s = &plan.summary;
    serde_json::json!({
        "create": s.rotations + s.recreations,
        "update": s.writes,
        "delete": s.revocations,
    })
    .to_string()
}
