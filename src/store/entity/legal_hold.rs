//! A legal hold: while it lasts, the application is not purged.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legal_holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub application_id: Uuid,
    pub reason: String,
    pub category: crate::retention::holds::HoldCategory,
    /// The candidate is told the category, never a confidential reason.
    pub confidential: bool,
    pub until: Option<DateTimeUtc>,
    pub api_key_id: Option<Uuid>,
    pub actor: Option<String>,
    pub placed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
