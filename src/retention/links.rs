//! The links in candidates' mails: made with a reminder, shown as a page,
//! used once to extend or withdraw consent.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, prelude::*};

use super::{
    holds::record_consent,
    policy::{ConsentKind, Policy},
    records::{facts, refresh},
};
use crate::store::{
    audit::Actor,
    entity::{application, consent_link},
    writer::Unit,
};

/// The purpose of the links in retention reminders.
pub const RETENTION_PURPOSE: &str = "retention";

/// Stores a candidate link by its token's hash.
async fn create_link(
    db: &impl ConnectionTrait,
    token_hash: String,
    application_id: Uuid,
    expires_at: DateTime<Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    consent_link::ActiveModel {
        token_hash: Set(token_hash),
        application_id: Set(application_id),
        purpose: Set(RETENTION_PURPOSE.to_owned()),
        expires_at: Set(expires_at),
        created_at: Set(now),
        used_for: Set(None),
        used_at: Set(None),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// A link that still works at `now`.
async fn find_link(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<consent_link::Model>, DbErr> {
    consent_link::Entity::find_by_id(token_hash.to_owned())
        .filter(consent_link::Column::ExpiresAt.gt(now))
        .filter(consent_link::Column::Purpose.eq(RETENTION_PURPOSE))
        .one(db)
        .await
}

/// Records what a link was used for.
async fn use_link(
    db: &impl ConnectionTrait,
    token_hash: &str,
    action: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    consent_link::Entity::update_many()
        .col_expr(consent_link::Column::UsedFor, Expr::value(action))
        .col_expr(consent_link::Column::UsedAt, Expr::value(at))
        .filter(consent_link::Column::TokenHash.eq(token_hash))
        .exec(db)
        .await
        .map(|_| ())
}

/// Stores the link of a reminder being sent (see [`create_link`]).
pub struct CreateLink {
    pub token_hash: String,
    pub application_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl Unit for CreateLink {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<(), DbErr> {
        create_link(
            txn,
            self.token_hash.clone(),
            self.application_id,
            self.expires_at,
            now,
        )
        .await
    }
}

/// What a candidate chose on a reminder's page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkChoice {
    /// Keep the application `consent.extension` longer.
    Extend,
    /// Delete it now.
    Withdraw,
}

impl LinkChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkChoice::Extend => "extend",
            LinkChoice::Withdraw => "withdraw",
        }
    }
}

/// A link that works now, and what its page shows.
pub struct LinkView {
    pub link: consent_link::Model,
    pub job_title: String,
    pub purge_after: DateTime<Utc>,
    pub extended_until: DateTime<Utc>,
    /// The language the candidate applied in, if known.
    pub lang: Option<crate::domain::lang::Lang>,
}

impl LinkView {
    /// What the link was used for, if anything.
    pub fn used_for(&self) -> Option<LinkChoice> {
        match self.link.used_for.as_deref() {
            Some("extend") => Some(LinkChoice::Extend),
            Some("withdraw") => Some(LinkChoice::Withdraw),
            _ => None,
        }
    }
}

/// The link behind a token's hash, unless unknown, expired, or its
/// application is gone.
pub async fn link_view(
    db: &impl ConnectionTrait,
    policy: &Policy,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<LinkView>, DbErr> {
    let Some(link) = find_link(db, token_hash, now).await? else {
        return Ok(None);
    };
    let Some(application) = application::Entity::find_by_id(link.application_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(facts) = facts(db, &application).await? else {
        return Ok(None);
    };
    let Some(job) = crate::store::jobs::get(db, application.job_id).await? else {
        return Ok(None);
    };
    Ok(Some(LinkView {
        purge_after: policy.retention(&facts, now).purge_after,
        extended_until: policy.extended_at(&facts, now),
        job_title: job.title,
        lang: application
            .locale
            .as_deref()
            .and_then(crate::domain::lang::Lang::parse),
        link,
    }))
}

/// What a choice by link did.
#[derive(Debug, PartialEq, Eq)]
pub enum Chosen {
    Extended(DateTime<Utc>),
    Withdrawn,
    /// The link does not work (any more).
    Invalid,
}

/// Records a candidate's choice by link, once: the same choice again
/// answers the same, and a withdrawal uses the link up.
pub struct ChooseByLink {
    pub token_hash: String,
    pub choice: LinkChoice,
    pub policy: Arc<Policy>,
}

impl Unit for ChooseByLink {
    type Output = Chosen;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<Chosen, DbErr> {
        let Some(view) = link_view(txn, &self.policy, &self.token_hash, now).await? else {
            return Ok(Chosen::Invalid);
        };
        let application_id = view.link.application_id;
        match (self.choice, view.used_for()) {
            (LinkChoice::Extend, Some(LinkChoice::Extend)) => {
                return Ok(Chosen::Extended(view.purge_after));
            }
            (LinkChoice::Withdraw, Some(LinkChoice::Withdraw)) => return Ok(Chosen::Withdrawn),
            (LinkChoice::Extend, Some(LinkChoice::Withdraw)) => return Ok(Chosen::Invalid),
            _ => {}
        }
        let kind = match self.choice {
            LinkChoice::Extend => ConsentKind::Extension,
            LinkChoice::Withdraw => ConsentKind::Erasure,
        };
        let candidate = Actor::default();
        let consent = record_consent(
            txn,
            application_id,
            kind,
            "link".to_owned(),
            &candidate,
            now,
        )
        .await?;
        use_link(txn, &self.token_hash, self.choice.as_str(), now).await?;
        refresh(txn, &self.policy, &[application_id], now).await?;
        crate::store::audit::record(
            txn,
            now,
            &candidate,
            "consent.recorded",
            Some(application_id),
            Some(consent.id),
        )
        .await?;
        tracing::info!(%application_id, kind = kind.as_str(), "consent given through a link");
        Ok(match self.choice {
            LinkChoice::Extend => Chosen::Extended(view.extended_until),
            LinkChoice::Withdraw => Chosen::Withdrawn,
        })
    }
}
