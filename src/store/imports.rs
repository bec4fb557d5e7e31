//! Sign-in states and profile imports: both short-lived, both single-use.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, prelude::*};

use super::{
    entity::{oauth_import, oauth_state},
    writer::Unit,
};
use crate::domain::imports::{Profile, Provider};

pub struct NewState {
    pub state_hash: String,
    pub provider: Provider,
    pub job_id: Uuid,
    pub return_to: String,
    pub pkce_verifier: Option<String>,
    pub expires_at: DateTime<Utc>,
}

async fn insert_state(
    db: &impl ConnectionTrait,
    new: &NewState,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    oauth_state::ActiveModel {
        id: Set(Uuid::now_v7()),
        state_hash: Set(new.state_hash.clone()),
        provider: Set(new.provider),
        job_id: Set(new.job_id),
        return_to: Set(new.return_to.clone()),
        pkce_verifier: Set(new.pkce_verifier.clone()),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Takes the state with this hash for this provider: the caller that deletes
/// it gets it, so a state works once even when it comes back twice at once.
/// An expired state is taken too, for the caller to refuse.
async fn take_state(
    db: &impl ConnectionTrait,
    state_hash: &str,
    provider: Provider,
) -> Result<Option<oauth_state::Model>, DbErr> {
    let Some(found) = oauth_state::Entity::find()
        .filter(oauth_state::Column::StateHash.eq(state_hash))
        .filter(oauth_state::Column::Provider.eq(provider))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = oauth_state::Entity::delete_by_id(found.id).exec(db).await?;
    Ok((deleted.rows_affected == 1).then_some(found))
}

pub struct NewImport {
    pub id: Uuid,
    pub provider: Provider,
    pub job_id: Uuid,
    pub profile: Profile,
    pub expires_at: DateTime<Utc>,
}

async fn insert_import(
    db: &impl ConnectionTrait,
    new: &NewImport,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let profile = new.profile.clone();
    oauth_import::ActiveModel {
        id: Set(new.id),
        provider: Set(new.provider),
        job_id: Set(new.job_id),
        full_name: Set(profile.full_name),
        given_name: Set(profile.given_name),
        family_name: Set(profile.family_name),
        email: Set(profile.email),
        locale: Set(profile.locale),
        profile_url: Set(profile.profile_url),
        picture_url: Set(profile.picture_url),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// The import with this id, unless it has expired.
pub async fn find_import(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<oauth_import::Model>, DbErr> {
    oauth_import::Entity::find_by_id(id)
        .filter(oauth_import::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Deletes the import as it is used; false when it is gone already (used by
/// a concurrent submission, or expired).
pub async fn consume_import(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let deleted = oauth_import::Entity::delete_many()
        .filter(oauth_import::Column::Id.eq(id))
        .filter(oauth_import::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Deletes expired states and imports; returns how many of each went.
async fn delete_expired(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    let states = oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let imports = oauth_import::Entity::delete_many()
        .filter(oauth_import::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok((states.rows_affected, imports.rows_affected))
}

/// Stores a started sign-in (see [`insert_state`]).
pub struct StartSignIn(pub NewState);

impl Unit for StartSignIn {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<(), DbErr> {
        insert_state(txn, &self.0, now).await
    }
}

/// Takes a sign-in state (see [`take_state`]).
pub struct TakeSignIn {
    pub state_hash: String,
    pub provider: Provider,
}

impl Unit for TakeSignIn {
    type Output = Option<oauth_state::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        _now: DateTimeUtc,
    ) -> Result<Option<oauth_state::Model>, DbErr> {
        take_state(txn, &self.state_hash, self.provider).await
    }
}

/// Stores an imported profile (see [`insert_import`]).
pub struct SaveImport(pub NewImport);

impl Unit for SaveImport {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<(), DbErr> {
        insert_import(txn, &self.0, now).await
    }
}

/// Deletes what expired by `now`: sign-ins, imports and intake keys
/// (idempotency keys and tombstones); how many of each went.
pub struct DeleteExpired;

impl Unit for DeleteExpired {
    type Output = (u64, u64, u64);

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<(u64, u64, u64), DbErr> {
        let (states, imports) = delete_expired(txn, now).await?;
        let keys = super::intake::delete_expired(txn, now).await?;
        Ok((states, imports, keys))
    }
}
