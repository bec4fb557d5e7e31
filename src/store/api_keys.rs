//! API keys: create and revoke (each with its audit event, in one
//! transaction), find by secret, list.

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, prelude::*,
};

use super::{
    audit::{self, Actor},
    entity::api_key,
    writer::Unit,
};
use crate::domain::keys::Role;

/// A new key; only its secret's hash is stored (the caller keeps the secret).
pub struct CreateKey {
    pub name: String,
    pub role: Role,
    pub publishable: bool,
    pub secret_hash: String,
    pub actor: Actor,
}

impl Unit for CreateKey {
    type Output = api_key::Model;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<api_key::Model, DbErr> {
        let key = api_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(self.name.clone()),
            role: Set(self.role),
            publishable: Set(self.publishable),
            secret_hash: Set(self.secret_hash.clone()),
            created_at: Set(now),
            revoked_at: Set(None),
        }
        .insert(txn)
        .await?;
        bump_generation(txn).await?;
        audit::record(txn, now, &self.actor, "api_key.created", None, Some(key.id)).await?;
        Ok(key)
    }
}

/// Revokes a key; `None` when there is no such key. Revoking a revoked key
/// changes nothing and records nothing.
pub struct RevokeKey {
    pub id: Uuid,
    pub actor: Actor,
}

impl Unit for RevokeKey {
    type Output = Option<api_key::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<api_key::Model>, DbErr> {
        let Some(key) = api_key::Entity::find_by_id(self.id).one(txn).await? else {
            return Ok(None);
        };
        if key.revoked_at.is_some() {
            return Ok(Some(key));
        }
        let mut active: api_key::ActiveModel = key.into();
        active.revoked_at = Set(Some(now));
        let revoked = active.update(txn).await?;
        bump_generation(txn).await?;
        audit::record(
            txn,
            now,
            &self.actor,
            "api_key.revoked",
            None,
            Some(self.id),
        )
        .await?;
        Ok(Some(revoked))
    }
}

/// Raises the keys' generation, in the transaction that changes a key: the
/// instances caching keys see it move and drop what they cached.
async fn bump_generation(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    txn.execute_unprepared("UPDATE key_generations SET generation = generation + 1 WHERE id = 1")
        .await
        .map(|_| ())
}

/// The keys' generation now (see [`bump_generation`]).
pub async fn generation(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT generation FROM key_generations WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("key_generations".into()))?;
    row.try_get("", "generation")
}

/// The live key whose secret has this hash.
pub async fn find_active_by_hash(
    db: &impl ConnectionTrait,
    secret_hash: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::SecretHash.eq(secret_hash))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await
}

pub async fn any_active_admin(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let found = api_key::Entity::find()
        .filter(api_key::Column::Role.eq(Role::Admin))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(found.is_some())
}
