//! Applications with their candidate and documents: intake, reads, rectification.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DbErr, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{ExprTrait, Func, LikeExpr, OnConflict},
};

use super::entity::{application, candidate, document, job};
use crate::domain::{
    fields::Email,
    retention::{Facts, Policy},
    status::ApplicationStatus,
};

/// The person's details as the intake form or a correction gives them.
#[derive(Clone)]
pub struct CandidateDetails {
    pub full_name: String,
    pub email: Email,
    pub phone: Option<String>,
}

/// Finds the candidate by normalised email, creating them or refreshing their
/// name and contact details with the latest submission; one statement.
pub async fn upsert_candidate(
    db: &impl ConnectionTrait,
    details: &CandidateDetails,
) -> Result<candidate::Model, DbErr> {
    let now = Utc::now();
    let row = candidate::ActiveModel {
        id: Set(Uuid::now_v7()),
        email_normalised: Set(details.email.normalised.clone()),
        email: Set(details.email.address.clone()),
        full_name: Set(details.full_name.clone()),
        phone: Set(details.phone.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    candidate::Entity::insert(row)
        .on_conflict(
            OnConflict::column(candidate::Column::EmailNormalised)
                .update_columns([
                    candidate::Column::FullName,
                    candidate::Column::Email,
                    candidate::Column::UpdatedAt,
                ])
                .value(
                    candidate::Column::Phone,
                    Expr::cust("COALESCE(excluded.phone, candidates.phone)"),
                )
                .to_owned(),
        )
        .exec_with_returning(db)
        .await
}

#[derive(Clone)]
pub struct NewApplication {
    pub id: Uuid,
    pub job_id: Uuid,
    pub candidate_id: Uuid,
    pub cover_letter: Option<String>,
    pub linkedin_url: Option<String>,
    pub indeed_url: Option<String>,
    pub source: Option<String>,
    pub privacy_notice_version: String,
    pub talent_pool_consent: bool,
    pub intake_key: Option<String>,
    /// JSON object: each field's name to where its value came from.
    pub provenance: Option<String>,
}

/// Inserts a new application, with the purge date a new application has:
/// no decision yet, so the inactivity period runs from now.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewApplication,
    policy: &Policy,
) -> Result<application::Model, DbErr> {
    let now = Utc::now();
    let facts = Facts {
        status: Some(ApplicationStatus::New),
        last_activity: now,
        talent_pool_consent: new.talent_pool_consent,
        ..Facts::default()
    };
    let purge_after = policy.retention(&facts, now).purge_after;
    application::ActiveModel {
        id: Set(new.id),
        job_id: Set(new.job_id),
        candidate_id: Set(new.candidate_id),
        status: Set(ApplicationStatus::New.as_str().to_owned()),
        cover_letter: Set(new.cover_letter),
        linkedin_url: Set(new.linkedin_url),
        indeed_url: Set(new.indeed_url),
        source: Set(new.source),
        privacy_notice_version: Set(new.privacy_notice_version),
        talent_pool_consent: Set(new.talent_pool_consent),
        intake_key: Set(new.intake_key),
        provenance: Set(new.provenance),
        decided_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        purge_after: Set(Some(purge_after)),
        reminded_for: Set(None),
        retention_policy: Set(Some(policy.fingerprint())),
    }
    .insert(db)
    .await
}

pub struct NewDocument {
    pub application_id: Uuid,
    pub kind: &'static str,
    pub content_type: &'static str,
    pub size: u64,
    pub sha256: String,
    pub object_key: String,
}

pub async fn insert_document(
    db: &impl ConnectionTrait,
    new: NewDocument,
) -> Result<document::Model, DbErr> {
    document::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(new.application_id),
        kind: Set(new.kind.to_owned()),
        content_type: Set(new.content_type.to_owned()),
        size: Set(new.size as i64),
        sha256: Set(new.sha256),
        object_key: Set(new.object_key),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
}

pub async fn find_by_intake_key(
    db: &impl ConnectionTrait,
    intake_key: &str,
) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find()
        .filter(application::Column::IntakeKey.eq(intake_key))
        .one(db)
        .await
}

/// The application row alone, without its candidate and documents.
pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find_by_id(id).one(db).await
}

/// An application with everything a recruiter reads about it.
pub struct ApplicationRecord {
    pub application: application::Model,
    pub candidate: candidate::Model,
    pub documents: Vec<document::Model>,
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<ApplicationRecord>, DbErr> {
    let Some((application, Some(candidate))) = application::Entity::find_by_id(id)
        .find_also_related(candidate::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let documents = document::Entity::find()
        .filter(document::Column::ApplicationId.eq(id))
        .order_by_asc(document::Column::Id)
        .all(db)
        .await?;
    Ok(Some(ApplicationRecord {
        application,
        candidate,
        documents,
    }))
}

#[derive(Default)]
pub struct ListFilter {
    pub job_id: Option<Uuid>,
    pub status: Option<ApplicationStatus>,
    /// Part of the name or email, any case.
    pub query: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    /// The last id of the previous page.
    pub before: Option<Uuid>,
    pub limit: u64,
}

/// A page of applications, newest first, keyed by id (UUIDv7, so time order).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: ListFilter,
) -> Result<Vec<(application::Model, candidate::Model)>, DbErr> {
    let mut query = application::Entity::find()
        .find_also_related(candidate::Entity)
        .order_by_desc(application::Column::Id)
        .limit(filter.limit);
    if let Some(job_id) = filter.job_id {
        query = query.filter(application::Column::JobId.eq(job_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(application::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = filter.created_after {
        query = query.filter(application::Column::CreatedAt.gt(after));
    }
    if let Some(before) = filter.before {
        query = query.filter(application::Column::Id.lt(before));
    }
    if let Some(text) = filter.query {
        let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
        let name = Expr::expr(Func::lower(Expr::col((
            candidate::Entity,
            candidate::Column::FullName,
        ))))
        .like(LikeExpr::new(pattern.clone()).escape('\\'));
        let email = Expr::col((candidate::Entity, candidate::Column::EmailNormalised))
            .like(LikeExpr::new(pattern).escape('\\'));
        query = query.filter(name.or(email));
    }
    let rows = query.all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(app, candidate)| candidate.map(|c| (app, c)))
        .collect())
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[derive(Default)]
pub struct CandidateChanges {
    pub full_name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Option<String>>,
}

/// Corrects the person's record. A new email already used by another
/// candidate is a unique violation for the caller to report.
pub async fn rectify_candidate(
    db: &impl ConnectionTrait,
    current: candidate::Model,
    changes: CandidateChanges,
) -> Result<candidate::Model, DbErr> {
    let mut active: candidate::ActiveModel = current.into();
    if let Some(full_name) = changes.full_name {
        active.full_name = Set(full_name);
    }
    if let Some(email) = changes.email {
        active.email = Set(email.address);
        active.email_normalised = Set(email.normalised);
    }
    if let Some(phone) = changes.phone {
        active.phone = Set(phone);
    }
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

pub struct ApplicationChanges {
    pub cover_letter: Option<Option<String>>,
    pub linkedin_url: Option<Option<String>>,
    pub indeed_url: Option<Option<String>>,
}

pub async fn rectify_application(
    db: &impl ConnectionTrait,
    current: application::Model,
    changes: ApplicationChanges,
) -> Result<application::Model, DbErr> {
    let mut active: application::ActiveModel = current.into();
    if let Some(cover_letter) = changes.cover_letter {
        active.cover_letter = Set(cover_letter);
    }
    if let Some(url) = changes.linkedin_url {
        active.linkedin_url = Set(url);
    }
    if let Some(url) = changes.indeed_url {
        active.indeed_url = Set(url);
    }
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

pub async fn get_document(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    document_id: Uuid,
) -> Result<Option<document::Model>, DbErr> {
    document::Entity::find_by_id(document_id)
        .filter(document::Column::ApplicationId.eq(application_id))
        .one(db)
        .await
}

/// Which of these object keys a document row refers to.
pub async fn referenced_object_keys(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> Result<Vec<String>, DbErr> {
    document::Entity::find()
        .select_only()
        .column(document::Column::ObjectKey)
        .filter(document::Column::ObjectKey.is_in(keys.iter().cloned()))
        .into_tuple::<String>()
        .all(db)
        .await
}

/// Who an application's mail goes to, and what it is about.
#[derive(Clone, Debug)]
pub struct Addressee {
    pub full_name: String,
    pub email: String,
    pub job_title: String,
}

pub async fn addressee(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Option<Addressee>, DbErr> {
    let Some((application, Some(candidate))) = application::Entity::find_by_id(application_id)
        .find_also_related(candidate::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(job) = job::Entity::find_by_id(application.job_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(Addressee {
        full_name: candidate.full_name,
        email: candidate.email,
        job_title: job.title,
    }))
}
