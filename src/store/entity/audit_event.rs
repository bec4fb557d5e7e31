//! Who touched which application's personal data, when. Ids only, no personal data.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub api_key_id: Option<Uuid>,
    pub actor: Option<String>,
    pub action: String,
    pub application_id: Option<Uuid>,
    /// Another object the action was about (a document, a key).
    pub subject_id: Option<Uuid>,
    /// What a listing showed: a JSON array of application ids.
    pub shown: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
