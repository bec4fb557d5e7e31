//! Moves through the recruitment pipeline and their history.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, QueryOrder, prelude::*};

use super::{
    audit::Actor,
    entity::{application, status_change},
};
use crate::domain::status::ApplicationStatus;

/// Moves the application (already checked against the pipeline) and records
/// the move. A final status sets `decided_at`; reopening clears it.
pub async fn move_status(
    db: &impl ConnectionTrait,
    current: application::Model,
    to: ApplicationStatus,
    reason: Option<String>,
    actor: &Actor,
) -> Result<application::Model, DbErr> {
    let now = Utc::now();
    let from = current.status.clone();
    let mut active: application::ActiveModel = current.into();
    active.status = Set(to.as_str().to_owned());
    active.decided_at = Set(to.is_final().then_some(now));
    active.updated_at = Set(now);
    let moved = active.update(db).await?;
    status_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(moved.id),
        from_status: Set(from),
        to_status: Set(to.as_str().to_owned()),
        reason: Set(reason),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(moved)
}

/// An application's status changes, oldest first.
pub async fn status_changes(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<status_change::Model>, DbErr> {
    status_change::Entity::find()
        .filter(status_change::Column::ApplicationId.eq(application_id))
        .order_by_asc(status_change::Column::Id)
        .all(db)
        .await
}
