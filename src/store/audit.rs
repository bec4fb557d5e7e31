//! The audit log: every read or change of personal data by a key.

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, QuerySelect,
    prelude::*,
};

use super::{entity::audit_event, writer::Unit};

/// Who did it: the key, and the person it acted for where the client said so.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub api_key_id: Option<Uuid>,
    pub on_behalf_of: Option<String>,
}

pub async fn record(
    db: &impl ConnectionTrait,
    at: DateTimeUtc,
    actor: &Actor,
    action: &str,
    application_id: Option<Uuid>,
    subject_id: Option<Uuid>,
) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(at),
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

/// An access to record on its own: a read of personal data.
pub struct Access {
    pub actor: Actor,
    pub action: &'static str,
    pub application_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
}

impl Unit for Access {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<(), DbErr> {
        record(
            txn,
            now,
            &self.actor,
            self.action,
            self.application_id,
            self.subject_id,
        )
        .await
    }
}

/// A list or search that showed these applications: one event each, so
/// that every application's audit trail says who saw it; the events of one
/// listing share a subject id.
pub struct Listed {
    pub actor: Actor,
    pub action: &'static str,
    pub application_ids: Vec<Uuid>,
}

impl Unit for Listed {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, at: DateTimeUtc) -> Result<(), DbErr> {
        let listing = Uuid::now_v7();
        // One event even for an empty page: the search itself is recorded.
        let shown: Vec<Option<Uuid>> = if self.application_ids.is_empty() {
            vec![None]
        } else {
            self.application_ids.iter().copied().map(Some).collect()
        };
        for chunk in shown.chunks(100) {
            let rows = chunk.iter().map(|application_id| audit_event::ActiveModel {
                id: Set(Uuid::now_v7()),
                at: Set(at),
                api_key_id: Set(self.actor.api_key_id),
                actor: Set(self.actor.on_behalf_of.clone()),
                action: Set(self.action.to_owned()),
                application_id: Set(*application_id),
                subject_id: Set(Some(listing)),
            });
            audit_event::Entity::insert_many(rows)
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }
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
