//! The partner statistics in the database: which applications count, the
//! true counts of a month (read once, to make its release), the releases
//! and the budget ledger. Nothing here holds personal data: sources,
//! countries, months, counts and key ids.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, JoinType, OnConflict, Query, UnionType},
};
use uuid::Uuid;

use super::{
    audit::{self, Actor},
    entity::{application, job, stats_cell, stats_ledger, stats_release},
    secrets::EnsureKey,
    writer::Unit,
};
use crate::domain::{
    noise::Epsilon,
    stats::{self, Layout, Measure, Month, Noise, Truth},
    status::ApplicationStatus,
};

/// The key the noise of every release is drawn from.
pub const SECRET: &str = "stats";

/// The month of the first job: releases start there.
pub async fn first_month(db: &impl ConnectionTrait) -> Result<Option<Month>, DbErr> {
    let first: Option<DateTime<Utc>> = job::Entity::find()
        .select_only()
        .column(job::Column::CreatedAt)
        .order_by_asc(job::Column::CreatedAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(first.map(Month::of))
}

/// The countries of the jobs that existed before `end`.
async fn countries(db: &impl ConnectionTrait, end: DateTime<Utc>) -> Result<Vec<String>, DbErr> {
    job::Entity::find()
        .select_only()
        .column(job::Column::Country)
        .distinct()
        .filter(job::Column::CreatedAt.lt(end))
        .into_tuple()
        .all(db)
        .await
}

/// The true counts of `month`: live applications that count, by status,
/// and the purged ones' counters, by outcome, in one statement (one
/// snapshot), so an application the purge takes meanwhile is counted once.
async fn truth(db: &impl ConnectionTrait, layout: &Layout, month: Month) -> Result<Truth, DbErr> {
    let mut live = Query::select();
    live.expr_as(Expr::cust("a.stats_source"), "source")
        .expr_as(Expr::cust("j.country"), "country")
        .expr_as(Expr::cust("a.status"), "outcome")
        .expr_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "count")
        .from_as(application::Entity, "a")
        .join_as(
            JoinType::InnerJoin,
            job::Entity,
            "j",
            Expr::cust("j.id = a.job_id"),
        )
        .and_where(Expr::cust("a.stats_source IS NOT NULL"))
        .and_where(Expr::col(("a", application::Column::CreatedAt)).gte(month.start()))
        .and_where(Expr::col(("a", application::Column::CreatedAt)).lt(month.end()))
        .add_group_by([
            Expr::cust("a.stats_source"),
            Expr::cust("j.country"),
            Expr::cust("a.status"),
        ]);
    let mut purged = Query::select();
    purged
        .expr_as(Expr::cust("s.source"), "source")
        .expr_as(Expr::cust("j.country"), "country")
        .expr_as(Expr::cust("s.outcome"), "outcome")
        .expr_as(Expr::cust("CAST(SUM(s.purged) AS BIGINT)"), "count")
        .from_as("stats_counts", "s")
        .join_as(
            JoinType::InnerJoin,
            job::Entity,
            "j",
            Expr::cust("j.id = s.job_id"),
        )
        .and_where(Expr::col(("s", "month")).eq(month.to_string()))
        .add_group_by([
            Expr::cust("s.source"),
            Expr::cust("j.country"),
            Expr::cust("s.outcome"),
        ]);
    live.union(UnionType::All, purged);
    let rows = db.query_all(&live).await?;
    let mut truth = Truth::default();
    for row in rows {
        let source: String = row.try_get("", "source")?;
        let country: String = row.try_get("", "country")?;
        let outcome: String = row.try_get("", "outcome")?;
        let count: i64 = row.try_get("", "count")?;
        let status = outcome.parse::<ApplicationStatus>().ok();
        truth.add(
            layout,
            &source,
            &country,
            Measure::outcome(status),
            u64::try_from(count).unwrap_or(0),
        );
    }
    Ok(truth)
}

/// Makes the releases of closed months that have none yet: each read once,
/// noised and stored with its ε, in one transaction. A month already
/// released is left as it is, so a release never changes.
pub struct Publish {
    pub months: Vec<Month>,
    pub declared_sources: Vec<String>,
    /// `None`: exact counts (noise off).
    pub epsilon: Option<Epsilon>,
    pub min_count: u64,
}

impl Unit for Publish {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(), DbErr> {
        let secret = match self.epsilon {
            Some(_) => Some(EnsureKey { name: SECRET }.run(txn, now).await?),
            None => None,
        };
        for &month in &self.months {
            let label = month.to_string();
            let inserted = stats_release::Entity::insert(stats_release::ActiveModel {
                month: Set(label.clone()),
                epsilon: Set(self.epsilon.map(|e| e.to_string())),
                sensitivity: Set(stats::SENSITIVITY as i32),
                min_count: Set(i64::try_from(self.min_count).unwrap_or(i64::MAX)),
                published_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(stats_release::Column::Month)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
            if inserted == 0 {
                continue;
            }
            let layout = Layout::new(&self.declared_sources, countries(txn, month.end()).await?);
            let truth = truth(txn, &layout, month).await?;
            let noise = match (&secret, self.epsilon) {
                (Some(secret), Some(epsilon)) => Noise::Laplace {
                    secret: secret.as_bytes(),
                    epsilon,
                },
                _ => Noise::Off,
            };
            let cells = stats::release(&label, &layout, &truth, noise);
            for chunk in cells.chunks(200) {
                let rows = chunk.iter().map(|cell| stats_cell::ActiveModel {
                    month: Set(label.clone()),
                    source: Set(cell.source.clone()),
                    country: Set(cell.country.clone()),
                    measure: Set(cell.measure.as_str().to_owned()),
                    value: Set(i64::try_from(cell.value).unwrap_or(i64::MAX)),
                });
                stats_cell::Entity::insert_many(rows)
                    .exec_without_returning(txn)
                    .await?;
            }
        }
        Ok(())
    }
}

/// A release with its cells.
pub struct Release {
    pub release: stats_release::Model,
    pub cells: Vec<stats_cell::Model>,
}

/// The releases of the months from `from` to `to`, oldest first.
pub async fn releases(
    db: &impl ConnectionTrait,
    from: Month,
    to: Month,
) -> Result<Vec<Release>, DbErr> {
    let found = stats_release::Entity::find()
        .filter(stats_release::Column::Month.gte(from.to_string()))
        .filter(stats_release::Column::Month.lte(to.to_string()))
        .order_by_asc(stats_release::Column::Month)
        .all(db)
        .await?;
    let mut cells: BTreeMap<String, Vec<stats_cell::Model>> = BTreeMap::new();
    for cell in stats_cell::Entity::find()
        .filter(stats_cell::Column::Month.gte(from.to_string()))
        .filter(stats_cell::Column::Month.lte(to.to_string()))
        .order_by_asc(stats_cell::Column::Source)
        .order_by_asc(stats_cell::Column::Country)
        .all(db)
        .await?
    {
        cells.entry(cell.month.clone()).or_default().push(cell);
    }
    Ok(found
        .into_iter()
        .map(|release| Release {
            cells: cells.remove(&release.month).unwrap_or_default(),
            release,
        })
        .collect())
}

/// A key read these releases: the first read of each spends its ε from the
/// key's budget for that month (later reads return the same values and
/// spend nothing). Returns when each was first read; records the read.
pub struct Spend {
    pub actor: Actor,
    pub key_id: Uuid,
    /// Month and the ε its release was made with.
    pub releases: Vec<(String, Option<String>)>,
}

impl Unit for Spend {
    type Output = BTreeMap<String, DateTime<Utc>>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<Self::Output, DbErr> {
        if !self.releases.is_empty() {
            let rows = self
                .releases
                .iter()
                .map(|(month, epsilon)| stats_ledger::ActiveModel {
                    api_key_id: Set(self.key_id),
                    month: Set(month.clone()),
                    epsilon: Set(epsilon.clone()),
                    spent_at: Set(now),
                });
            stats_ledger::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        stats_ledger::Column::ApiKeyId,
                        stats_ledger::Column::Month,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        audit::record(txn, now, &self.actor, "stats.read", None, None).await?;
        let months = self.releases.iter().map(|(month, _)| month.clone());
        Ok(stats_ledger::Entity::find()
            .filter(stats_ledger::Column::ApiKeyId.eq(self.key_id))
            .filter(stats_ledger::Column::Month.is_in(months))
            .all(txn)
            .await?
            .into_iter()
            .map(|row| (row.month, row.spent_at))
            .collect())
    }
}
