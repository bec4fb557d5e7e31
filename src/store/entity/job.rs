//! A job opening; its country picks the retention rules.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub country: String,
    pub department: Option<String>,
    pub location: Option<String>,
    pub status: crate::domain::status::JobStatus,
    /// The job's id at Indeed, which Indeed Apply posts name.
    #[sea_orm(unique)]
    pub indeed_job_id: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
