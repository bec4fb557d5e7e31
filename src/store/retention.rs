//! What an application's retention depends on, read from the database.

use sea_orm::{ConnectionTrait, DbErr, QueryOrder, prelude::*};

use super::entity::{application, job, status_change};
use crate::domain::{retention::Facts, status::ApplicationStatus};

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
    Ok(Some(Facts {
        status: ApplicationStatus::parse(&application.status),
        decided_at: application.decided_at,
        job_country: job.country,
        job_closed_at: job.closed_at,
        reopened_at,
        last_activity: application.updated_at,
        talent_pool_consent: application.talent_pool_consent,
        extensions: Vec::new(),
        erase_requested_at: None,
        hold: None,
    }))
}
