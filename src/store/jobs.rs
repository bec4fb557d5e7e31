//! Jobs: create, read, list, update.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, QueryOrder, QuerySelect, prelude::*};

use super::entity::job;
use crate::domain::status::JobStatus;

pub struct NewJob {
    pub title: String,
    pub country: String,
    pub department: Option<String>,
    pub location: Option<String>,
    pub indeed_job_id: Option<String>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewJob) -> Result<job::Model, DbErr> {
    let now = Utc::now();
    job::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(new.title),
        country: Set(new.country),
        department: Set(new.department),
        location: Set(new.location),
        status: Set(JobStatus::Open.as_str().to_owned()),
        indeed_job_id: Set(new.indeed_job_id),
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
        query = query.filter(job::Column::Status.eq(status.as_str()));
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

pub async fn update(
    db: &impl ConnectionTrait,
    current: job::Model,
    changes: JobChanges,
) -> Result<job::Model, DbErr> {
    let now = Utc::now();
    let was_open = current.status == JobStatus::Open.as_str();
    let mut active: job::ActiveModel = current.into();
    if let Some(title) = changes.title {
        active.title = Set(title);
    }
    if let Some(country) = changes.country {
        active.country = Set(country);
    }
    if let Some(department) = changes.department {
        active.department = Set(department);
    }
    if let Some(location) = changes.location {
        active.location = Set(location);
    }
    if let Some(indeed_job_id) = changes.indeed_job_id {
        active.indeed_job_id = Set(indeed_job_id);
    }
    match changes.status {
        Some(JobStatus::Closed) if was_open => {
            active.status = Set(JobStatus::Closed.as_str().to_owned());
            active.closed_at = Set(Some(now));
        }
        Some(JobStatus::Open) if !was_open => {
            active.status = Set(JobStatus::Open.as_str().to_owned());
            active.closed_at = Set(None);
        }
        _ => {}
    }
    active.updated_at = Set(now);
    active.update(db).await
}
