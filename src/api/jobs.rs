//! Jobs: the careers site reads open ones; recruiters create and change them.

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
    auth::{Auth, JobBoard, JobReaders, Recruiters},
    country::CountryCode,
    not_null, page_limit,
    text::Text,
};
use crate::{
    app::AppState,
    domain::{fields, keys::Role, status::JobStatus},
    error::{ApiError, ApiResult},
    store::{
        self,
        entity::job,
        jobs::{CreateJob, UpdateJob},
    },
};

pub struct JobsApi;

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct Job {
    id: Uuid,
    title: String,
    country: CountryCode,
    department: Option<String>,
    location: Option<String>,
    status: JobStatus,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    external_ids: ExternalIds,
}

/// The job's ids on job boards, which their integrations name it by.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct ExternalIds {
    /// The job's id at Indeed: Indeed Apply posts with this `jobId` land here.
    indeed: Option<String>,
}

/// The job's ids on job boards. Absent keeps an id; an empty string clears it.
#[derive(Object)]
struct ExternalIdsInput {
    #[oai(nullable, validator(max_length = 200))]
    indeed: Option<Text>,
}

impl ExternalIdsInput {
    fn indeed(&self) -> ApiResult<Option<Option<String>>> {
        Ok(self
            .indeed
            .as_ref()
            .map(|id| fields::optional_text("external_ids.indeed", Some(id), 200))
            .transpose()?)
    }
}

/// A second job with the same Indeed id is a conflict, not an error.
fn indeed_id_taken(err: sea_orm::DbErr) -> ApiError {
    if store::is_unique_violation(&err) {
        ApiError::conflict("external_ids.indeed: another job has this Indeed id")
    } else {
        err.into()
    }
}

impl From<job::Model> for Job {
    fn from(job: job::Model) -> Self {
        Self {
            id: job.id,
            title: job.title,
            country: CountryCode(job.country),
            department: job.department,
            location: job.location,
            status: job.status,
            created_at: job.created_at,
            updated_at: job.updated_at,
            closed_at: job.closed_at,
            external_ids: ExternalIds {
                indeed: job.indeed_job_id,
            },
        }
    }
}

#[derive(Object)]
struct NewJob {
    #[oai(validator(max_length = 200))]
    title: Text,
    country: CountryCode,
    #[oai(nullable, validator(max_length = 200))]
    department: Option<Text>,
    #[oai(nullable, validator(max_length = 200))]
    location: Option<Text>,
    #[oai(nullable)]
    external_ids: Option<ExternalIdsInput>,
}

#[derive(Object)]
struct JobPatch {
    #[oai(validator(max_length = 200))]
    #[oai(nullable)]
    title: Option<Text>,
    country: MaybeUndefined<CountryCode>,
    /// An empty string clears it.
    #[oai(nullable, validator(max_length = 200))]
    department: Option<Text>,
    /// An empty string clears it.
    #[oai(nullable, validator(max_length = 200))]
    location: Option<Text>,
    status: MaybeUndefined<JobStatus>,
    #[oai(nullable)]
    external_ids: Option<ExternalIdsInput>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct JobPage {
    items: Vec<Job>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<Uuid>,
}

#[derive(ApiResponse)]
enum CreateJobResponse {
    /// The job was created.
    #[oai(status = 201)]
    Created(Json<Job>),
}

#[derive(ApiResponse)]
enum JobResponse {
    #[oai(status = 200)]
    Ok(Json<Job>),
}

#[OpenApi(tag = "ApiTags::Jobs")]
impl JobsApi {
    /// List jobs. Roles: careers-site (open jobs only; publishable keys too),
    /// recruiter, admin (all jobs, or `status` to filter).
    #[oai(path = "/v1/jobs", method = "get", operation_id = "list_jobs")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Auth<JobBoard>,
        status: Query<Option<JobStatus>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<Uuid>>,
    ) -> ApiResult<Json<JobPage>> {
        let caller = auth.0;
        let status = match caller.role {
            Role::CareersSite => Some(JobStatus::Open),
            _ => status.0,
        };
        let limit = page_limit(limit.0);
        let jobs = store::jobs::list(&state.db, status, cursor.0, limit).await?;
        let next_cursor = (jobs.len() as u64 == limit)
            .then(|| jobs.last().map(|j| j.id))
            .flatten();
        Ok(Json(JobPage {
            items: jobs.into_iter().map(Job::from).collect(),
            next_cursor,
        }))
    }

    /// Create a job; it starts open. Roles: recruiter, admin.
    #[oai(path = "/v1/jobs", method = "post", operation_id = "create_job")]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: Auth<Recruiters>,
        body: Json<NewJob>,
    ) -> ApiResult<CreateJobResponse> {
        let body = body.0;
        let new = store::jobs::NewJob {
            title: fields::required_text("title", &body.title, 200)?,
            country: body.country.0,
            department: fields::optional_text("department", body.department.as_deref(), 200)?,
            location: fields::optional_text("location", body.location.as_deref(), 200)?,
            indeed_job_id: match &body.external_ids {
                Some(ids) => ids.indeed()?.flatten(),
                None => None,
            },
        };
        let job = state
            .writer
            .run(CreateJob(new))
            .await
            .map_err(indeed_id_taken)?;
        tracing::info!(job_id = %job.id, "job created");
        Ok(CreateJobResponse::Created(Json(job.into())))
    }

    /// Read a job. Roles: careers-site (open jobs only), recruiter, admin.
    #[oai(path = "/v1/jobs/:id", method = "get", operation_id = "get_job")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Auth<JobReaders>,
        id: Path<Uuid>,
    ) -> ApiResult<JobResponse> {
        let caller = auth.0;
        let job = store::jobs::get(&state.db, id.0)
            .await?
            .filter(|job| caller.role != Role::CareersSite || job.status == JobStatus::Open)
            .ok_or_else(|| ApiError::not_found("job"))?;
        Ok(JobResponse::Ok(Json(job.into())))
    }

    /// Change a job; `"status": "closed"` closes it. Roles: recruiter, admin.
    #[oai(path = "/v1/jobs/:id", method = "patch", operation_id = "update_job")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<JobPatch>,
    ) -> ApiResult<JobResponse> {
        let body = body.0;
        let changes = store::jobs::JobChanges {
            title: body
                .title
                .map(|t| fields::required_text("title", &t, 200))
                .transpose()?,
            country: not_null("country", body.country)?.map(|c| c.0),
            department: body
                .department
                .map(|d| fields::optional_text("department", Some(&*d), 200))
                .transpose()?,
            location: body
                .location
                .map(|l| fields::optional_text("location", Some(&*l), 200))
                .transpose()?,
            status: not_null("status", body.status)?,
            indeed_job_id: match &body.external_ids {
                Some(ids) => ids.indeed()?,
                None => None,
            },
        };
        let job = state
            .writer
            .run(UpdateJob {
                id: id.0,
                changes,
                policy: std::sync::Arc::clone(&state.policy),
            })
            .await
            .map_err(indeed_id_taken)?
            .ok_or_else(|| ApiError::not_found("job"))?;
        tracing::info!(job_id = %job.id, status = %job.status, "job updated");
        Ok(JobResponse::Ok(Json(job.into())))
    }
}
