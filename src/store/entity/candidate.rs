//! One person, known by their normalised email: it groups a person's
//! applications (for retention and their rights requests) and holds nothing
//! else but the month they last counted in the statistics. Contact details
//! belong to each application.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "candidates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email_normalised: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The last month (`YYYY-MM`) one of their applications counted in the statistics.
    pub stats_month: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
