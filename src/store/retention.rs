//! What an application's retention depends on, read from the database.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement, prelude::*,
};

use super::{
    audit::Actor,
    entity::{application, consent, legal_hold},
};
use crate::domain::{
    retention::{ConsentKind, Facts, Hold},
    status::ApplicationStatus,
};

#[derive(FromQueryResult)]
struct FactsRow {
    country: String,
    closed_at: Option<DateTime<Utc>>,
    reopened_at: Option<DateTime<Utc>>,
    extended_at: Option<DateTime<Utc>>,
    erasure_at: Option<DateTime<Utc>>,
    holds: i64,
    hold_until: Option<DateTime<Utc>>,
}

/// The facts of one application (none when its job is gone), in one query:
/// its job, its last reopening, its latest consents (only the latest of each
/// kind matters) and its hold.
pub async fn facts(
    db: &impl ConnectionTrait,
    application: &application::Model,
) -> Result<Option<Facts>, DbErr> {
    let backend = db.get_database_backend();
    let mut n = 0;
    let mut p = || {
        n += 1;
        match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        }
    };
    let sql = format!(
        "SELECT j.country AS country, j.closed_at AS closed_at, \
         (SELECT MAX(s.at) FROM status_changes s WHERE s.application_id = {} \
            AND s.from_status IN ('{rejected}', '{withdrawn}')) AS reopened_at, \
         (SELECT MAX(c.granted_at) FROM consents c WHERE c.application_id = {} \
            AND c.kind = '{extension}') AS extended_at, \
         (SELECT MAX(c.granted_at) FROM consents c WHERE c.application_id = {} \
            AND c.kind = '{erasure}') AS erasure_at, \
         (SELECT COUNT(*) FROM legal_holds h WHERE h.application_id = {}) AS holds, \
         (SELECT h.until FROM legal_holds h WHERE h.application_id = {}) AS hold_until \
         FROM jobs j WHERE j.id = {}",
        p(),
        p(),
        p(),
        p(),
        p(),
        p(),
        rejected = ApplicationStatus::Rejected.as_str(),
        withdrawn = ApplicationStatus::Withdrawn.as_str(),
        extension = ConsentKind::Extension.as_str(),
        erasure = ConsentKind::Erasure.as_str(),
    );
    let id = application.id;
    let values = [id, id, id, id, id, application.job_id].map(Value::from);
    let statement = Statement::from_sql_and_values(backend, sql, values);
    let Some(row) = FactsRow::find_by_statement(statement).one(db).await? else {
        return Ok(None);
    };
    Ok(Some(Facts {
        status: ApplicationStatus::parse(&application.status),
        decided_at: application.decided_at,
        job_country: row.country,
        job_closed_at: row.closed_at,
        reopened_at: row.reopened_at,
        last_activity: application.updated_at,
        talent_pool_consent: application.talent_pool_consent,
        extensions: row.extended_at.into_iter().collect(),
        erase_requested_at: row.erasure_at,
        hold: (row.holds > 0).then_some(Hold {
            until: row.hold_until,
        }),
    }))
}

/// Places a legal hold, replacing any earlier one.
pub async fn place_hold(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    reason: String,
    until: Option<DateTime<Utc>>,
    actor: &Actor,
) -> Result<legal_hold::Model, DbErr> {
    legal_hold::Entity::delete_by_id(application_id)
        .exec(db)
        .await?;
    legal_hold::ActiveModel {
        application_id: Set(application_id),
        reason: Set(reason),
        until: Set(until),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        placed_at: Set(Utc::now()),
    }
    .insert(db)
    .await
}

/// Lifts the hold; whether there was one.
pub async fn lift_hold(db: &impl ConnectionTrait, application_id: Uuid) -> Result<bool, DbErr> {
    let result = legal_hold::Entity::delete_by_id(application_id)
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn record_consent(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    kind: ConsentKind,
    evidence: String,
    actor: &Actor,
) -> Result<consent::Model, DbErr> {
    consent::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        kind: Set(kind.as_str().to_owned()),
        purpose: Set("retention".to_owned()),
        evidence: Set(evidence),
        granted_at: Set(Utc::now()),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
    }
    .insert(db)
    .await
}
