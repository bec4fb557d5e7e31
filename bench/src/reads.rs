//! The recruiter reads the read benchmark measures: the targets (drawn from
//! the loaded data with a fixed seed), each read as an HTTP request to the
//! service and as the same SQL the service sends, straight to PostgreSQL.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::StatusCode;
use sqlx::PgPool;
use sqlx::Row;
use uuid::Uuid;

use crate::load::{chain, timed};
use crate::rng::XorShift;

/// What one scenario reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /v1/applications?job_id=J&status=S`, first page.
    FirstPage,
    /// `GET /v1/applications?status=S&cursor=C`, `depth` pages in.
    DeepPage,
    /// `GET /v1/applications/{id}`.
    Get,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Self::FirstPage, Self::DeepPage, Self::Get];

    pub fn name(self) -> &'static str {
        match self {
            Self::FirstPage => "list job+status, page 1",
            Self::DeepPage => "list status, deep page",
            Self::Get => "get by id",
        }
    }
}

/// A page deep in the list of one status.
#[derive(Clone, Debug)]
pub struct DeepPage {
    pub status: String,
    /// The last id of the page before it (the `next_cursor` the client got).
    pub cursor: Uuid,
}

/// Everything the scenarios read, in the order requests use them (request
/// `n` takes entry `n % len`), so the baseline and the service read the same.
pub struct Targets {
    /// (job id, status) of randomly drawn applications: filters weighted like
    /// the data.
    pub job_status: Vec<(Uuid, String)>,
    pub deep: Vec<DeepPage>,
    pub ids: Vec<Uuid>,
    pub page_size: u64,
    /// Pages skipped before the deep page.
    pub depth: u64,
}

impl Targets {
    /// Draws `count` applications with `seed` for the first-page and get
    /// scenarios, and for every status with more than `depth` full pages
    /// computes the cursor `depth` pages in.
    pub async fn pick(
        pool: &PgPool,
        seed: u64,
        count: usize,
        page_size: u64,
        depth: u64,
    ) -> Result<Self> {
        let rows = sqlx::query("SELECT id, job_id, status FROM applications ORDER BY id DESC")
            .fetch_all(pool)
            .await
            .context("reading the applications to pick targets from")?;
        if rows.is_empty() {
            bail!("the database has no applications");
        }
        let mut all = Vec::with_capacity(rows.len());
        for row in rows {
            all.push((
                row.try_get::<Uuid, _>(0)?,
                row.try_get::<Uuid, _>(1)?,
                row.try_get::<String, _>(2)?,
            ));
        }

        let mut rng = XorShift::new(seed);
        let mut job_status = Vec::with_capacity(count);
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            let (id, job_id, status) = &all[rng.below(all.len())];
            job_status.push((*job_id, status.clone()));
            ids.push(*id);
        }

        let skipped = usize::try_from(depth * page_size)?;
        let mut statuses: Vec<&str> = all.iter().map(|(_, _, s)| s.as_str()).collect();
        statuses.sort_unstable();
        statuses.dedup();
        let mut deep = Vec::new();
        for status in statuses {
            let newest_first: Vec<Uuid> = all
                .iter()
                .filter(|(_, _, s)| s == status)
                .map(|(id, _, _)| *id)
                .collect();
            // A full page must follow the cursor.
            if skipped > 0 && newest_first.len() >= skipped + page_size as usize {
                deep.push(DeepPage {
                    status: status.to_owned(),
                    cursor: newest_first[skipped - 1],
                });
            }
        }
        if deep.is_empty() {
            bail!("no status has {} pages of {page_size}", depth + 1);
        }
        Ok(Self {
            job_status,
            deep,
            ids,
            page_size,
            depth,
        })
    }

    /// The statuses the deep-page scenario reads.
    pub fn deep_statuses(&self) -> Vec<&str> {
        self.deep.iter().map(|d| d.status.as_str()).collect()
    }

    /// The path and query of request `n` of `scenario` to the service.
    pub fn http_path(&self, scenario: Scenario, n: usize) -> String {
        let limit = self.page_size;
        match scenario {
            Scenario::FirstPage => {
                let (job_id, status) = &self.job_status[n % self.job_status.len()];
                format!("/v1/applications?job_id={job_id}&status={status}&limit={limit}")
            }
            Scenario::DeepPage => {
                let page = &self.deep[n % self.deep.len()];
                format!(
                    "/v1/applications?status={}&cursor={}&limit={limit}",
                    page.status, page.cursor
                )
            }
            Scenario::Get => format!("/v1/applications/{}", self.ids[n % self.ids.len()]),
        }
    }

    /// Runs request `n` of `scenario` as the service's own SQL on `pool`;
    /// its latency, or what went wrong.
    pub async fn query(
        &self,
        pool: &PgPool,
        scenario: Scenario,
        n: usize,
    ) -> Result<Duration, String> {
        let limit = i64::try_from(self.page_size).unwrap_or(i64::MAX);
        let start = Instant::now();
        let rows = match scenario {
            Scenario::FirstPage => {
                let (job_id, status) = &self.job_status[n % self.job_status.len()];
                sqlx::query(LIST_BY_JOB_AND_STATUS.as_str())
                    .bind(job_id)
                    .bind(status)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
            Scenario::DeepPage => {
                let page = &self.deep[n % self.deep.len()];
                sqlx::query(LIST_BY_STATUS_BEFORE.as_str())
                    .bind(&page.status)
                    .bind(page.cursor)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
            Scenario::Get => {
                let id = self.ids[n % self.ids.len()];
                let found = sqlx::query(GET_APPLICATION)
                    .bind(id)
                    .bind(1_i64)
                    .fetch_all(pool)
                    .await;
                match found {
                    Ok(rows) if rows.is_empty() => return Err(format!("no application {id}")),
                    Ok(_) => sqlx::query(DOCUMENTS_OF).bind(id).fetch_all(pool).await,
                    Err(err) => Err(err),
                }
            }
        };
        let latency = start.elapsed();
        rows.map(|_| latency).map_err(|err| chain(&err))
    }
}

/// The service as a client reaches it.
#[derive(Clone)]
pub struct ServiceClient {
    pub http: reqwest::Client,
    pub base_url: String,
    pub api_key: String,
}

impl ServiceClient {
    /// Sends `GET path`; the latency of a 200 with its body read, or what
    /// went wrong.
    pub async fn get(&self, path: &str, timeout: Duration) -> Result<Duration, String> {
        let request = self
            .http
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(&self.api_key)
            .timeout(timeout);
        timed(request, StatusCode::OK).await
    }

    /// Walks the list of `page.status` through the API from the first page,
    /// `depth` pages, and checks that it arrives at the computed cursor; so
    /// the deep-page scenario reads what a client paging there would.
    pub async fn check_deep_cursor(&self, targets: &Targets, page: &DeepPage) -> Result<()> {
        let mut cursor: Option<String> = None;
        for _ in 0..targets.depth {
            let mut path = format!(
                "/v1/applications?status={}&limit={}",
                page.status, targets.page_size
            );
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let resp = self
                .http
                .get(format!("{}{path}", self.base_url))
                .bearer_auth(&self.api_key)
                .send()
                .await
                .context("walking the pages")?
                .error_for_status()
                .context("walking the pages")?;
            let body: serde_json::Value = resp.json().await.context("a page that is not JSON")?;
            cursor = Some(
                body["next_cursor"]
                    .as_str()
                    .context("a page without next_cursor before the deep page")?
                    .to_owned(),
            );
        }
        let walked = cursor.unwrap_or_default();
        if walked != page.cursor.to_string() {
            bail!(
                "walking {} pages of status={} ended at cursor {walked}, not the computed {}",
                targets.depth,
                page.status,
                page.cursor
            );
        }
        Ok(())
    }
}

/// The SQL of the service's list query with these filters (an admin's: no
/// filter on restrictions), and the number of its parameters.
fn list_sql(job: bool, before: bool) -> (String, usize) {
    use applicant_vault::domain::status::ApplicationStatus;
    let filter = applicant_vault::store::applications::ListFilter {
        restricted: true,
        job_id: job.then(Uuid::nil),
        status: Some(ApplicationStatus::New),
        before: before.then(Uuid::nil),
        limit: 50,
        ..Default::default()
    };
    let statement = applicant_vault::store::applications::list_query(filter)
        .into_statement(sea_orm::DbBackend::Postgres);
    let parameters = statement.values.map_or(0, |values| values.0.len());
    (statement.sql, parameters)
}

/// The list statements, from the service's own query builder: parameters
/// job, status, limit; and status, cursor, limit.
static LIST_BY_JOB_AND_STATUS: LazyLock<String> = LazyLock::new(|| three(list_sql(true, false)));
static LIST_BY_STATUS_BEFORE: LazyLock<String> = LazyLock::new(|| three(list_sql(false, true)));

fn three((sql, parameters): (String, usize)) -> String {
    assert_eq!(parameters, 3, "the list query's parameters changed: {sql}");
    sql
}

// The SQL below is what the service's sea-orm query sent for a get before it
// read the job's facts along (seen with `log_min_duration_statement = 0`):
// the application and its documents, which the service still reads.

/// The select list of `application::Entity::find()`.
macro_rules! applications {
    () => {
        r#"SELECT "applications"."id", "applications"."job_id", "applications"."candidate_id", "applications"."status", "applications"."full_name", "applications"."email", "applications"."phone", "applications"."cover_letter", "applications"."linkedin_url", "applications"."indeed_url", "applications"."source", "applications"."privacy_notice_version", "applications"."talent_pool_consent", "applications"."provenance", "applications"."decided_at", "applications"."created_at", "applications"."updated_at", "applications"."purge_after", "applications"."reminded_for", "applications"."retention_policy" FROM "applications""#
    };
}

const GET_APPLICATION: &str = concat!(
    applications!(),
    r#" WHERE "applications"."id" = $1 LIMIT $2"#
);

const DOCUMENTS_OF: &str = r#"SELECT "documents"."id", "documents"."application_id", "documents"."kind", "documents"."content_type", "documents"."size", "documents"."sha256", "documents"."object_key", "documents"."created_at" FROM "documents" WHERE "documents"."application_id" = $1 ORDER BY "documents"."id" ASC"#;
