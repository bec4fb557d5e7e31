//! Moves through the recruitment pipeline and their history.

use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, QuerySelect,
    prelude::*,
};

use super::{
    audit::Actor,
    entity::{application, status_change},
    writer::Unit,
};
use crate::{
    domain::status::{ApplicationStatus, MoveRefused},
    retention::policy::Policy,
};

pub enum MoveOutcome {
    Moved { from: ApplicationStatus },
    Refused(MoveRefused),
    NoSuchApplication,
}

/// Moves the application if the pipeline allows it from the status it has
/// inside this transaction (the row is locked on PostgreSQL; SQLite has one
/// writer), and records the move. A final status sets `decided_at`;
/// reopening clears it.
async fn move_status(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    to: ApplicationStatus,
    reason: Option<String>,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<MoveOutcome, DbErr> {
    let Some(current) = application::Entity::find_by_id(application_id)
        .lock_exclusive()
        .one(db)
        .await?
    else {
        return Ok(MoveOutcome::NoSuchApplication);
    };
    let status = current.status;
    if let Err(refused) = status.check_move(to, reason.as_deref()) {
        return Ok(MoveOutcome::Refused(refused));
    }
    let from = current.status;
    let mut active: application::ActiveModel = current.into();
    active.status = Set(to);
    active.decided_at = Set(to.is_final().then_some(now));
    active.updated_at = Set(now);
    let moved = active.update(db).await?;
    status_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(moved.id),
        from_status: Set(from),
        to_status: Set(to),
        reason: Set(reason),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(MoveOutcome::Moved { from: status })
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

/// A status move with its new purge date and audit event (see [`move_status`]).
pub struct MoveStatus {
    pub application_id: Uuid,
    pub to: ApplicationStatus,
    pub reason: Option<String>,
    pub actor: Actor,
    pub policy: Arc<Policy>,
}

impl Unit for MoveStatus {
    type Output = MoveOutcome;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<MoveOutcome, DbErr> {
        let outcome = move_status(
            txn,
            self.application_id,
            self.to,
            self.reason.clone(),
            &self.actor,
            now,
        )
        .await?;
        if let MoveOutcome::Moved { .. } = outcome {
            crate::retention::records::refresh(txn, &self.policy, &[self.application_id], now)
                .await?;
            super::audit::record(
                txn,
                now,
                &self.actor,
                "application.status_changed",
                Some(self.application_id),
                None,
            )
            .await?;
        }
        Ok(outcome)
    }
}
