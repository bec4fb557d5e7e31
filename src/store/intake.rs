//! Storing a received application in one transaction, and the intake keys
//! that make a submission idempotent: an `Idempotency-Key` (bound to a
//! fingerprint of the request, for a while) or an integration's own id (for
//! as long as its application lives, then as a tombstone). Keys, fingerprints
//! and tombstones are keyed hashes: nothing in them can be read back.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, DatabaseTransaction, DbErr, prelude::*,
    sea_query::Func,
};

use super::{
    applications::{self, ApplicationRecord, NewApplication, NewDocument},
    audit::{self, Actor},
    entity::intake_key,
    imports,
    messages::{self, NewMessage},
    writer::Unit,
};
use crate::retention::policy::Policy;

/// The scope a submission is idempotent in, and what it was.
#[derive(Clone, Debug)]
pub struct IntakeKey {
    pub key_hash: String,
    /// The request's fingerprint; none for integrations, whose id is the request.
    pub fingerprint: Option<String>,
    /// None: kept while the application lives.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The record of the first of these scope hashes that is known and not
/// expired at `now` (live, or a tombstone).
pub async fn find_key(
    db: &impl ConnectionTrait,
    key_hashes: &[String],
    now: DateTime<Utc>,
) -> Result<Option<intake_key::Model>, DbErr> {
    intake_key::Entity::find()
        .filter(intake_key::Column::KeyHash.is_in(key_hashes.iter().cloned()))
        .filter(
            Condition::any()
                .add(intake_key::Column::ExpiresAt.is_null())
                .add(intake_key::Column::ExpiresAt.gt(now)),
        )
        .one(db)
        .await
}

/// The error a used-up import turns into inside the transaction.
pub const IMPORT_GONE: &str = "the import is used or expired";

/// A checked application whose files are in the object store: the rows.
pub struct Admission {
    pub application: NewApplication,
    pub documents: Vec<NewDocument>,
    pub acknowledgment: Option<NewMessage>,
    pub actor: Actor,
    /// The import this application uses up.
    pub import_id: Option<Uuid>,
    pub intake_key: Option<IntakeKey>,
    pub policy: Arc<Policy>,
    pub now: DateTime<Utc>,
}

impl Unit for Admission {
    type Output = ApplicationRecord;

    /// The candidate (found or made by email), the application, its
    /// documents, its intake key, the audit event and the acknowledgment,
    /// using up the import if any.
    async fn run(
        &self,
        txn: &DatabaseTransaction,
        _now: DateTimeUtc,
    ) -> Result<ApplicationRecord, DbErr> {
        let now = self.now;
        if let Some(import_id) = self.import_id
            && !imports::consume_import(txn, import_id, now).await?
        {
            return Err(DbErr::RecordNotFound(IMPORT_GONE.into()));
        }
        let (candidate, counts) =
            applications::candidate_of_application(txn, &self.application.contact.email, now)
                .await?;
        let application = applications::insert(
            txn,
            &self.application,
            candidate.id,
            counts,
            &self.policy,
            now,
        )
        .await?;
        let mut documents = Vec::with_capacity(self.documents.len());
        for document in &self.documents {
            documents
                .push(applications::insert_document(txn, application.id, document, now).await?);
        }
        if let Some(key) = &self.intake_key {
            // An expired key the sweep has not reached yet is free again.
            intake_key::Entity::delete_many()
                .filter(intake_key::Column::KeyHash.eq(key.key_hash.as_str()))
                .filter(intake_key::Column::ExpiresAt.lte(now))
                .exec(txn)
                .await?;
            intake_key::ActiveModel {
                key_hash: Set(key.key_hash.clone()),
                fingerprint: Set(key.fingerprint.clone()),
                application_id: Set(application.id),
                created_at: Set(now),
                expires_at: Set(key.expires_at),
                erased_at: Set(None),
            }
            .insert(txn)
            .await?;
        }
        audit::record(
            txn,
            now,
            &self.actor,
            "application.created",
            Some(application.id),
            None,
        )
        .await?;
        if let Some(acknowledgment) = &self.acknowledgment {
            // The system sends it, not the key that submitted.
            messages::queue(txn, acknowledgment.clone(), &Actor::default(), now).await?;
        }
        Ok(ApplicationRecord {
            application,
            documents,
        })
    }
}

/// Turns the intake keys of purged applications into tombstones: a key
/// kept while its application lived now lasts `tombstone_ttl`; one with its
/// own expiry keeps it.
pub async fn tombstone(
    db: &impl ConnectionTrait,
    application_ids: &[Uuid],
    now: DateTime<Utc>,
    tombstone_ttl: TimeDelta,
) -> Result<(), DbErr> {
    if application_ids.is_empty() {
        return Ok(());
    }
    // A key that already expires keeps its date.
    let expires_at = Func::coalesce([
        Expr::col(intake_key::Column::ExpiresAt),
        Expr::value(now + tombstone_ttl),
    ]);
    intake_key::Entity::update_many()
        .col_expr(intake_key::Column::ExpiresAt, expires_at.into())
        .col_expr(intake_key::Column::ErasedAt, Expr::value(now))
        .filter(intake_key::Column::ApplicationId.is_in(application_ids.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes expired keys and tombstones; how many went.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    intake_key::Entity::delete_many()
        .filter(intake_key::Column::ExpiresAt.lte(now))
        .exec(db)
        .await
        .map(|done| done.rows_affected)
}
