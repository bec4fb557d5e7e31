//! The audit log: every read or change of personal data by a key.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, QueryOrder, QuerySelect, prelude::*};

use super::entity::audit_event;

/// Who did it: the key, and the person it acted for where the client said so.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub api_key_id: Option<Uuid>,
    pub on_behalf_of: Option<String>,
}

pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    application_id: Option<Uuid>,
    subject_id: Option<Uuid>,
) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        action: Set(action.to_owned()),
        application_id: Set(application_id),
        subject_id: Set(subject_id),
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub struct AuditFilter {
    pub application_id: Option<Uuid>,
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// Oldest first, paged by id.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: AuditFilter,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find().order_by_asc(audit_event::Column::Id);
    if let Some(application_id) = filter.application_id {
        query = query.filter(audit_event::Column::ApplicationId.eq(application_id));
    }
    if let Some(after) = filter.after {
        query = query.filter(audit_event::Column::Id.gt(after));
    }
    query.limit(filter.limit).all(db).await
}
