//! The audit log, for the privacy officer.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Admins, Auth},
    page_limit,
};
use crate::{
    app::AppState,
    error::ApiResult,
    store::{self, audit::AuditFilter, entity::audit_event},
};

pub struct AuditApi;

/// One access to personal data: ids, actor, action and time only.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditEvent {
    id: Uuid,
    at: DateTime<Utc>,
    api_key_id: Option<Uuid>,
    /// The person a tool acted for (`On-Behalf-Of`).
    actor: Option<String>,
    /// Such as `application.read` or `document.downloaded`.
    action: String,
    application_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    /// The applications a listing showed, in the order shown.
    shown: Option<Vec<Uuid>>,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(event: audit_event::Model) -> Self {
        Self {
            id: event.id,
            at: event.at,
            api_key_id: event.api_key_id,
            actor: event.actor,
            action: event.action,
            application_id: event.application_id,
            subject_id: event.subject_id,
            shown: event
                .shown
                .and_then(|shown| serde_json::from_str(&shown).ok()),
        }
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct AuditPage {
    items: Vec<AuditEvent>,
    next_cursor: Option<Uuid>,
}

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditApi {
    /// List audit events, oldest first. Roles: admin.
    #[oai(
        path = "/v1/audit-events",
        method = "get",
        operation_id = "list_audit_events"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: Auth<Admins>,
        /// Only the events about this application, with the listings that
        /// showed it.
        application_id: Query<Option<Uuid>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        cursor: Query<Option<Uuid>>,
    ) -> ApiResult<Json<AuditPage>> {
        let limit = page_limit(limit.0);
        let events = store::audit::list(
            &state.db,
            AuditFilter {
                application_id: application_id.0,
                after: cursor.0,
                limit,
            },
        )
        .await?;
        let next_cursor = (events.len() as u64 == limit)
            .then(|| events.last().map(|e| e.id))
            .flatten();
        Ok(Json(AuditPage {
            items: events.into_iter().map(AuditEvent::from).collect(),
            next_cursor,
        }))
    }
}
