//! What stays of a purged application: ids, dates and the rule, nothing personal.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purge_receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub application_id: Uuid,
    pub job_id: Uuid,
    pub outcome: Option<crate::domain::status::ApplicationStatus>,
    pub clock_start: Option<DateTimeUtc>,
    pub purge_after: DateTimeUtc,
    pub purged_at: DateTimeUtc,
    pub rule: String,
    /// `scheduled`, or `erased` by an admin.
    pub reason: String,
    pub objects_deleted: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
