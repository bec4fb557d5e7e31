//! A consent about how long an application is kept.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    /// `extension` or `erasure`.
    pub kind: crate::retention::policy::ConsentKind,
    pub purpose: String,
    pub evidence: String,
    pub granted_at: DateTimeUtc,
    pub api_key_id: Option<Uuid>,
    pub actor: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
