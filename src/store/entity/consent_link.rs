//! A link sent to a candidate: only the token's hash is kept.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub application_id: Uuid,
    pub purpose: String,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// `extend` or `withdraw` once used.
    pub used_for: Option<String>,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
