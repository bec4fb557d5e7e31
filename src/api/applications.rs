//! Recruiter reads and corrections of applications. Every read or change of
//! personal data writes an audit event; a list records each application it
//! showed.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use serde::Serialize;
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Admins, Auth, CareersPage, Recruiters},
    intake::{self, ApplicationForm, SubmitResponse},
    json::{self, SerdeJson},
    page_limit,
    receipts::PurgeReceipt,
    text::Text,
};
use crate::{
    app::AppState,
    domain::{
        fields::{self, Email},
        imports::Provenance,
        status::ApplicationStatus,
    },
    error::{ApiError, ApiResult},
    retention::{policy::Facts, records},
    store::{
        self,
        applications::{ApplicationRecord, ListFilter, Rectification, Rectify},
        entity::{application, document},
    },
};

pub struct ApplicationsApi;

/// A file of an application.
#[derive(Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct Document {
    id: Uuid,
    kind: crate::domain::sniff::DocumentKind,
    /// Read from the file's bytes.
    content_type: String,
    size: i64,
    /// Hex SHA-256 of the bytes.
    sha256: String,
}

/// An application with the contact details it was submitted with (or as
/// corrected), and its documents.
#[derive(Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct Application {
    id: Uuid,
    job_id: Uuid,
    status: ApplicationStatus,
    full_name: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cover_letter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linkedin_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    indeed_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    privacy_notice_version: String,
    talent_pool_consent: bool,
    #[serde(serialize_with = "json::rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "json::rfc3339")]
    updated_at: DateTime<Utc>,
    #[serde(
        serialize_with = "json::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    decided_at: Option<DateTime<Utc>>,
    /// When its data will be deleted, as things stand now.
    #[serde(
        serialize_with = "json::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    purge_after: Option<DateTime<Utc>>,
    /// Why `purge_after` is what it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    retention: Option<RetentionView>,
    documents: Vec<Document>,
    /// Where each field's value came from: `form` (the careers-site form),
    /// `linkedin` or `indeed` (a profile import), or `indeed-apply`.
    /// Absent on applications received before this was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<BTreeMap<String, String>>,
    /// The language the candidate reads (`en`, `nl`, `fr`, `de`), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<String>,
    /// Since when the candidate has restricted its processing: recruiters
    /// can no longer read or change it, and the purge leaves it alone.
    /// Only admins see a restricted application.
    #[serde(
        serialize_with = "json::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    restricted_at: Option<DateTime<Utc>>,
}

/// How an application's deletion date is set.
#[derive(Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct RetentionView {
    /// `after_decision`, `after_inactivity`, `rules[i](country=…,outcome=…)`,
    /// `consent` (extended by the candidate) or `erasure` (asked to be deleted).
    rule: String,
    /// When the recruitment procedure ended for it; absent while it runs.
    #[serde(
        serialize_with = "json::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    clock_start: Option<DateTime<Utc>>,
    /// The period the rule gives, in seconds.
    period_seconds: i64,
    /// Until when a consent extension keeps it.
    #[serde(
        serialize_with = "json::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    extended_until: Option<DateTime<Utc>>,
    /// A legal hold stops its deletion.
    held: bool,
}

impl Application {
    /// The view of a stored application, with the retention that applies now.
    pub async fn of(state: &AppState, record: ApplicationRecord) -> ApiResult<Self> {
        let facts = records::facts(&state.db, &record.application).await?;
        Ok(Self::with_facts(state, record, facts))
    }

    /// The view of a stored application whose facts were read with it.
    fn with_facts(state: &AppState, record: ApplicationRecord, facts: Option<Facts>) -> Self {
        let mut view = Self::from(record);
        if let Some(facts) = facts {
            let retention = state.policy.retention(&facts, state.now());
            view.purge_after = Some(retention.purge_after);
            view.retention = Some(RetentionView {
                rule: retention.rule.to_string(),
                clock_start: retention.clock_start,
                period_seconds: retention.period.num_seconds(),
                extended_until: retention.extended_until,
                held: retention.held,
            });
        }
        view
    }
}

/// What the submitter gets back: ids, status and the documents' metadata,
/// nothing else (a careers-site key is public).
#[derive(Object)]
pub struct SubmittedApplication {
    id: Uuid,
    job_id: Uuid,
    status: ApplicationStatus,
    created_at: DateTime<Utc>,
    documents: Vec<Document>,
}

impl From<ApplicationRecord> for SubmittedApplication {
    fn from(record: ApplicationRecord) -> Self {
        Self {
            id: record.application.id,
            job_id: record.application.job_id,
            status: status_of(&record.application),
            created_at: record.application.created_at,
            documents: record.documents.into_iter().map(Document::from).collect(),
        }
    }
}

/// A row of the application list.
#[derive(Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
struct ApplicationSummary {
    id: Uuid,
    job_id: Uuid,
    status: ApplicationStatus,
    full_name: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(serialize_with = "json::rfc3339")]
    created_at: DateTime<Utc>,
}

#[derive(Object, Serialize)]
#[oai(skip_serializing_if_is_none)]
struct ApplicationPage {
    items: Vec<ApplicationSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<Uuid>,
}

/// Corrections (rectification). Absent fields stay; an empty string clears an
/// optional field.
#[derive(Object)]
struct ApplicationPatch {
    #[oai(validator(max_length = 200))]
    #[oai(nullable)]
    full_name: Option<Text>,
    #[oai(nullable, validator(max_length = 254))]
    email: Option<Text>,
    #[oai(nullable, validator(max_length = 40))]
    phone: Option<Text>,
    #[oai(nullable, validator(max_length = 20000))]
    cover_letter: Option<Text>,
    #[oai(nullable, validator(max_length = 2000))]
    linkedin_url: Option<Text>,
    #[oai(nullable, validator(max_length = 2000))]
    indeed_url: Option<Text>,
}

#[derive(ApiResponse)]
enum ApplicationResponse {
    #[oai(status = 200)]
    Ok(SerdeJson<Application>),
}

fn status_of(model: &application::Model) -> ApplicationStatus {
    model.status
}

impl From<document::Model> for Document {
    fn from(doc: document::Model) -> Self {
        Self {
            id: doc.id,
            kind: doc.kind,
            content_type: doc.content_type,
            size: doc.size,
            sha256: doc.sha256,
        }
    }
}

impl From<ApplicationRecord> for Application {
    fn from(record: ApplicationRecord) -> Self {
        let ApplicationRecord {
            application: app,
            documents,
        } = record;
        Self {
            id: app.id,
            job_id: app.job_id,
            status: status_of(&app),
            full_name: app.full_name,
            email: app.email,
            phone: app.phone,
            cover_letter: app.cover_letter,
            linkedin_url: app.linkedin_url,
            indeed_url: app.indeed_url,
            source: app.source,
            privacy_notice_version: app.privacy_notice_version,
            talent_pool_consent: app.talent_pool_consent,
            created_at: app.created_at,
            updated_at: app.updated_at,
            decided_at: app.decided_at,
            purge_after: None,
            retention: None,
            documents: documents.into_iter().map(Document::from).collect(),
            provenance: app.provenance.as_deref().map(Provenance::parse),
            locale: app.locale,
            restricted_at: app.restricted_at,
        }
    }
}

impl From<store::applications::Summary> for ApplicationSummary {
    fn from(app: store::applications::Summary) -> Self {
        Self {
            id: app.id,
            job_id: app.job_id,
            status: app.status,
            full_name: app.full_name,
            email: app.email,
            source: app.source,
            created_at: app.created_at,
        }
    }
}

#[OpenApi(tag = "ApiTags::Applications")]
impl ApplicationsApi {
    /// Submit an application (multipart form with the CV). Roles: careers-site
    /// (publishable keys too), admin.
    #[oai(
        path = "/v1/applications",
        method = "post",
        operation_id = "submit_application"
    )]
    async fn submit(
        &self,
        state: Data<&AppState>,
        auth: Auth<CareersPage>,
        form: ApplicationForm,
        /// Makes a retried submission answer the first result instead of a duplicate.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 200))]
        idempotency_key: Header<Option<String>>,
    ) -> ApiResult<SubmitResponse> {
        intake::submit(&state, auth.0, form, idempotency_key.0).await
    }

    /// List applications, newest first. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications",
        method = "get",
        operation_id = "list_applications"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        job_id: Query<Option<Uuid>>,
        status: Query<Option<ApplicationStatus>>,
        /// Part of the candidate's name or email, any case.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        created_after: Query<Option<DateTime<Utc>>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<Uuid>>,
    ) -> ApiResult<SerdeJson<ApplicationPage>> {
        let caller = auth.0;
        let limit = page_limit(limit.0);
        let filter = ListFilter {
            // Restricted applications are frozen for recruiters.
            restricted: caller.role == crate::domain::keys::Role::Admin,
            job_id: job_id.0,
            status: status.0,
            query: q.0.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
            created_after: created_after.0,
            before: cursor.0,
            limit,
        };
        let rows =
            store::applications::list(&state.db, &state.audit, filter, caller.actor()).await?;
        let next_cursor = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|app| app.id))
            .flatten();
        Ok(SerdeJson(ApplicationPage {
            items: rows.into_iter().map(ApplicationSummary::from).collect(),
            next_cursor,
        }))
    }

    /// Read an application with its documents. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id",
        method = "get",
        operation_id = "get_application"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
    ) -> ApiResult<ApplicationResponse> {
        let caller = auth.0;
        let (application, facts, documents) =
            records::read_with_facts(&state.db, &state.audit, id.0, caller.actor())
                .await?
                .ok_or_else(|| ApiError::not_found("application"))?;
        let record = ApplicationRecord {
            application,
            documents,
        };
        Ok(ApplicationResponse::Ok(SerdeJson(Application::with_facts(
            &state,
            record,
            Some(facts),
        ))))
    }

    /// Erase the application now, whatever its schedule or hold: its
    /// documents, notes, interviews, messages, history and consents, and the
    /// candidate when it was their last application. Answers the receipt
    /// that stays. Role: admin.
    #[oai(
        path = "/v1/applications/:id",
        method = "delete",
        operation_id = "erase_application"
    )]
    async fn erase(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<PurgeReceipt>> {
        let caller = auth.0;
        let receipt = crate::retention::service::erase_now(&state, id.0, caller.actor())
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, "application erased");
        Ok(Json(receipt.into()))
    }

    /// Correct this application's details (rectification); a corrected
    /// email moves it to that address's candidate. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id",
        method = "patch",
        operation_id = "update_application"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<ApplicationPatch>,
    ) -> ApiResult<ApplicationResponse> {
        let caller = auth.0;
        let patch = body.0;
        let changes = Rectification {
            full_name: patch
                .full_name
                .map(|v| fields::required_text("full_name", &v, 200))
                .transpose()?,
            email: patch.email.map(|v| Email::parse("email", &v)).transpose()?,
            phone: patch
                .phone
                .map(|v| fields::phone("phone", Some(&*v)))
                .transpose()?,
            cover_letter: patch
                .cover_letter
                .map(|v| fields::long_text("cover_letter", Some(&*v), fields::limits::LONG_TEXT))
                .transpose()?,
            linkedin_url: patch
                .linkedin_url
                .map(|v| fields::web_url("linkedin_url", Some(&*v)))
                .transpose()?,
            indeed_url: patch
                .indeed_url
                .map(|v| fields::web_url("indeed_url", Some(&*v)))
                .transpose()?,
        };
        state
            .writer
            .run(Rectify {
                id: id.0,
                changes,
                actor: caller.actor(),
                policy: Arc::clone(&state.policy),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, "application rectified");

        let record = store::applications::get(&state.db, id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        let view = Application::of(&state, record).await?;
        Ok(ApplicationResponse::Ok(SerdeJson(view)))
    }
}

/// The application with this id, or 404.
pub(super) async fn existing(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> ApiResult<application::Model> {
    store::applications::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("application"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use poem_openapi::types::ToJSON;

    use super::*;

    fn at(seconds: i64, millis: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, millis * 1_000_000).unwrap()
    }

    fn document(kind: crate::domain::sniff::DocumentKind) -> Document {
        Document {
            id: Uuid::now_v7(),
            kind,
            content_type: "application/pdf".into(),
            size: 1234,
            sha256: "ab".repeat(32),
        }
    }

    /// What serde writes is what poem-openapi's `ToJSON` (which the spec
    /// describes) would have written, field for field.
    fn same_as_to_json<T: Serialize + ToJSON>(value: &T) {
        let written: serde_json::Value =
            serde_json::from_slice(&serde_json::to_vec(value).unwrap()).unwrap();
        assert_eq!(written, value.to_json().unwrap());
    }

    #[test]
    fn an_application_is_written_as_its_schema_says_with_every_field_or_none() {
        let full = Application {
            id: Uuid::now_v7(),
            job_id: Uuid::now_v7(),
            status: ApplicationStatus::Interview,
            full_name: "Zoë \"Z\" O'Brien\n".into(),
            email: "zoe@example.test".into(),
            phone: Some("+32 470 12 34 56".into()),
            cover_letter: Some("Dear team,\u{2028}\ttabs \\ and \u{7f}".into()),
            linkedin_url: Some("https://www.linkedin.com/in/zoe".into()),
            indeed_url: Some("https://profile.indeed.com/zoe".into()),
            source: Some("careers-site".into()),
            privacy_notice_version: "2026-01".into(),
            talent_pool_consent: true,
            created_at: at(1_765_000_000, 80),
            updated_at: at(1_765_000_001, 0),
            decided_at: Some(at(1_765_000_002, 999)),
            purge_after: Some(at(1_780_000_000, 0)),
            retention: Some(RetentionView {
                rule: "rules[0](country=DE,outcome=rejected)".into(),
                clock_start: Some(at(1_765_000_002, 999)),
                period_seconds: 15_552_000,
                extended_until: Some(at(1_790_000_000, 5)),
                held: true,
            }),
            documents: vec![
                document(crate::domain::sniff::DocumentKind::Cv),
                document(crate::domain::sniff::DocumentKind::Picture),
            ],
            provenance: Some(BTreeMap::from([
                ("email".to_owned(), "linkedin".to_owned()),
                ("cv".to_owned(), "form".to_owned()),
            ])),
            locale: Some("nl".into()),
            restricted_at: Some(at(1_766_000_000, 1)),
        };
        same_as_to_json(&full);
        let bare = Application {
            phone: None,
            cover_letter: None,
            linkedin_url: None,
            indeed_url: None,
            source: None,
            decided_at: None,
            purge_after: None,
            retention: Some(RetentionView {
                rule: "after_inactivity".into(),
                clock_start: None,
                period_seconds: 1,
                extended_until: None,
                held: false,
            }),
            documents: vec![],
            provenance: None,
            locale: None,
            restricted_at: None,
            ..full
        };
        same_as_to_json(&bare);
        let written = serde_json::to_value(&bare).unwrap();
        assert!(written.get("phone").is_none(), "{written}");
        assert_eq!(written["documents"], serde_json::json!([]));
    }

    #[test]
    fn a_page_of_applications_is_written_as_its_schema_says() {
        let summary = |source: Option<&str>| ApplicationSummary {
            id: Uuid::now_v7(),
            job_id: Uuid::now_v7(),
            status: ApplicationStatus::New,
            full_name: "Ada Lovelace".into(),
            email: "ada@example.test".into(),
            source: source.map(str::to_owned),
            created_at: at(1_765_000_000, 123),
        };
        let items = vec![summary(Some("linkedin")), summary(None)];
        let next_cursor = Some(items[1].id);
        same_as_to_json(&ApplicationPage { items, next_cursor });
        same_as_to_json(&ApplicationPage {
            items: vec![],
            next_cursor: None,
        });
    }
}
