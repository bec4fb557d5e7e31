//! What the purge took (receipts, without personal data) and what it will
//! take (the preview), for admins.

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
    domain::{fields, status::ApplicationStatus},
    error::ApiResult,
    retention::deletion,
    store::{audit::Access, entity::purge_receipt},
};

pub struct ReceiptsApi;

#[OpenApi(tag = "ApiTags::Applications")]
impl ReceiptsApi {
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
        let rows = deletion::receipts(&state.db, cursor.0, limit).await?;
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
        let now = state.now();
        let page =
            deletion::preview(&state.db, &state.policy, now, now + within, after, limit).await?;
        state
            .audit
            .record(Access {
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
                rule: retention.rule.to_string(),
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
            outcome: r.outcome,
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
