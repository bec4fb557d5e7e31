//! A planned interview.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "interviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub api_key_id: Option<Uuid>,
    pub actor: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// Minutes east of UTC the times were given in.
    pub utc_offset_minutes: i32,
    pub kind: crate::domain::interview::InterviewKind,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
    /// A JSON array of names or addresses.
    pub interviewers: Json,
    pub status: crate::domain::interview::InterviewStatus,
    pub feedback: Option<String>,
    /// RFC 5545 SEQUENCE, bumped by every change.
    pub sequence: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
