//! Legal holds and consents: what keeps an application past its date (or
//! sends it sooner), each change with its audit event and the purge date
//! brought up to date in the same transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, prelude::*,
};

use super::{
    policy::{ConsentKind, Policy},
    records::refresh,
};
use crate::store::{
    audit::Actor,
    entity::{application, consent, legal_hold},
    writer::Unit,
};

/// Why the law has the employer keep an application: what the candidate is
/// told, while the reason itself may stay confidential.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, poem_openapi::Enum, sea_orm::DeriveValueType,
)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "snake_case")]
pub enum HoldCategory {
    /// A claim or dispute about the procedure.
    Litigation,
    /// An inquiry by an authority, or an internal investigation.
    Investigation,
    /// A law requires the data be kept (tax, immigration, work permits).
    Statutory,
    #[default]
    Other,
}

stored_as_text!(HoldCategory {
    Litigation => "litigation",
    Investigation => "investigation",
    Statutory => "statutory",
    Other => "other",
});

/// Places a legal hold, replacing any earlier one.
async fn place_hold(
    db: &impl ConnectionTrait,
    hold: &PlaceHold,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<legal_hold::Model, DbErr> {
    let actor = &hold.actor;
    legal_hold::Entity::delete_by_id(hold.application_id)
        .exec(db)
        .await?;
    legal_hold::ActiveModel {
        application_id: Set(hold.application_id),
        reason: Set(hold.reason.clone()),
        category: Set(hold.category),
        confidential: Set(hold.confidential),
        until: Set(hold.until),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        placed_at: Set(now),
    }
    .insert(db)
    .await
}

/// Lifts the hold; whether there was one.
async fn lift_hold(db: &impl ConnectionTrait, application_id: Uuid) -> Result<bool, DbErr> {
    let result = legal_hold::Entity::delete_by_id(application_id)
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub(crate) async fn record_consent(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    kind: ConsentKind,
    evidence: String,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<consent::Model, DbErr> {
    consent::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        kind: Set(kind),
        purpose: Set("retention".to_owned()),
        evidence: Set(evidence),
        granted_at: Set(now),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
    }
    .insert(db)
    .await
}

/// An application's consents, oldest first.
pub async fn consents_of(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<consent::Model>, DbErr> {
    consent::Entity::find()
        .filter(consent::Column::ApplicationId.eq(application_id))
        .order_by_asc(consent::Column::Id)
        .all(db)
        .await
}

/// The application's legal hold, if one was placed (it may have run out).
pub async fn hold_of(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Option<legal_hold::Model>, DbErr> {
    legal_hold::Entity::find_by_id(application_id).one(db).await
}

/// Places (or replaces) a legal hold, with its audit event; `None` when the
/// application is gone.
pub struct PlaceHold {
    pub application_id: Uuid,
    pub reason: String,
    pub category: HoldCategory,
    pub confidential: bool,
    pub until: Option<DateTime<Utc>>,
    pub actor: Actor,
}

impl Unit for PlaceHold {
    type Output = Option<legal_hold::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<legal_hold::Model>, DbErr> {
        if application::Entity::find_by_id(self.application_id)
            .one(txn)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let hold = place_hold(txn, self, now).await?;
        crate::store::audit::record(
            txn,
            now,
            &self.actor,
            "legal_hold.placed",
            Some(self.application_id),
            None,
        )
        .await?;
        Ok(Some(hold))
    }
}

/// Lifts the hold, with its audit event; whether there was one.
pub struct LiftHold {
    pub application_id: Uuid,
    pub actor: Actor,
}

impl Unit for LiftHold {
    type Output = bool;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<bool, DbErr> {
        let lifted = lift_hold(txn, self.application_id).await?;
        if lifted {
            crate::store::audit::record(
                txn,
                now,
                &self.actor,
                "legal_hold.lifted",
                Some(self.application_id),
                None,
            )
            .await?;
        }
        Ok(lifted)
    }
}

/// A consent given outside the link, with the new purge date and the audit
/// event; `None` when the application is gone.
pub struct RecordConsent {
    pub application_id: Uuid,
    pub kind: ConsentKind,
    pub evidence: String,
    pub actor: Actor,
    pub policy: Arc<Policy>,
}

impl Unit for RecordConsent {
    type Output = Option<consent::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<consent::Model>, DbErr> {
        if application::Entity::find_by_id(self.application_id)
            .one(txn)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let consent = record_consent(
            txn,
            self.application_id,
            self.kind,
            self.evidence.clone(),
            &self.actor,
            now,
        )
        .await?;
        refresh(txn, &self.policy, &[self.application_id], now).await?;
        crate::store::audit::record(
            txn,
            now,
            &self.actor,
            "consent.recorded",
            Some(self.application_id),
            Some(consent.id),
        )
        .await?;
        Ok(Some(consent))
    }
}
