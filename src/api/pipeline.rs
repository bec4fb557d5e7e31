//! The recruitment pipeline: status moves and an application's history.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags,
    applications::{Application, existing},
    auth::{Auth, Recruiters},
    text::Text,
};
use crate::{
    app::AppState,
    domain::{fields, status::ApplicationStatus},
    error::{ApiError, ApiResult},
    store::{
        self,
        audit::{Access, AuditFilter},
        pipeline::{MoveOutcome, MoveStatus},
    },
};

pub struct PipelineApi;

#[derive(Object)]
pub struct StatusMove {
    status: ApplicationStatus,
    /// Why; required to reopen a rejected or withdrawn application.
    #[oai(nullable, validator(max_length = 2000))]
    reason: Option<Text>,
}

/// One entry of an application's history: a status change or an audit event.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct HistoryEntry {
    /// `status_change` or `audit`.
    kind: String,
    at: DateTime<Utc>,
    from_status: Option<ApplicationStatus>,
    to_status: Option<ApplicationStatus>,
    reason: Option<String>,
    /// The audit action, such as `application.read`.
    action: Option<String>,
    api_key_id: Option<Uuid>,
    /// The person the call was made for (`On-Behalf-Of`).
    actor: Option<String>,
}

#[derive(Object)]
struct History {
    items: Vec<HistoryEntry>,
}

#[derive(ApiResponse)]
enum MoveResponse {
    /// The application after the move.
    #[oai(status = 200)]
    Moved(Json<Application>),
}

#[OpenApi(tag = "ApiTags::Applications")]
impl PipelineApi {
    /// Move an application through the pipeline (`new → screening → interview →
    /// offer → hired`, or out to `rejected`/`withdrawn` while open; reopening
    /// to `screening` needs a reason). A move the pipeline does not allow is
    /// 409, naming the allowed next statuses. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/status",
        method = "post",
        operation_id = "move_application"
    )]
    async fn move_status(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<StatusMove>,
    ) -> ApiResult<MoveResponse> {
        let caller = auth.0;
        let reason = fields::long_text("reason", body.0.reason.as_deref(), fields::limits::REASON)?;
        let to = body.0.status;
        let outcome = state
            .writer
            .run(MoveStatus {
                application_id: id.0,
                to,
                reason,
                actor: caller.actor(),
                policy: Arc::clone(&state.policy),
            })
            .await?;
        match outcome {
            MoveOutcome::Moved { from } => {
                tracing::info!(application_id = %id.0, from = from.as_str(), to = to.as_str(), "status changed");
            }
            MoveOutcome::Refused(refused) => return Err(ApiError::conflict(refused.0)),
            MoveOutcome::NoSuchApplication => return Err(ApiError::not_found("application")),
        }
        let record = store::applications::get(&state.db, id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        let view = Application::of(&state, record).await?;
        Ok(MoveResponse::Moved(Json(view)))
    }

    /// An application's status changes and audit events, oldest first.
    /// Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/history",
        method = "get",
        operation_id = "application_history"
    )]
    async fn history(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<History>> {
        let caller = auth.0;
        existing(&state.db, id.0).await?;
        let changes = store::pipeline::status_changes(&state.db, id.0).await?;
        // Status reasons may speak of the candidate: reading them is an access.
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "history.read",
                application_id: Some(id.0),
                subject_id: None,
            })
            .await?;
        let events = store::audit::list(
            &state.db,
            AuditFilter {
                application_id: Some(id.0),
                after: None,
                limit: 10_000,
            },
        )
        .await?;
        let mut items: Vec<(Uuid, HistoryEntry)> = changes
            .into_iter()
            .map(|change| {
                (
                    change.id,
                    HistoryEntry {
                        kind: "status_change".into(),
                        at: change.at,
                        from_status: Some(change.from_status),
                        to_status: Some(change.to_status),
                        reason: change.reason,
                        action: None,
                        api_key_id: change.api_key_id,
                        actor: change.actor,
                    },
                )
            })
            .chain(events.into_iter().map(|event| {
                (
                    event.id,
                    HistoryEntry {
                        kind: "audit".into(),
                        at: event.at,
                        from_status: None,
                        to_status: None,
                        reason: None,
                        action: Some(event.action),
                        api_key_id: event.api_key_id,
                        actor: event.actor,
                    },
                )
            }))
            .collect();
        // Ids are UUIDv7: their order is time order, ties broken stably.
        items.sort_by_key(|(id, _)| *id);
        Ok(Json(History {
            items: items.into_iter().map(|(_, entry)| entry).collect(),
        }))
    }
}
