//! `GET /v1/stats/applications`: the anonymous statistics partners read,
//! one differentially private release per closed month (see
//! `domain::stats` for what is counted and how one candidate's
//! contribution is bounded, `domain::noise` for the noise).

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use super::{
    ApiTags,
    auth::{Auth, Partners},
};
use crate::{
    app::AppState,
    domain::{
        noise::{self, Epsilon},
        stats::{Measure, Month, SENSITIVITY},
    },
    error::{ApiError, ApiResult},
    store::stats::{self, Publish, Release, Spend},
};

/// Most months one call returns.
const MAX_MONTHS: u32 = 36;

const GUARANTEE: &str = "Each month's release is epsilon-differentially private for each \
    candidate: only a candidate's first application of a month counts, so one candidate adds \
    at most 1 to one `applications` cell and 1 to one outcome cell (sensitivity 2), and every \
    cell, zeros included, gets discrete Laplace noise of scale 2/epsilon, sampled exactly. A \
    release is made once, after its month closes, and never changes: every call returns the \
    same values, so asking again reveals nothing more and spends no more budget. Values are \
    clamped at 0; cells under `min_count` are hidden (null).";

pub struct StatsApi;

#[OpenApi(tag = "ApiTags::Statistics")]
impl StatsApi {
    /// Applications by month applied, source and job country, and by
    /// outcome (hired, rejected, withdrawn, open), with differential-privacy
    /// noise; each month states its ε, the noise scale and a 95 % error
    /// bound per cell. Only months closed for `stats.publish_delay` are
    /// published; the first read of a month spends its ε from the key's
    /// budget for that month. Role: partner, admin.
    #[oai(
        path = "/v1/stats/applications",
        method = "get",
        operation_id = "read_application_stats"
    )]
    async fn applications(
        &self,
        state: Data<&AppState>,
        auth: Auth<Partners>,
        /// First month, `YYYY-MM` (default: 11 months before `to`; at most
        /// 35 months before it, an earlier one is moved up). A `from` after
        /// `to` selects no month.
        #[oai(validator(max_length = 7))]
        from: Query<Option<String>>,
        /// Last month, `YYYY-MM` (default and latest: the last published
        /// month).
        #[oai(validator(max_length = 7))]
        to: Query<Option<String>>,
    ) -> ApiResult<Json<StatsTable>> {
        let caller = auth.0;
        let settings = &state.settings.stats;
        let now = state.now();
        let delay = settings.publish_delay.0;
        let last_closed = Month::of(now - delay).minus(1);
        let next_release_at = last_closed.next().end() + delay;
        let to = month_param("to", to.0.as_deref())?.unwrap_or(last_closed);
        // The window ends at the last closed month at the latest.
        let last = to.min(last_closed);
        let from = month_param("from", from.0.as_deref())?
            .unwrap_or(last.minus(11))
            .max(last.minus(MAX_MONTHS - 1));
        let first = stats::first_month(&state.db).await?;
        let due: Vec<Month> = match first {
            Some(first) => months(from.max(first), last),
            None => Vec::new(),
        };
        let mut releases = stats::releases(&state.db, from, to).await?;
        if releases.len() < due.len() {
            state
                .writer
                .run(Publish {
                    months: due,
                    declared_sources: settings.sources.clone(),
                    epsilon: settings.epsilon(),
                    min_count: settings.min_count,
                })
                .await?;
            releases = stats::releases(&state.db, from, to).await?;
        }
        let spent = state
            .writer
            .run(Spend {
                actor: caller.actor(),
                key_id: caller.key_id,
                releases: releases
                    .iter()
                    .map(|r| (r.release.month.clone(), r.release.epsilon.clone()))
                    .collect(),
            })
            .await?;
        let months = releases
            .into_iter()
            .map(|release| {
                let spent_at = spent.get(&release.release.month).copied().unwrap_or(now);
                MonthRelease::new(release, spent_at)
            })
            .collect::<ApiResult<_>>()?;
        Ok(Json(StatsTable {
            guarantee: GUARANTEE.to_owned(),
            months,
            next_release_at,
        }))
    }
}

fn month_param(field: &str, value: Option<&str>) -> ApiResult<Option<Month>> {
    value
        .map(|text| {
            Month::parse(text)
                .ok_or_else(|| ApiError::invalid(format!("{field}: a month as YYYY-MM")))
        })
        .transpose()
}

/// The months from `from` to `to`, both included.
fn months(from: Month, to: Month) -> Vec<Month> {
    std::iter::successors(Some(from), |m| Some(m.next()))
        .take_while(|m| *m <= to)
        .collect()
}

/// The statistics table.
#[derive(Object)]
struct StatsTable {
    /// What protects the candidates counted here.
    guarantee: String,
    /// The published months of the range, oldest first; months not yet
    /// published are absent.
    months: Vec<MonthRelease>,
    /// When the next month is published.
    next_release_at: DateTime<Utc>,
}

/// One month's release.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct MonthRelease {
    /// `YYYY-MM`, in UTC.
    month: String,
    published_at: DateTime<Utc>,
    /// ε of the noise; absent when the release has no noise (a test
    /// configuration), whose values are exact.
    epsilon: Option<String>,
    /// Most one candidate adds to the month's cells together.
    sensitivity: u32,
    /// The noise's scale, sensitivity/ε: the noise is discrete Laplace,
    /// P(noise = k) ∝ exp(−|k|/scale). 0 without noise.
    noise_scale: f64,
    /// Each cell is within this of its true count with probability at
    /// least 95 %.
    error_bound_95: u64,
    /// Cells whose noisy count is below this are null.
    min_count: u64,
    /// When this key first read the release, spending its ε.
    budget_spent_at: DateTime<Utc>,
    rows: Vec<StatsRow>,
}

/// One source and job country of a month. A null count is hidden under
/// `min_count`.
#[derive(Object, Default)]
struct StatsRow {
    /// `form`, `linkedin`, `indeed`, `indeed-apply`, a declared label, or `other`.
    source: String,
    /// ISO 3166-1 alpha-2 country of the job.
    country: String,
    applications: Option<u64>,
    hired: Option<u64>,
    rejected: Option<u64>,
    withdrawn: Option<u64>,
    /// Not decided when the month was released.
    open: Option<u64>,
}

impl MonthRelease {
    fn new(release: Release, budget_spent_at: DateTime<Utc>) -> ApiResult<Self> {
        let Release { release, cells } = release;
        let epsilon = release
            .epsilon
            .as_deref()
            .map(Epsilon::parse)
            .transpose()
            .map_err(|err| corrupt(format!("a stored release's epsilon: {err}")))?;
        let sensitivity = u32::try_from(release.sensitivity).unwrap_or(SENSITIVITY);
        let (noise_scale, error_bound_95) = match epsilon {
            Some(epsilon) => (
                f64::from(sensitivity) / epsilon.as_f64(),
                noise::error_bound_95(epsilon, sensitivity),
            ),
            None => (0.0, 0),
        };
        let min_count = release.min_count.max(0) as u64;
        let mut rows: Vec<StatsRow> = Vec::new();
        for cell in cells {
            let value = Some(cell.value.max(0) as u64).filter(|v| *v >= min_count);
            let row = match rows.last_mut() {
                Some(row) if row.source == cell.source && row.country == cell.country => row,
                _ => {
                    rows.push(StatsRow {
                        source: cell.source.clone(),
                        country: cell.country.clone(),
                        ..StatsRow::default()
                    });
                    rows.last_mut().expect("just pushed")
                }
            };
            match Measure::parse(&cell.measure) {
                Some(Measure::Applications) => row.applications = value,
                Some(Measure::Hired) => row.hired = value,
                Some(Measure::Rejected) => row.rejected = value,
                Some(Measure::Withdrawn) => row.withdrawn = value,
                Some(Measure::Open) => row.open = value,
                None => {
                    return Err(corrupt(format!(
                        "a stored cell measures {:?}",
                        cell.measure
                    )));
                }
            }
        }
        Ok(Self {
            month: release.month,
            published_at: release.published_at,
            epsilon: epsilon.map(|e| e.to_string()),
            sensitivity,
            noise_scale,
            error_bound_95,
            min_count,
            budget_spent_at,
            rows,
        })
    }
}

/// A stored release this version cannot read: logged, answered 500.
fn corrupt(what: String) -> ApiError {
    tracing::error!(problem = what, "unreadable statistics release");
    ApiError::internal()
}
