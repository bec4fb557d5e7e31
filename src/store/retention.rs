//! What an application's retention depends on, read from the database.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, QueryOrder, prelude::*};

use super::{
    audit::Actor,
    entity::{application, consent, job, legal_hold, status_change},
};
use crate::domain::{
    retention::{ConsentKind, Facts, Hold},
    status::ApplicationStatus,
};

/// The facts of one application (none when it or its job is gone).
pub async fn facts(
    db: &impl ConnectionTrait,
    application: &application::Model,
) -> Result<Option<Facts>, DbErr> {
    let Some(job) = job::Entity::find_by_id(application.job_id).one(db).await? else {
        return Ok(None);
    };
    let reopening = [
        ApplicationStatus::Rejected.as_str(),
        ApplicationStatus::Withdrawn.as_str(),
    ];
    let reopened_at = status_change::Entity::find()
        .filter(status_change::Column::ApplicationId.eq(application.id))
        .filter(status_change::Column::FromStatus.is_in(reopening))
        .order_by_desc(status_change::Column::Id)
        .one(db)
        .await?
        .map(|change| change.at);
    let consents = consent::Entity::find()
        .filter(consent::Column::ApplicationId.eq(application.id))
        .order_by_asc(consent::Column::GrantedAt)
        .all(db)
        .await?;
    let hold = legal_hold::Entity::find_by_id(application.id)
        .one(db)
        .await?;
    Ok(Some(Facts {
        status: ApplicationStatus::parse(&application.status),
        decided_at: application.decided_at,
        job_country: job.country,
        job_closed_at: job.closed_at,
        reopened_at,
        last_activity: application.updated_at,
        talent_pool_consent: application.talent_pool_consent,
        extensions: consents
            .iter()
            .filter(|c| c.kind == ConsentKind::Extension.as_str())
            .map(|c| c.granted_at)
            .collect(),
        erase_requested_at: consents
            .iter()
            .filter(|c| c.kind == ConsentKind::Erasure.as_str())
            .map(|c| c.granted_at)
            .max(),
        hold: hold.map(|hold| Hold { until: hold.until }),
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
