//! What an application's retention depends on, read from the database.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::{
    Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    FromQueryResult, QuerySelect, Statement,
    prelude::*,
    sea_query::{ExprTrait, LockBehavior, LockType},
};

use super::policy::{ConsentKind, Facts, Hold, Policy};
use crate::domain::status::ApplicationStatus;
use crate::store::{
    audit::{AccessLog, Actor, Showed},
    entity::{application, document},
    writer::Unit,
};

#[derive(FromQueryResult)]
struct FactsRow {
    id: Uuid,
    country: String,
    closed_at: Option<DateTime<Utc>>,
    reopened_at: Option<DateTime<Utc>>,
    extended_at: Option<DateTime<Utc>>,
    erasure_at: Option<DateTime<Utc>>,
    withdrawn_at: Option<DateTime<Utc>>,
    holds: i64,
    hold_until: Option<DateTime<Utc>>,
}

/// The facts of one application (none when its job is gone).
pub async fn facts(
    db: &impl ConnectionTrait,
    application: &application::Model,
) -> Result<Option<Facts>, DbErr> {
    let mut facts = facts_of(db, std::slice::from_ref(application)).await?;
    Ok(facts.pop().map(|(_, facts)| facts))
}

/// The facts of these applications, in one query: their jobs, their last
/// reopenings, their latest consents (only the latest of each kind matters)
/// and their holds. An application whose job is gone is left out.
pub async fn facts_of(
    db: &impl ConnectionTrait,
    applications: &[application::Model],
) -> Result<Vec<(Uuid, Facts)>, DbErr> {
    if applications.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let placeholders: Vec<String> = (1..=applications.len())
        .map(|n| placeholder(backend, n))
        .collect();
    let sql = format!(
        "SELECT a.id AS id, {facts} FROM applications a JOIN jobs j ON j.id = a.job_id \
         WHERE a.id IN ({ids})",
        facts = facts_columns(),
        ids = placeholders.join(", "),
    );
    let values = applications.iter().map(|a| Value::from(a.id));
    let statement = Statement::from_sql_and_values(backend, sql, values);
    let rows: HashMap<Uuid, FactsRow> = FactsRow::find_by_statement(statement)
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    Ok(applications
        .iter()
        .filter_map(|application| {
            let row = rows.get(&application.id)?;
            Some((application.id, row.facts(application)))
        })
        .collect())
}

/// An application with its facts and its documents, in one query: what
/// reading one application needs, answered once `log` has recorded the
/// read as `actor`'s (a read that finds nothing records nothing). One
/// statement, not one for the documents beside it: on PostgreSQL each
/// statement is a round trip and sqlx's check of the connection on its
/// return another. (An application's job cannot go before it: the foreign
/// key keeps it.)
pub async fn read_with_facts(
    db: &DatabaseConnection,
    log: &AccessLog,
    id: Uuid,
    actor: Actor,
) -> Result<Option<(application::Model, Facts, Vec<document::Model>)>, DbErr> {
    let backend = db.get_database_backend();
    // A row per document (or one without), each named `document_…`.
    let sql = format!(
        "SELECT a.*, {facts}, d.id AS document_id, \
         d.application_id AS document_application_id, d.kind AS document_kind, \
         d.content_type AS document_content_type, d.size AS document_size, \
         d.sha256 AS document_sha256, d.object_key AS document_object_key, \
         d.created_at AS document_created_at \
         FROM applications a JOIN jobs j ON j.id = a.job_id \
         LEFT JOIN documents d ON d.application_id = a.id \
         WHERE a.id = {id} ORDER BY d.id",
        facts = facts_columns(),
        id = placeholder(backend, 1),
    );
    let read = Statement::from_sql_and_values(backend, sql, [Value::from(id)]);
    let rows = log
        .read(db, read, actor, "application.read", Showed::Application(id))
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let application = application::Model::from_query_result(row, "")?;
    let facts = FactsRow::from_query_result(row, "")?.facts(&application);
    let mut documents = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<Uuid>>("", "document_id")?.is_some() {
            documents.push(document::Model::from_query_result(row, "document_")?);
        }
    }
    Ok(Some((application, facts, documents)))
}

fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// The facts' columns of application `a` and its job `j`.
fn facts_columns() -> String {
    format!(
        "j.country AS country, j.closed_at AS closed_at, \
         (SELECT MAX(s.at) FROM status_changes s WHERE s.application_id = a.id \
            AND s.from_status IN ('{rejected}', '{withdrawn}')) AS reopened_at, \
         (SELECT MAX(c.granted_at) FROM consents c WHERE c.application_id = a.id \
            AND c.kind = '{extension}') AS extended_at, \
         (SELECT MAX(c.granted_at) FROM consents c WHERE c.application_id = a.id \
            AND c.kind = '{erasure}') AS erasure_at, \
         (SELECT MAX(c.granted_at) FROM consents c WHERE c.application_id = a.id \
            AND c.kind = '{withdrawal}') AS withdrawn_at, \
         (SELECT COUNT(*) FROM legal_holds h WHERE h.application_id = a.id) AS holds, \
         (SELECT h.until FROM legal_holds h WHERE h.application_id = a.id) AS hold_until",
        rejected = ApplicationStatus::Rejected.as_str(),
        withdrawn = ApplicationStatus::Withdrawn.as_str(),
        extension = ConsentKind::Extension.as_str(),
        erasure = ConsentKind::Erasure.as_str(),
        withdrawal = ConsentKind::Withdrawal.as_str(),
    )
}

impl FactsRow {
    fn facts(&self, application: &application::Model) -> Facts {
        Facts {
            status: Some(application.status),
            decided_at: application.decided_at,
            job_country: self.country.clone(),
            job_closed_at: self.closed_at,
            reopened_at: self.reopened_at,
            last_activity: application.updated_at,
            talent_pool_consent: application.talent_pool_consent,
            extensions: self.extended_at.into_iter().collect(),
            erase_requested_at: self.erasure_at,
            withdrawn_at: self.withdrawn_at,
            hold: (self.holds > 0).then_some(Hold {
                until: self.hold_until,
            }),
        }
    }
}

/// Recomputes the stored purge date of these applications after a change of
/// what it depends on (a status move, a correction, a consent, the job's
/// closing), in the caller's transaction.
pub async fn refresh(
    db: &impl ConnectionTrait,
    policy: &Policy,
    ids: &[Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let applications = application::Entity::find()
        .filter(application::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    refresh_rows(db, policy, &applications, now).await
}

async fn refresh_rows(
    db: &impl ConnectionTrait,
    policy: &Policy,
    applications: &[application::Model],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let fingerprint = policy.fingerprint();
    let current: HashMap<Uuid, &application::Model> =
        applications.iter().map(|a| (a.id, a)).collect();
    for (id, facts) in facts_of(db, applications).await? {
        let purge_after = policy.retention(&facts, now).purge_after;
        let row = current[&id];
        if row.purge_after == Some(purge_after)
            && row.retention_policy.as_deref() == Some(fingerprint.as_str())
        {
            continue;
        }
        application::Entity::update_many()
            .col_expr(application::Column::PurgeAfter, Expr::value(purge_after))
            .col_expr(
                application::Column::RetentionPolicy,
                Expr::value(fingerprint.clone()),
            )
            .filter(application::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Computes the purge date of up to `limit` applications that have none yet
/// or got it under another policy (the configuration changed); how many.
async fn refresh_stale(
    db: &impl ConnectionTrait,
    policy: &Policy,
    limit: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, DbErr> {
    let fingerprint = policy.fingerprint();
    let stale = application::Entity::find()
        .filter(
            Condition::any()
                .add(application::Column::PurgeAfter.is_null())
                .add(application::Column::RetentionPolicy.is_null())
                .add(application::Column::RetentionPolicy.ne(fingerprint)),
        )
        .limit(limit)
        .all(db)
        .await?;
    refresh_rows(db, policy, &stale, now).await?;
    Ok(stale.len())
}

/// The applications of a job, whose purge dates its closing or its country moves.
pub async fn refresh_job(
    db: &impl ConnectionTrait,
    policy: &Policy,
    job_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let applications = application::Entity::find()
        .filter(application::Column::JobId.eq(job_id))
        .all(db)
        .await?;
    for chunk in applications.chunks(500) {
        refresh_rows(db, policy, chunk, now).await?;
    }
    Ok(())
}

/// Applications whose candidate should be reminded by `now`: within
/// `reminder_before` of their purge date, not held, not reminded of this
/// date; locked (skipped by another instance on PostgreSQL).
pub async fn claim_reminders(
    db: &impl ConnectionTrait,
    policy: &Policy,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<application::Model>, DbErr> {
    super::deletion::due(now, now + policy.reminder_before)
        .filter(application::Column::PurgeAfter.gt(now))
        .filter(
            Condition::any()
                .add(application::Column::RemindedFor.is_null())
                .add(ExprTrait::ne(
                    Expr::col(application::Column::RemindedFor),
                    Expr::col(application::Column::PurgeAfter),
                )),
        )
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

/// Records that the candidate was reminded of this purge date.
pub async fn mark_reminded(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    purge_after: DateTime<Utc>,
) -> Result<(), DbErr> {
    application::Entity::update_many()
        .col_expr(application::Column::RemindedFor, Expr::value(purge_after))
        .filter(application::Column::Id.eq(application_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Brings up to `limit` stale purge dates up to the policy (see [`refresh_stale`]).
pub struct RefreshStale {
    pub policy: Arc<Policy>,
    pub limit: u64,
}

impl Unit for RefreshStale {
    type Output = usize;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<usize, DbErr> {
        refresh_stale(txn, &self.policy, self.limit, now).await
    }
}
