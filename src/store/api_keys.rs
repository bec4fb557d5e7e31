//! API keys: create, find by secret, list, revoke.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, QueryOrder, prelude::*};

use super::entity::api_key;
use crate::domain::keys::{Role, Secret, hash_secret};

pub struct NewKey<'a> {
    pub name: &'a str,
    pub role: Role,
    pub publishable: bool,
}

/// Stores a new key and returns it with its secret, which is shown once.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewKey<'_>,
) -> Result<(api_key::Model, Secret), DbErr> {
    let secret = Secret::generate();
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name.to_owned()),
        role: Set(new.role.as_str().to_owned()),
        publishable: Set(new.publishable),
        secret_hash: Set(secret.hash()),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((model, secret))
}

/// The live (not revoked) key with this secret.
pub async fn find_active_by_secret(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::SecretHash.eq(hash_secret(secret)))
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

/// Revokes a key; `None` when there is no such key.
pub async fn revoke(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<api_key::Model>, DbErr> {
    let Some(key) = api_key::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(Some(key));
    }
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.update(db).await.map(Some)
}

pub async fn any_active_admin(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let found = api_key::Entity::find()
        .filter(api_key::Column::Role.eq(Role::Admin.as_str()))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(found.is_some())
}
