//! An application joins a candidate to a job.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub job_id: Uuid,
    pub candidate_id: Uuid,
    pub status: crate::domain::status::ApplicationStatus,
    /// The contact details submitted with this application (or corrected).
    pub full_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub cover_letter: Option<String>,
    pub linkedin_url: Option<String>,
    pub indeed_url: Option<String>,
    pub source: Option<String>,
    /// The statistics source it counts under; `None`: it does not count
    /// (not its candidate's first application of the month).
    pub stats_source: Option<String>,
    pub privacy_notice_version: String,
    pub talent_pool_consent: bool,
    /// JSON object: each field's name to where its value came from.
    pub provenance: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the purge takes it, as of its last change (holds aside).
    pub purge_after: Option<DateTimeUtc>,
    /// The purge date the candidate was reminded of.
    pub reminded_for: Option<DateTimeUtc>,
    /// Fingerprint of the policy `purge_after` was computed with.
    pub retention_policy: Option<String>,
    /// The language its candidate reads (`en`, `nl`, `fr`, `de`), if known.
    pub locale: Option<String>,
    /// Since when the candidate has restricted its processing: kept, but
    /// frozen for recruiters and the purge.
    pub restricted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::candidate::Entity",
        from = "Column::CandidateId",
        to = "super::candidate::Column::Id"
    )]
    Candidate,
    #[sea_orm(
        belongs_to = "super::job::Entity",
        from = "Column::JobId",
        to = "super::job::Column::Id"
    )]
    Job,
}

impl Related<super::candidate::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Candidate.def()
    }
}

impl Related<super::job::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Job.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
