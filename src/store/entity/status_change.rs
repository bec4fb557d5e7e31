//! One move of an application through the pipeline.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub from_status: crate::domain::status::ApplicationStatus,
    pub to_status: crate::domain::status::ApplicationStatus,
    pub reason: Option<String>,
    pub api_key_id: Option<Uuid>,
    pub actor: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
