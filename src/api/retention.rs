//! Legal holds and consents recorded by staff: what keeps an application
//! longer, or takes it sooner.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::MaybeUndefined,
};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Admins, Auth, Recruiters},
    not_null, page_limit,
    text::Text,
};
use crate::{
    app::AppState,
    domain::{fields, retention::ConsentKind, status::ApplicationStatus},
    error::{ApiError, ApiResult},
    store::{
        self,
        audit::Access,
        entity::purge_receipt,
        retention::{LiftHold, PlaceHold, RecordConsent},
    },
};

/// The longest reason or evidence text, in characters.
pub const MAX_REASON: usize = 2000;

pub struct RetentionApi;

/// A legal hold: why, and optionally until when.
#[derive(Object)]
struct HoldRequest {
    reason: Text,
    /// When the hold ends by itself; absent or null: until it is lifted.
    #[oai(nullable)]
    until: Option<DateTime<Utc>>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct LegalHold {
    application_id: Uuid,
    reason: String,
    until: Option<DateTime<Utc>>,
    placed_at: DateTime<Utc>,
    api_key_id: Option<Uuid>,
    actor: Option<String>,
}

/// A consent the candidate gave another way (by phone, in writing).
#[derive(Object)]
struct ConsentRequest {
    /// How it was given, for the record.
    evidence: Text,
    /// `extension` (the default) keeps the application longer; `erasure` has it deleted now.
    kind: MaybeUndefined<ConsentKind>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct Consent {
    id: Uuid,
    application_id: Uuid,
    kind: ConsentKind,
    evidence: String,
    granted_at: DateTime<Utc>,
    api_key_id: Option<Uuid>,
    actor: Option<String>,
}

#[derive(ApiResponse)]
enum ConsentRecorded {
    #[oai(status = 201)]
    Created(Json<Consent>),
}

#[derive(ApiResponse)]
enum HoldLifted {
    #[oai(status = 204)]
    Lifted,
}

#[OpenApi(tag = "ApiTags::Applications")]
impl RetentionApi {
    /// Place (or replace) a legal hold: while it lasts, the application is
    /// never purged. Role: admin.
    #[oai(
        path = "/v1/applications/:id/legal-hold",
        method = "put",
        operation_id = "place_legal_hold"
    )]
    async fn place(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
        body: Json<HoldRequest>,
    ) -> ApiResult<Json<LegalHold>> {
        let caller = auth.0;
        let reason = fields::required_long_text("reason", &body.0.reason, MAX_REASON)?;
        let hold = state
            .writer
            .run(PlaceHold {
                application_id: id.0,
                reason,
                until: body.0.until,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, "legal hold placed");
        Ok(Json(LegalHold {
            application_id: hold.application_id,
            reason: hold.reason,
            until: hold.until,
            placed_at: hold.placed_at,
            api_key_id: hold.api_key_id,
            actor: hold.actor,
        }))
    }

    /// Lift the legal hold: the application is back on its schedule.
    /// Role: admin.
    #[oai(
        path = "/v1/applications/:id/legal-hold",
        method = "delete",
        operation_id = "lift_legal_hold"
    )]
    async fn lift(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
    ) -> ApiResult<HoldLifted> {
        let caller = auth.0;
        let lifted = state
            .writer
            .run(LiftHold {
                application_id: id.0,
                actor: caller.actor(),
            })
            .await?;
        if !lifted {
            return Err(ApiError::not_found("legal hold"));
        }
        tracing::info!(application_id = %id.0, "legal hold lifted");
        Ok(HoldLifted::Lifted)
    }

    /// Record a consent the candidate gave another way, with its evidence:
    /// an extension keeps the application `consent.extension` longer (never
    /// past `consent.max_total` from the clock start); an erasure has it
    /// purged at the next run. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/consents",
        method = "post",
        operation_id = "record_consent"
    )]
    async fn consent(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<ConsentRequest>,
    ) -> ApiResult<ConsentRecorded> {
        let caller = auth.0;
        let evidence = fields::required_long_text("evidence", &body.0.evidence, MAX_REASON)?;
        let kind = not_null("kind", body.0.kind)?.unwrap_or_default();
        let consent = state
            .writer
            .run(RecordConsent {
                application_id: id.0,
                kind,
                evidence,
                actor: caller.actor(),
                policy: Arc::clone(&state.policy),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, kind = kind.as_str(), "consent recorded");
        Ok(ConsentRecorded::Created(Json(Consent {
            id: consent.id,
            application_id: consent.application_id,
            kind,
            evidence: consent.evidence,
            granted_at: consent.granted_at,
            api_key_id: consent.api_key_id,
            actor: consent.actor,
        })))
    }

    /// What was purged, oldest first: receipts without personal data.
    /// Role: admin.
    #[oai(
        path = "/v1/purge-receipts",
        method = "get",
        operation_id = "list_purge_receipts"
    )]
    async fn receipts(
        &self,
        state: Data<&AppState>,
        _auth: Auth<Admins>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<Uuid>>,
    ) -> ApiResult<Json<ReceiptPage>> {
        let limit = page_limit(limit.0);
        let rows = store::purge::receipts(&state.db, cursor.0, limit).await?;
        let next_cursor = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        Ok(Json(ReceiptPage {
            items: rows.into_iter().map(PurgeReceipt::from).collect(),
            next_cursor,
        }))
    }

    /// What the purge will take within a window from now (`within`, as
    /// `30d`, `12h`, `2w`; default `30d`), soonest first, with the rule that
    /// set each date, whether the candidate was reminded, and whether a
    /// legal hold keeps it. Role: admin.
    #[oai(
        path = "/v1/retention/preview",
        method = "get",
        operation_id = "preview_retention"
    )]
    async fn preview(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        #[oai(validator(max_length = 20))] within: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<PreviewPage>> {
        let caller = auth.0;
        let within = match within.0.as_deref() {
            None => chrono::TimeDelta::days(30),
            Some(text) => fields::window("within", text)?,
        };
        let after = cursor
            .0
            .as_deref()
            .map(|c| fields::position("cursor", c))
            .transpose()?;
        let limit = page_limit(limit.0);
        let now = Utc::now();
        let page = store::purge::preview(&state.db, &state.policy, now, now + within, after, limit)
            .await?;
        state
            .writer
            .run(Access {
                actor: caller.actor(),
                action: "retention.previewed",
                application_id: None,
                subject_id: None,
            })
            .await?;
        let next_cursor = page.next.map(|(at, id)| fields::position_text(at, id));
        let items = page
            .items
            .into_iter()
            .map(|(application, retention)| PreviewItem {
                application_id: application.id,
                job_id: application.job_id,
                purge_after: retention.purge_after,
                rule: retention.rule,
                reminder_sent: application.reminded_for == Some(retention.purge_after),
                held: retention.held,
            })
            .collect();
        Ok(Json(PreviewPage { items, next_cursor }))
    }
}

/// What stays of a purged application: no personal data.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PurgeReceipt {
    id: Uuid,
    application_id: Uuid,
    job_id: Uuid,
    /// The final status it had, if any.
    outcome: Option<ApplicationStatus>,
    /// When its procedure ended; absent when it never did.
    clock_start: Option<DateTime<Utc>>,
    purge_after: DateTime<Utc>,
    purged_at: DateTime<Utc>,
    /// The rule that set `purge_after` (`admin_erasure` for an admin's erasure).
    rule: String,
    /// `scheduled`, or `erased` by an admin.
    reason: String,
    objects_deleted: i32,
}

impl From<purge_receipt::Model> for PurgeReceipt {
    fn from(r: purge_receipt::Model) -> Self {
        Self {
            id: r.id,
            application_id: r.application_id,
            job_id: r.job_id,
            outcome: r.outcome.as_deref().and_then(ApplicationStatus::parse),
            clock_start: r.clock_start,
            purge_after: r.purge_after,
            purged_at: r.purged_at,
            rule: r.rule,
            reason: r.reason,
            objects_deleted: r.objects_deleted,
        }
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct ReceiptPage {
    items: Vec<PurgeReceipt>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<Uuid>,
}

/// An application the purge will take.
#[derive(Object)]
struct PreviewItem {
    application_id: Uuid,
    job_id: Uuid,
    purge_after: DateTime<Utc>,
    rule: String,
    /// Whether the candidate was reminded of this date.
    reminder_sent: bool,
    /// A legal hold keeps it while the hold lasts.
    held: bool,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct PreviewPage {
    items: Vec<PreviewItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}
