//! A stored file of an application (CV, picture); the bytes live in the object store.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub kind: crate::domain::sniff::DocumentKind,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Random; nothing the client sent is part of it.
    #[sea_orm(unique)]
    pub object_key: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
