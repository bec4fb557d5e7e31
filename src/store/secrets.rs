//! The service's own secrets, made on first use and kept in the database so
//! that every instance shares them.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait, sea_query::OnConflict};

use super::{entity::service_secret, writer::Unit};
use crate::domain::keys::HashKey;

/// The key of the keyed hashes of intake keys, fingerprints and tombstones.
pub const INTAKE: &str = "intake";

/// Reads the named key, making it first if there is none yet (two instances
/// starting at once agree on the first one written).
pub struct EnsureKey {
    pub name: &'static str,
}

impl Unit for EnsureKey {
    type Output = HashKey;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<HashKey, DbErr> {
        service_secret::Entity::insert(service_secret::ActiveModel {
            name: Set(self.name.to_owned()),
            value: Set(HashKey::generate().to_hex()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(service_secret::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        let stored = service_secret::Entity::find_by_id(self.name.to_owned())
            .one(txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("service secret {}", self.name)))?;
        HashKey::from_hex(&stored.value)
            .ok_or_else(|| DbErr::Custom(format!("service secret {} is malformed", self.name)))
    }
}
