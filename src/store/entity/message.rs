//! An email to or from the candidate: the email log.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub api_key_id: Option<Uuid>,
    pub actor: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// `outbound` or `inbound`.
    pub direction: crate::domain::message::MessageDirection,
    /// `recruiter`, `inbound`, or the template of a system mail.
    pub origin: String,
    pub subject: String,
    pub body: String,
    /// `queued`, `sent`, `failed` or `received`.
    pub status: crate::domain::message::MessageStatus,
    /// The RFC 5322 Message-ID, with its angle brackets.
    pub message_id: String,
    pub sent_at: Option<DateTimeUtc>,
    pub received_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
