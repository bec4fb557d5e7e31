//! Recruiters' notes on an application.

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, prelude::*,
};

use super::{
    audit::{self, Actor},
    entity::note,
    writer::Unit,
};

/// An application's notes, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<note::Model>, DbErr> {
    note::Entity::find()
        .filter(note::Column::ApplicationId.eq(application_id))
        .order_by_asc(note::Column::Id)
        .all(db)
        .await
}

/// One note of this application.
pub async fn find(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    note_id: Uuid,
) -> Result<Option<note::Model>, DbErr> {
    note::Entity::find_by_id(note_id)
        .filter(note::Column::ApplicationId.eq(application_id))
        .one(db)
        .await
}

async fn insert(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    body: String,
    author: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<note::Model, DbErr> {
    note::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        api_key_id: Set(author.api_key_id),
        actor: Set(author.on_behalf_of.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        body: Set(body),
    }
    .insert(db)
    .await
}

/// Replaces the body of this application's note; `None` when there is no such note.
async fn update(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    note_id: Uuid,
    body: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<note::Model>, DbErr> {
    let Some(current) = find(db, application_id, note_id).await? else {
        return Ok(None);
    };
    let mut active: note::ActiveModel = current.into();
    active.body = Set(body);
    active.updated_at = Set(now);
    active.update(db).await.map(Some)
}

/// Deletes this application's note; whether there was one.
async fn delete(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    note_id: Uuid,
) -> Result<bool, DbErr> {
    let result = note::Entity::delete_many()
        .filter(note::Column::Id.eq(note_id))
        .filter(note::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// A new note with its audit event; `None` when the application is gone.
pub struct CreateNote {
    pub application_id: Uuid,
    pub body: String,
    pub actor: Actor,
}

impl Unit for CreateNote {
    type Output = Option<note::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<note::Model>, DbErr> {
        if super::applications::find(txn, self.application_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let note = insert(
            txn,
            self.application_id,
            self.body.clone(),
            &self.actor,
            now,
        )
        .await?;
        audit::record(
            txn,
            now,
            &self.actor,
            "note.created",
            Some(self.application_id),
            Some(note.id),
        )
        .await?;
        Ok(Some(note))
    }
}

/// A note's new text with its audit event; `None` when there is no such note.
pub struct UpdateNote {
    pub application_id: Uuid,
    pub note_id: Uuid,
    pub body: String,
    pub actor: Actor,
}

impl Unit for UpdateNote {
    type Output = Option<note::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<note::Model>, DbErr> {
        let note = update(
            txn,
            self.application_id,
            self.note_id,
            self.body.clone(),
            now,
        )
        .await?;
        if note.is_some() {
            audit::record(
                txn,
                now,
                &self.actor,
                "note.updated",
                Some(self.application_id),
                Some(self.note_id),
            )
            .await?;
        }
        Ok(note)
    }
}

/// Deletes a note, with its audit event; whether there was one.
pub struct DeleteNote {
    pub application_id: Uuid,
    pub note_id: Uuid,
    pub actor: Actor,
}

impl Unit for DeleteNote {
    type Output = bool;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<bool, DbErr> {
        let deleted = delete(txn, self.application_id, self.note_id).await?;
        if deleted {
            audit::record(
                txn,
                now,
                &self.actor,
                "note.deleted",
                Some(self.application_id),
                Some(self.note_id),
            )
            .await?;
        }
        Ok(deleted)
    }
}
