//! Data-subject requests, for the privacy officer: those received by email
//! or letter are recorded here with the identity check made; every request
//! shows its deadline (one calendar month from receipt, extendable once by
//! up to two months) and is answered, refused or extended here. The list
//! leaves out the free texts (identity evidence, details, reasons): they
//! are shown, and their reading recorded, one request at a time.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::{Attachment, AttachmentType, Json},
    types::MaybeUndefined,
};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Admins, Auth},
    messages::message_domain,
    not_null, page_limit,
    text::Text,
};
use crate::{
    app::AppState,
    domain::lang::Lang,
    domain::{
        fields::{self, Email, limits},
        subject_request::{
            Change, ChangeRefused, Extension, SubjectRequestChannel, SubjectRequestKind,
            SubjectRequestStatus,
        },
    },
    error::{ApiError, ApiResult},
    privacy::export::ExportError,
    store::{
        audit::Access,
        entity::subject_request,
        subject_requests::{self, CreateSubjectRequest, ListFilter, UpdateSubjectRequest},
    },
};

pub struct SubjectRequestsApi;

/// How a request an admin records reached us (the candidate pages record
/// their own, as `self_service`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
enum ReceivedBy {
    Email,
    Letter,
}

impl From<ReceivedBy> for SubjectRequestChannel {
    fn from(channel: ReceivedBy) -> Self {
        match channel {
            ReceivedBy::Email => Self::Email,
            ReceivedBy::Letter => Self::Letter,
        }
    }
}

/// A request received by email or letter.
#[derive(Object)]
struct NewSubjectRequest {
    channel: ReceivedBy,
    kind: SubjectRequestKind,
    /// When it arrived (default: now); not in the future. The deadline runs from it.
    #[oai(nullable)]
    received_at: Option<DateTime<Utc>>,
    /// The person's address: the request is tied to their candidate record
    /// when we hold one. The address itself is not stored.
    #[oai(nullable)]
    email: Option<Text>,
    /// How the person's identity was checked.
    identity_evidence: Text,
    /// What they ask (what to correct, which use they object to).
    #[oai(nullable)]
    details: Option<Text>,
}

/// Changes to a request: absent fields stay.
#[derive(Object)]
struct SubjectRequestPatch {
    /// `done` (answered) or `refused` close the request for good.
    status: MaybeUndefined<SubjectRequestStatus>,
    /// Why it was refused, as the person was told: required with
    /// `status: refused`, and only then.
    #[oai(nullable)]
    refusal_reason: Option<Text>,
    /// Replaces the details; an empty string clears them.
    #[oai(nullable)]
    details: Option<Text>,
    /// More time to answer: 1 or 2 calendar months from the due date, once,
    /// before the due date has passed, with `extension_reason`. The
    /// candidate is mailed the new deadline and the reason at once.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "2")))]
    extend_months: Option<u32>,
    /// Why more time is needed, as the candidate is told.
    #[oai(nullable)]
    extension_reason: Option<Text>,
}

/// A request and its deadline, without its free texts.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct SubjectRequestSummary {
    id: Uuid,
    kind: SubjectRequestKind,
    channel: SubjectRequestChannel,
    status: SubjectRequestStatus,
    /// The candidate it is about; absent when we held nothing on the person.
    candidate_id: Option<Uuid>,
    received_at: DateTime<Utc>,
    /// One calendar month after receipt.
    due_at: DateTime<Utc>,
    /// The extended deadline, if it was extended.
    extended_until: Option<DateTime<Utc>>,
    /// The deadline that holds: `extended_until` when set, else `due_at`.
    deadline: DateTime<Utc>,
    /// Still to answer, and the deadline has passed.
    overdue: bool,
    /// When it was answered or refused.
    completed_at: Option<DateTime<Utc>>,
    /// When the privacy officer was reminded of the deadline.
    officer_reminded_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A request with everything recorded about it.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct SubjectRequest {
    #[oai(flatten)]
    summary: SubjectRequestSummary,
    /// How the person's identity was checked (requests by email or letter).
    identity_evidence: Option<String>,
    /// What the person asks.
    details: Option<String>,
    /// Why the deadline was extended, as the candidate was told.
    extension_reason: Option<String>,
    /// Why it was refused, as the person was told.
    refusal_reason: Option<String>,
    /// After an extension: whether the candidate was mailed the new deadline
    /// and its reason (false when no application of theirs is left to send
    /// it with: tell them another way).
    candidate_notified: Option<bool>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct SubjectRequestPage {
    items: Vec<SubjectRequestSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<Uuid>,
}

#[derive(ApiResponse)]
enum SubjectRequestCreated {
    #[oai(status = 201)]
    Created(Json<SubjectRequest>),
}

impl SubjectRequestSummary {
    fn of(model: &subject_request::Model, now: DateTime<Utc>) -> Self {
        let standing = model.standing();
        Self {
            id: model.id,
            kind: model.kind,
            channel: model.channel,
            status: model.status,
            candidate_id: model.candidate_id,
            received_at: model.received_at,
            due_at: model.due_at,
            extended_until: model.extended_until,
            deadline: standing.deadline(),
            overdue: standing.is_overdue(now),
            completed_at: model.completed_at,
            officer_reminded_at: model.officer_reminded_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

impl SubjectRequest {
    fn of(model: subject_request::Model, now: DateTime<Utc>) -> Self {
        Self {
            summary: SubjectRequestSummary::of(&model, now),
            identity_evidence: model.identity_evidence,
            details: model.details,
            extension_reason: model.extension_reason,
            refusal_reason: model.refusal_reason,
            candidate_notified: None,
        }
    }
}

impl SubjectRequestPatch {
    /// The change, its texts checked; what only the stored request can
    /// tell is left to the rules.
    fn change(self) -> ApiResult<Change> {
        let reason = |field, text: Text| fields::required_long_text(field, &text, limits::REASON);
        let extension = match (self.extend_months, self.extension_reason) {
            (Some(months), Some(why)) => Some(Extension {
                months,
                reason: reason("extension_reason", why)?,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "extension_reason: required to extend the deadline",
                ));
            }
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "extension_reason: only with extend_months",
                ));
            }
        };
        Ok(Change {
            status: not_null("status", self.status)?,
            refusal_reason: self
                .refusal_reason
                .map(|why| reason("refusal_reason", why))
                .transpose()?,
            details: self
                .details
                .map(|text| fields::long_text("details", Some(&*text), limits::LONG_TEXT))
                .transpose()?,
            extension,
        })
    }
}

#[OpenApi(tag = "ApiTags::SubjectRequests")]
impl SubjectRequestsApi {
    /// List subject requests, oldest first, each with its deadline and
    /// whether it is overdue. Role: admin.
    #[oai(
        path = "/v1/subject-requests",
        method = "get",
        operation_id = "list_subject_requests"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        status: Query<Option<SubjectRequestStatus>>,
        kind: Query<Option<SubjectRequestKind>>,
        /// Only those still to answer whose deadline falls within this many
        /// days from now (not those already overdue).
        #[oai(validator(minimum(value = "0"), maximum(value = "3660")))]
        due_within_days: Query<Option<u32>>,
        /// Only those still to answer whose deadline has passed (`true`),
        /// or all others (`false`).
        overdue: Query<Option<bool>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<Uuid>>,
    ) -> ApiResult<Json<SubjectRequestPage>> {
        let caller = auth.0;
        let limit = page_limit(limit.0);
        let now = state.now();
        let filter = ListFilter {
            status: status.0,
            kind: kind.0,
            due_by: due_within_days
                .0
                .map(|days| now + chrono::TimeDelta::days(days.into())),
            overdue: overdue.0,
            now,
            after: cursor.0,
            limit,
        };
        let rows = subject_requests::list(&state.db, filter).await?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "subject_request.listed",
                application_id: None,
                subject_id: None,
            })
            .await?;
        let next_cursor = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|request| request.id))
            .flatten();
        Ok(Json(SubjectRequestPage {
            items: rows
                .iter()
                .map(|request| SubjectRequestSummary::of(request, now))
                .collect(),
            next_cursor,
        }))
    }

    /// Record a request received by email or letter, with how the person's
    /// identity was checked; it is due one calendar month after receipt.
    /// Role: admin.
    #[oai(
        path = "/v1/subject-requests",
        method = "post",
        operation_id = "create_subject_request"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        body: Json<NewSubjectRequest>,
    ) -> ApiResult<SubjectRequestCreated> {
        let caller = auth.0;
        let body = body.0;
        let now = state.now();
        let received_at = body.received_at.unwrap_or(now);
        if received_at > now {
            return Err(ApiError::invalid("received_at: must not be in the future"));
        }
        let new = subject_requests::NewSubjectRequest {
            kind: body.kind,
            channel: body.channel.into(),
            candidate_id: None,
            received_at,
            identity_evidence: Some(fields::required_long_text(
                "identity_evidence",
                &body.identity_evidence,
                limits::REASON,
            )?),
            details: fields::long_text("details", body.details.as_deref(), limits::LONG_TEXT)?,
        };
        let email = body
            .email
            .map(|email| Email::parse("email", &email))
            .transpose()?;
        let request = state
            .writer
            .run(CreateSubjectRequest {
                new,
                email,
                actor: caller.actor(),
            })
            .await?;
        tracing::info!(subject_request_id = %request.id, kind = request.kind.as_str(), "subject request recorded");
        Ok(SubjectRequestCreated::Created(Json(SubjectRequest::of(
            request,
            state.now(),
        ))))
    }

    /// Read a request with everything recorded about it. Role: admin.
    #[oai(
        path = "/v1/subject-requests/:id",
        method = "get",
        operation_id = "get_subject_request"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<SubjectRequest>> {
        let caller = auth.0;
        let request = subject_requests::get(&state.db, id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("subject request"))?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "subject_request.read",
                application_id: None,
                subject_id: Some(id.0),
            })
            .await?;
        Ok(Json(SubjectRequest::of(request, state.now())))
    }

    /// The data of the request's person as a ZIP, streamed: `data.json`
    /// (its schema is `openapi/data-export.schema.json` in the repository),
    /// every file they sent and a readable `summary.html`; for access and
    /// portability requests received by email or letter. 404 when we hold
    /// nothing on the person. Role: admin.
    #[oai(
        path = "/v1/subject-requests/:id/export",
        method = "get",
        operation_id = "export_subject_request_data"
    )]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
    ) -> ApiResult<Attachment<poem::Body>> {
        let caller = auth.0;
        let request = subject_requests::get(&state.db, id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("subject request"))?;
        let candidate = request
            .candidate_id
            .ok_or_else(|| ApiError::not_found("data of this request's person"))?;
        let export = crate::privacy::export::export(&state, candidate, Lang::En)
            .await
            .map_err(|err| match err {
                ExportError::UnknownCandidate => {
                    ApiError::not_found("data of this request's person")
                }
                ExportError::Database(err) => err.into(),
            })?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "subject_request.exported",
                application_id: None,
                subject_id: Some(id.0),
            })
            .await?;
        let file_name = export.file_name();
        Ok(Attachment::new(export.into_body())
            .attachment_type(AttachmentType::Attachment)
            .filename(file_name))
    }

    /// Change a request: its status (`refused` with a `refusal_reason`),
    /// its details, or its deadline (`extend_months` with an
    /// `extension_reason`, mailed to the candidate at once). A done or
    /// refused request is final (409), and so is an extension: once, and
    /// only before the due date (409). Role: admin.
    #[oai(
        path = "/v1/subject-requests/:id",
        method = "patch",
        operation_id = "update_subject_request"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
        body: Json<SubjectRequestPatch>,
    ) -> ApiResult<Json<SubjectRequest>> {
        let caller = auth.0;
        let change = body.0.change()?;
        let updated = state
            .writer
            .run(UpdateSubjectRequest {
                id: id.0,
                change,
                actor: caller.actor(),
                domain: message_domain(&state),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("subject request"))?
            .map_err(|refused| match refused {
                ChangeRefused::Invalid(message) => ApiError::invalid(message),
                ChangeRefused::Conflict(message) => ApiError::conflict(message),
            })?;
        if updated.candidate_notified == Some(true) {
            state.mail_queued.notify_one();
        }
        tracing::info!(subject_request_id = %id.0, status = updated.request.status.as_str(), "subject request updated");
        let mut view = SubjectRequest::of(updated.request, state.now());
        view.candidate_notified = updated.candidate_notified;
        Ok(Json(view))
    }
}
