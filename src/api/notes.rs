//! Recruiters' notes on an application.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags,
    applications::existing,
    auth::{Auth, Recruiters},
    text::Text,
};
use crate::{
    app::AppState,
    domain::fields,
    error::{ApiError, ApiResult},
    store::{
        self,
        audit::Access,
        entity::note,
        notes::{CreateNote, DeleteNote, UpdateNote},
    },
};

/// The longest note, in characters.
pub const MAX_NOTE: usize = crate::domain::fields::limits::NOTE;

pub struct NotesApi;

/// A note's text: up to 10,000 characters, line breaks allowed, not blank.
#[derive(Object)]
pub struct NoteBody {
    body: Text,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct Note {
    id: Uuid,
    application_id: Uuid,
    body: String,
    /// The key that wrote it.
    api_key_id: Option<Uuid>,
    /// The person it was written for (`On-Behalf-Of`).
    author: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<note::Model> for Note {
    fn from(note: note::Model) -> Self {
        Self {
            id: note.id,
            application_id: note.application_id,
            body: note.body,
            api_key_id: note.api_key_id,
            author: note.actor,
            created_at: note.created_at,
            updated_at: note.updated_at,
        }
    }
}

#[derive(Object)]
struct Notes {
    items: Vec<Note>,
}

#[derive(ApiResponse)]
enum NoteCreated {
    #[oai(status = 201)]
    Created(Json<Note>),
}

#[derive(ApiResponse)]
enum NoteDeleted {
    #[oai(status = 204)]
    Deleted,
}

fn note_body(body: NoteBody) -> ApiResult<String> {
    Ok(fields::required_long_text("body", &body.body, MAX_NOTE)?)
}

#[OpenApi(tag = "ApiTags::Applications")]
impl NotesApi {
    /// An application's notes, oldest first. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/notes",
        method = "get",
        operation_id = "list_notes"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Notes>> {
        let caller = auth.0;
        existing(&state.db, id.0).await?;
        let notes = store::notes::list(&state.db, id.0).await?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "note.listed",
                application_id: Some(id.0),
                subject_id: None,
            })
            .await?;
        Ok(Json(Notes {
            items: notes.into_iter().map(Note::from).collect(),
        }))
    }

    /// Add a note; its author is the key and the `On-Behalf-Of` person.
    /// Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/notes",
        method = "post",
        operation_id = "create_note"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<NoteBody>,
    ) -> ApiResult<NoteCreated> {
        let caller = auth.0;
        let note = state
            .writer
            .run(CreateNote {
                application_id: id.0,
                body: note_body(body.0)?,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, note_id = %note.id, "note created");
        Ok(NoteCreated::Created(Json(note.into())))
    }

    /// Replace a note's text. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/notes/:note_id",
        method = "patch",
        operation_id = "update_note"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        note_id: Path<Uuid>,
        body: Json<NoteBody>,
    ) -> ApiResult<Json<Note>> {
        let caller = auth.0;
        let note = state
            .writer
            .run(UpdateNote {
                application_id: id.0,
                note_id: note_id.0,
                body: note_body(body.0)?,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("note"))?;
        Ok(Json(note.into()))
    }

    /// Delete a note. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/notes/:note_id",
        method = "delete",
        operation_id = "delete_note"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        note_id: Path<Uuid>,
    ) -> ApiResult<NoteDeleted> {
        let caller = auth.0;
        let deleted = state
            .writer
            .run(DeleteNote {
                application_id: id.0,
                note_id: note_id.0,
                actor: caller.actor(),
            })
            .await?;
        if !deleted {
            return Err(ApiError::not_found("note"));
        }
        Ok(NoteDeleted::Deleted)
    }
}
