//! Jobs: create, read, list, update.

use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, QuerySelect,
    prelude::*,
};

use super::{entity::job, writer::Unit};
use crate::{domain::status::JobStatus, retention::policy::Policy};

pub struct NewJob {
    pub title: String,
    pub country: String,
    pub department: Option<String>,
    pub location: Option<String>,
    pub indeed_job_id: Option<String>,
}

async fn create(
    db: &impl ConnectionTrait,
    new: &NewJob,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<job::Model, DbErr> {
    job::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(new.title.clone()),
        country: Set(new.country.clone()),
        department: Set(new.department.clone()),
        location: Set(new.location.clone()),
        status: Set(JobStatus::Open),
        indeed_job_id: Set(new.indeed_job_id.clone()),
        closed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<job::Model>, DbErr> {
    job::Entity::find_by_id(id).one(db).await
}

/// The job Indeed knows by this id.
/// The titles of these jobs, by id.
pub async fn titles(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<std::collections::HashMap<Uuid, String>, DbErr> {
    Ok(job::Entity::find()
        .filter(job::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|job| (job.id, job.title))
        .collect())
}

pub async fn find_by_indeed_id(
    db: &impl ConnectionTrait,
    indeed_job_id: &str,
) -> Result<Option<job::Model>, DbErr> {
    job::Entity::find()
        .filter(job::Column::IndeedJobId.eq(indeed_job_id))
        .one(db)
        .await
}

/// A page of jobs, oldest first, after the cursor id.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<JobStatus>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    let mut query = job::Entity::find().order_by_asc(job::Column::Id);
    if let Some(status) = status {
        query = query.filter(job::Column::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(job::Column::Id.gt(after));
    }
    query.limit(limit).all(db).await
}

#[derive(Default)]
pub struct JobChanges {
    pub title: Option<String>,
    pub country: Option<String>,
    pub department: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub status: Option<JobStatus>,
    pub indeed_job_id: Option<Option<String>>,
}

async fn update(
    db: &impl ConnectionTrait,
    current: job::Model,
    changes: &JobChanges,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<job::Model, DbErr> {
    let was_open = current.status == JobStatus::Open;
    let mut active: job::ActiveModel = current.into();
    if let Some(title) = &changes.title {
        active.title = Set(title.clone());
    }
    if let Some(country) = &changes.country {
        active.country = Set(country.clone());
    }
    if let Some(department) = &changes.department {
        active.department = Set(department.clone());
    }
    if let Some(location) = &changes.location {
        active.location = Set(location.clone());
    }
    if let Some(indeed_job_id) = &changes.indeed_job_id {
        active.indeed_job_id = Set(indeed_job_id.clone());
    }
    match changes.status {
        Some(JobStatus::Closed) if was_open => {
            active.status = Set(JobStatus::Closed);
            active.closed_at = Set(Some(now));
        }
        Some(JobStatus::Open) if !was_open => {
            active.status = Set(JobStatus::Open);
            active.closed_at = Set(None);
        }
        _ => {}
    }
    active.updated_at = Set(now);
    active.update(db).await
}

/// A new job (see [`create`]).
pub struct CreateJob(pub NewJob);

impl Unit for CreateJob {
    type Output = job::Model;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<job::Model, DbErr> {
        create(txn, &self.0, now).await
    }
}

/// A change to a job; closing, reopening or moving it to another country
/// moves its applications' purge dates in the same transaction. `None` when
/// there is no such job.
pub struct UpdateJob {
    pub id: Uuid,
    pub changes: JobChanges,
    pub policy: Arc<Policy>,
}

impl Unit for UpdateJob {
    type Output = Option<job::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<job::Model>, DbErr> {
        let Some(current) = job::Entity::find_by_id(self.id)
            .lock_exclusive()
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        let changes = &self.changes;
        let moves_retention = changes.status.is_some_and(|s| s != current.status)
            || changes
                .country
                .as_ref()
                .is_some_and(|c| *c != current.country);
        let job = update(txn, current, changes, now).await?;
        if moves_retention {
            crate::retention::records::refresh_job(txn, &self.policy, job.id, now).await?;
        }
        Ok(Some(job))
    }
}
