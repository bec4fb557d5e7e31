//! Applications with their documents: intake, reads, rectification. Each
//! application carries the contact details it was submitted with; the
//! candidate row only groups a person's applications by normalised email and
//! is never changed by a submission.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, QueryOrder, QuerySelect,
    QueryTrait, SelectModel, Selector,
    prelude::*,
    sea_query::{Alias, ExprTrait, Func, LikeExpr, OnConflict},
};

use super::{
    audit::{AccessLog, Actor, Showed},
    entity::{application, candidate, document, job},
};
use crate::{
    domain::{fields::Email, status::ApplicationStatus},
    retention::policy::{Facts, Policy},
};

/// A person's details as one application gives them.
#[derive(Clone, Debug)]
pub struct ContactDetails {
    pub full_name: String,
    pub email: Email,
    pub phone: Option<String>,
}

/// The candidate who owns this address, made on its first application. Only
/// the normalised address is written, and never changed by a later one.
pub async fn candidate_for(
    db: &impl ConnectionTrait,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<candidate::Model, DbErr> {
    candidate::Entity::insert(new_candidate(email, now, None))
        .on_conflict(
            OnConflict::column(candidate::Column::EmailNormalised)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    candidate_by_email(db, email)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the candidate just written".into()))
}

/// The candidate a new application of this address belongs to (made if
/// new, as [`candidate_for`]), and whether the application is their first
/// this month, which is what counts in the statistics: the month is then
/// claimed on the candidate. One statement where the candidate is new or
/// not yet counted this month, so two applications of one candidate at once
/// cannot both be first (the second waits for the first's row and sees its
/// month); a candidate already counted is then read by a second.
pub async fn candidate_of_application(
    db: &impl ConnectionTrait,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<(candidate::Model, bool), DbErr> {
    use candidate::Column;
    let month = crate::domain::stats::Month::of(now).to_string();
    // An existing candidate takes the month only if it is not theirs yet.
    let stored_month = || Expr::col((candidate::Entity, Column::StatsMonth));
    let new_month = Expr::col((Alias::new("excluded"), Column::StatsMonth));
    let claim = OnConflict::column(Column::EmailNormalised)
        .update_column(Column::StatsMonth)
        .action_and_where(stored_month().is_null().or(stored_month().ne(new_month)))
        .to_owned();
    let mut insert = candidate::Entity::insert(new_candidate(email, now, Some(month)))
        .on_conflict(claim)
        .into_query();
    insert.returning_all();
    let claimed = db
        .query_one_raw(db.get_database_backend().build(&insert))
        .await?;
    if let Some(row) = claimed {
        return Ok((candidate::Model::from_query_result(&row, "")?, true));
    }
    let counted = candidate_by_email(db, email)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the candidate of a conflicting address".into()))?;
    Ok((counted, false))
}

/// A new candidate of this address: only the normalised address is written.
fn new_candidate(
    email: &Email,
    now: DateTime<Utc>,
    stats_month: Option<String>,
) -> candidate::ActiveModel {
    candidate::ActiveModel {
        id: Set(Uuid::now_v7()),
        email_normalised: Set(email.normalised.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        stats_month: Set(stats_month),
    }
}

/// The candidate who owns this address, if we hold anything on them.
pub async fn candidate_by_email(
    db: &impl ConnectionTrait,
    email: &Email,
) -> Result<Option<candidate::Model>, DbErr> {
    candidate::Entity::find()
        .filter(candidate::Column::EmailNormalised.eq(email.normalised.as_str()))
        .one(db)
        .await
}

/// The candidate's most recent application: where mail to them is logged.
pub async fn latest_of_candidate(
    db: &impl ConnectionTrait,
    candidate_id: Uuid,
) -> Result<Option<Uuid>, DbErr> {
    application::Entity::find()
        .select_only()
        .column(application::Column::Id)
        .filter(application::Column::CandidateId.eq(candidate_id))
        .order_by_desc(application::Column::Id)
        .into_tuple()
        .one(db)
        .await
}

#[derive(Clone, Debug)]
pub struct NewApplication {
    pub id: Uuid,
    pub job_id: Uuid,
    pub contact: ContactDetails,
    pub cover_letter: Option<String>,
    pub linkedin_url: Option<String>,
    pub indeed_url: Option<String>,
    pub source: Option<String>,
    /// The statistics source it would count under (see `domain::stats`).
    pub stats_source: String,
    pub privacy_notice_version: String,
    pub talent_pool_consent: bool,
    /// JSON object: each field's name to where its value came from.
    pub provenance: Option<String>,
    /// The language the candidate applied in, if the careers site said.
    pub locale: Option<crate::domain::lang::Lang>,
}

/// Inserts a new application for `candidate_id`, with the purge date a new
/// application has: no decision yet, so the inactivity period runs from now.
/// It counts in the statistics when `counts` says it is the candidate's first
/// this month (see [`candidate_of_application`]).
pub async fn insert(
    db: &impl ConnectionTrait,
    new: &NewApplication,
    candidate_id: Uuid,
    counts: bool,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<application::Model, DbErr> {
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
        candidate_id: Set(candidate_id),
        status: Set(ApplicationStatus::New),
        full_name: Set(new.contact.full_name.clone()),
        email: Set(new.contact.email.address.clone()),
        phone: Set(new.contact.phone.clone()),
        cover_letter: Set(new.cover_letter.clone()),
        linkedin_url: Set(new.linkedin_url.clone()),
        indeed_url: Set(new.indeed_url.clone()),
        source: Set(new.source.clone()),
        stats_source: Set(counts.then(|| new.stats_source.clone())),
        privacy_notice_version: Set(new.privacy_notice_version.clone()),
        talent_pool_consent: Set(new.talent_pool_consent),
        provenance: Set(new.provenance.clone()),
        decided_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        purge_after: Set(Some(purge_after)),
        reminded_for: Set(None),
        retention_policy: Set(Some(policy.fingerprint())),
        locale: Set(new.locale.map(|lang| lang.as_str().to_owned())),
        restricted_at: Set(None),
    }
    .insert(db)
    .await
}

#[derive(Clone, Debug)]
pub struct NewDocument {
    pub kind: crate::domain::sniff::DocumentKind,
    pub content_type: &'static str,
    pub size: u64,
    pub sha256: String,
    pub object_key: String,
}

pub async fn insert_document(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    new: &NewDocument,
    now: DateTime<Utc>,
) -> Result<document::Model, DbErr> {
    document::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        kind: Set(new.kind),
        content_type: Set(new.content_type.to_owned()),
        size: Set(new.size as i64),
        sha256: Set(new.sha256.clone()),
        object_key: Set(new.object_key.clone()),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

/// The application row alone, without its documents.
pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find_by_id(id).one(db).await
}

/// An application with its documents.
pub struct ApplicationRecord {
    pub application: application::Model,
    pub documents: Vec<document::Model>,
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<ApplicationRecord>, DbErr> {
    let Some(application) = find(db, id).await? else {
        return Ok(None);
    };
    let documents = documents_of(db, id).await?;
    Ok(Some(ApplicationRecord {
        application,
        documents,
    }))
}

pub async fn documents_of(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<document::Model>, DbErr> {
    document::Entity::find()
        .filter(document::Column::ApplicationId.eq(application_id))
        .order_by_asc(document::Column::Id)
        .all(db)
        .await
}

/// The candidate row alone.
pub async fn find_candidate(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<candidate::Model>, DbErr> {
    candidate::Entity::find_by_id(id).one(db).await
}

/// Every application of a candidate with its job, oldest first.
pub async fn of_candidate(
    db: &impl ConnectionTrait,
    candidate_id: Uuid,
) -> Result<Vec<(application::Model, job::Model)>, DbErr> {
    let rows = application::Entity::find()
        .filter(application::Column::CandidateId.eq(candidate_id))
        .find_also_related(job::Entity)
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(application, job)| {
            job.map(|job| (application, job))
                .ok_or_else(|| DbErr::RecordNotFound("an application's job".into()))
        })
        .collect()
}

#[derive(Default)]
pub struct ListFilter {
    /// Whether applications whose processing is restricted are listed.
    pub restricted: bool,
    pub job_id: Option<Uuid>,
    pub status: Option<ApplicationStatus>,
    /// Part of the name or email, any case.
    pub query: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    /// The last id of the previous page.
    pub before: Option<Uuid>,
    pub limit: u64,
}

/// Since when an application's processing is restricted, if it is.
pub async fn restricted_since(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(application::Entity::find_by_id(id)
        .select_only()
        .column(application::Column::RestrictedAt)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten())
}

/// What a page of applications shows of each: read alone, so that a page
/// costs neither the database nor the service the cover letters and the
/// rest of the record.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Summary {
    pub id: Uuid,
    pub job_id: Uuid,
    pub status: ApplicationStatus,
    pub full_name: String,
    pub email: String,
    pub source: Option<String>,
    pub created_at: DateTimeUtc,
}

/// A page of applications, newest first, keyed by id (UUIDv7, so time
/// order), answered once `log` has recorded it as `actor`'s listing.
pub async fn list(
    db: &DatabaseConnection,
    log: &AccessLog,
    filter: ListFilter,
    actor: Actor,
) -> Result<Vec<Summary>, DbErr> {
    let read = list_query(filter).into_statement(db.get_database_backend());
    log.read(db, read, actor, "application.listed", Showed::Listing)
        .await?
        .iter()
        .map(|row| Summary::from_query_result(row, ""))
        .collect()
}

/// The query [`list`] runs (public so that a benchmark can send its SQL).
pub fn list_query(filter: ListFilter) -> Selector<SelectModel<Summary>> {
    use application::Column;
    let mut query = application::Entity::find()
        .select_only()
        .columns([
            Column::Id,
            Column::JobId,
            Column::Status,
            Column::FullName,
            Column::Email,
            Column::Source,
            Column::CreatedAt,
        ])
        .order_by_desc(application::Column::Id)
        .limit(filter.limit);
    if !filter.restricted {
        query = query.filter(application::Column::RestrictedAt.is_null());
    }
    if let Some(job_id) = filter.job_id {
        query = query.filter(application::Column::JobId.eq(job_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(application::Column::Status.eq(status));
    }
    if let Some(after) = filter.created_after {
        query = query.filter(application::Column::CreatedAt.gt(after));
    }
    if let Some(before) = filter.before {
        query = query.filter(application::Column::Id.lt(before));
    }
    if let Some(text) = filter.query {
        let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
        let lower_like = |column: application::Column| {
            Expr::expr(Func::lower(Expr::col((application::Entity, column))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            lower_like(application::Column::FullName).or(lower_like(application::Column::Email)),
        );
    }
    query.into_model::<Summary>()
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Corrections of one application (rectification). `None` keeps a field;
/// `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct Rectification {
    pub full_name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Option<String>>,
    pub cover_letter: Option<Option<String>>,
    pub linkedin_url: Option<Option<String>>,
    pub indeed_url: Option<Option<String>>,
}

/// Corrects the application. A corrected email moves it to the candidate of
/// that address (the person it belongs to); a candidate left without
/// applications goes, and hands their subject requests on.
pub async fn rectify(
    db: &impl ConnectionTrait,
    current: application::Model,
    changes: &Rectification,
    now: DateTime<Utc>,
) -> Result<application::Model, DbErr> {
    let old_candidate = current.candidate_id;
    let mut active: application::ActiveModel = current.into();
    if let Some(full_name) = &changes.full_name {
        active.full_name = Set(full_name.clone());
    }
    if let Some(email) = &changes.email {
        active.email = Set(email.address.clone());
        active.candidate_id = Set(candidate_for(db, email, now).await?.id);
    }
    if let Some(phone) = &changes.phone {
        active.phone = Set(phone.clone());
    }
    if let Some(cover_letter) = &changes.cover_letter {
        active.cover_letter = Set(cover_letter.clone());
    }
    if let Some(url) = &changes.linkedin_url {
        active.linkedin_url = Set(url.clone());
    }
    if let Some(url) = &changes.indeed_url {
        active.indeed_url = Set(url.clone());
    }
    active.updated_at = Set(now);
    let updated = active.update(db).await?;
    if updated.candidate_id != old_candidate {
        delete_candidates_without_applications(db, &[old_candidate]).await?;
        // The person is known by the new address now: their subject requests
        // follow them, so an erasure request does not look fulfilled.
        if candidate::Entity::find_by_id(old_candidate)
            .one(db)
            .await?
            .is_none()
        {
            super::subject_requests::hand_over(db, old_candidate, updated.candidate_id).await?;
        }
    }
    Ok(updated)
}

/// Deletes those of these candidates that have no application left.
pub async fn delete_candidates_without_applications(
    db: &impl ConnectionTrait,
    candidate_ids: &[Uuid],
) -> Result<(), DbErr> {
    let remaining = sea_orm::sea_query::Query::select()
        .expr(Expr::val(1))
        .from(application::Entity)
        .and_where(
            Expr::col((application::Entity, application::Column::CandidateId))
                .equals((candidate::Entity, candidate::Column::Id)),
        )
        .to_owned();
    candidate::Entity::delete_many()
        .filter(candidate::Column::Id.is_in(candidate_ids.iter().copied()))
        .filter(sea_orm::Condition::all().add(Expr::exists(remaining).not()))
        .exec(db)
        .await
        .map(|_| ())
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

/// Who an application's mail goes to (the details it was submitted with),
/// and what it is about.
#[derive(Clone, Debug)]
pub struct Addressee {
    pub full_name: String,
    pub email: String,
    pub job_title: String,
    /// The language their mails are in.
    pub lang: crate::domain::lang::Lang,
}

pub async fn addressee(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Option<Addressee>, DbErr> {
    let Some((application, Some(job))) = application::Entity::find_by_id(application_id)
        .find_also_related(job::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Addressee {
        full_name: application.full_name,
        email: application.email,
        job_title: job.title,
        lang: application
            .locale
            .as_deref()
            .and_then(crate::domain::lang::Lang::parse)
            .unwrap_or_default(),
    }))
}

/// A recruiter's correction of an application, with its new purge date and
/// audit event; `None` when there is no such application.
pub struct Rectify {
    pub id: Uuid,
    pub changes: Rectification,
    pub actor: super::audit::Actor,
    pub policy: std::sync::Arc<Policy>,
}

impl super::writer::Unit for Rectify {
    type Output = Option<application::Model>;

    async fn run(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<Option<application::Model>, DbErr> {
        let Some(current) = application::Entity::find_by_id(self.id)
            .lock_exclusive()
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        rectify(txn, current, &self.changes, now).await?;
        crate::retention::records::refresh(txn, &self.policy, &[self.id], now).await?;
        super::audit::record(
            txn,
            now,
            &self.actor,
            "application.rectified",
            Some(self.id),
            None,
        )
        .await?;
        find(txn, self.id).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::writer;

    /// A candidate's first application of a month counts, the next of the
    /// same month does not, and the first of the next month does again.
    #[tokio::test]
    async fn a_candidate_counts_once_a_month() {
        let (writer, db, _dir) = writer::sqlite_for_tests(false).await;
        writer.migrate().await.unwrap();
        let ada = Email::parse("email", "Ada@Example.com").unwrap();
        let grace = Email::parse("email", "grace@example.com").unwrap();
        let march = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let later_in_march = Utc.with_ymd_and_hms(2026, 3, 30, 9, 0, 0).unwrap();
        let april = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();

        let (first, counts) = candidate_of_application(&db, &ada, march).await.unwrap();
        assert!(counts);
        assert_eq!(first.stats_month.as_deref(), Some("2026-03"));
        let (again, counts) = candidate_of_application(&db, &ada, later_in_march)
            .await
            .unwrap();
        assert!(!counts);
        assert_eq!(again, first, "the same candidate, unchanged");
        let (other, counts) = candidate_of_application(&db, &grace, later_in_march)
            .await
            .unwrap();
        assert!(counts);
        assert_ne!(other.id, first.id);
        let (next, counts) = candidate_of_application(&db, &ada, april).await.unwrap();
        assert!(counts);
        assert_eq!(next.id, first.id);
        assert_eq!(next.created_at, first.created_at);
        assert_eq!(next.stats_month.as_deref(), Some("2026-04"));
        let (_, counts) = candidate_of_application(&db, &ada, april).await.unwrap();
        assert!(!counts);
    }
}
