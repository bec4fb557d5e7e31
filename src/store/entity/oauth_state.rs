//! A started sign-in with a provider, kept until it comes back or expires.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Hex SHA-256 of the state sent to the provider.
    #[sea_orm(unique)]
    pub state_hash: String,
    pub provider: crate::domain::imports::Provider,
    pub job_id: Uuid,
    pub return_to: String,
    pub pkce_verifier: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
