//! A data-subject request and its deadline. `candidate_id` is no foreign
//! key: the record of a fulfilled erasure stays after the candidate goes.

use sea_orm::entity::prelude::*;

use crate::domain::subject_request::{
    Standing, SubjectRequestChannel, SubjectRequestKind, SubjectRequestStatus,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subject_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: SubjectRequestKind,
    pub channel: SubjectRequestChannel,
    pub status: SubjectRequestStatus,
    /// None: we hold nothing on the person (or did not when it arrived).
    pub candidate_id: Option<Uuid>,
    pub received_at: DateTimeUtc,
    /// One calendar month after receipt.
    pub due_at: DateTimeUtc,
    /// The extended deadline, when there is one.
    pub extended_until: Option<DateTimeUtc>,
    pub extension_reason: Option<String>,
    /// What an admin checked of a request by email or letter.
    pub identity_evidence: Option<String>,
    pub details: Option<String>,
    pub refusal_reason: Option<String>,
    pub completed_at: Option<DateTimeUtc>,
    /// When the officer was reminded of the current deadline.
    pub officer_reminded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl Model {
    pub fn standing(&self) -> Standing {
        Standing {
            status: self.status,
            due_at: self.due_at,
            extended_until: self.extended_until,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
