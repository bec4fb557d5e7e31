//! The rights a candidate exercises alone on their page, each one unit of
//! work with its audit event (ids only): restricting and lifting the
//! restriction, withdrawing consent or objecting to the talent pool.
//! Erasure goes through the purge path (`retention::service::erase_candidate`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, prelude::*};

use super::candidate_actor;
use crate::{
    domain::{message::MessageStatus, subject_request::SubjectRequestKind},
    mail,
    retention::{
        policy::{ConsentKind, Policy},
        records::refresh,
    },
    store::{
        applications::{Rectification, Rectify, addressee},
        audit,
        entity::{application, message},
        messages::{self, NewMessage},
        subject_requests::record_self_service,
        writer::Unit,
    },
};

/// The candidate's applications, oldest first.
pub async fn applications(
    db: &impl ConnectionTrait,
    candidate_id: Uuid,
) -> Result<Vec<application::Model>, DbErr> {
    application::Entity::find()
        .filter(application::Column::CandidateId.eq(candidate_id))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await
}

async fn ids(db: &impl ConnectionTrait, candidate_id: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(applications(db, candidate_id)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect())
}

/// Restricts the processing of all the candidate's applications (kept,
/// frozen for recruiters and the purge), or lifts the restriction.
pub struct Restrict {
    pub candidate_id: Uuid,
    pub restricted: bool,
}

impl Unit for Restrict {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(), DbErr> {
        let mut update = application::Entity::update_many()
            .filter(application::Column::CandidateId.eq(self.candidate_id));
        update = if self.restricted {
            // A restriction keeps the date it began.
            update
                .col_expr(application::Column::RestrictedAt, Expr::value(now))
                .filter(application::Column::RestrictedAt.is_null())
        } else {
            update.col_expr(
                application::Column::RestrictedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
        };
        update.exec(txn).await?;
        if self.restricted {
            record_self_service(
                txn,
                self.candidate_id,
                SubjectRequestKind::Restriction,
                None,
                true,
                now,
            )
            .await?;
        }
        let action = if self.restricted {
            "candidate.restricted"
        } else {
            "candidate.restriction_lifted"
        };
        audit::record(
            txn,
            now,
            &candidate_actor(),
            action,
            None,
            Some(self.candidate_id),
        )
        .await
    }
}

/// Withdraws every consent to keep the candidate's applications longer
/// (`objection`: they object to the talent pool): each goes back to its
/// schedule, and is due now when that has passed.
pub struct Withdraw {
    pub candidate_id: Uuid,
    pub objection: bool,
    pub policy: Arc<Policy>,
}

impl Unit for Withdraw {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(), DbErr> {
        let actor = candidate_actor();
        let ids = ids(txn, self.candidate_id).await?;
        let evidence = if self.objection {
            "the candidate objected to the talent pool on the privacy pages"
        } else {
            "the candidate withdrew their consent on the privacy pages"
        };
        for id in &ids {
            crate::retention::holds::record_consent(
                txn,
                *id,
                ConsentKind::Withdrawal,
                evidence.to_owned(),
                &actor,
                now,
            )
            .await?;
        }
        application::Entity::update_many()
            .col_expr(application::Column::TalentPoolConsent, Expr::value(false))
            .filter(application::Column::CandidateId.eq(self.candidate_id))
            .exec(txn)
            .await?;
        refresh(txn, &self.policy, &ids, now).await?;
        let kind = if self.objection {
            SubjectRequestKind::Objection
        } else {
            SubjectRequestKind::Withdrawal
        };
        record_self_service(txn, self.candidate_id, kind, None, true, now).await?;
        let action = if self.objection {
            "candidate.objected"
        } else {
            "candidate.consent_withdrawn"
        };
        audit::record(txn, now, &actor, action, None, Some(self.candidate_id)).await
    }
}

/// The candidate's own correction of one of their applications' contact
/// details: audited (so it shows on the application's history) and on
/// record as a fulfilled request. `false` when the application is not
/// theirs (or gone).
pub struct Correct {
    pub candidate_id: Uuid,
    pub application_id: Uuid,
    pub changes: Rectification,
    pub policy: Arc<Policy>,
}

impl Unit for Correct {
    type Output = bool;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let theirs = application::Entity::find_by_id(self.application_id)
            .filter(application::Column::CandidateId.eq(self.candidate_id))
            .one(txn)
            .await?
            .is_some();
        if !theirs {
            return Ok(false);
        }
        let rectify = Rectify {
            id: self.application_id,
            changes: self.changes.clone(),
            actor: candidate_actor(),
            policy: Arc::clone(&self.policy),
        };
        rectify.run(txn, now).await?;
        record_self_service(
            txn,
            self.candidate_id,
            SubjectRequestKind::Rectification,
            None,
            true,
            now,
        )
        .await?;
        Ok(true)
    }
}

/// Any other correction, in the candidate's words: an open request for the
/// employer to answer.
pub struct AskForCorrection {
    pub candidate_id: Uuid,
    pub details: String,
}

impl Unit for AskForCorrection {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(), DbErr> {
        record_self_service(
            txn,
            self.candidate_id,
            SubjectRequestKind::Rectification,
            Some(self.details.clone()),
            false,
            now,
        )
        .await
        .map(|_| ())
    }
}

/// The employer lifts a restriction: the candidate is mailed first (GDPR
/// article 18(3)), and the restriction lifts only when that mail is
/// recorded sent. Asking again while the mail waits queues no second one.
pub struct AnnounceRestrictionLift {
    pub application_id: Uuid,
    pub actor: audit::Actor,
    /// The privacy pages' address, for the mail.
    pub public_url: String,
    pub domain: String,
}

/// The mail that announces lifting an application's restriction.
pub struct LiftAnnounced {
    pub message_id: Uuid,
    pub restricted_at: DateTime<Utc>,
}

impl Unit for AnnounceRestrictionLift {
    /// `None`: no such application, or it is not restricted.
    type Output = Option<LiftAnnounced>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<Option<LiftAnnounced>, DbErr> {
        let Some(restricted_at) = application::Entity::find_by_id(self.application_id)
            .one(txn)
            .await?
            .and_then(|a| a.restricted_at)
        else {
            return Ok(None);
        };
        let waiting = message::Entity::find()
            .filter(message::Column::ApplicationId.eq(self.application_id))
            .filter(message::Column::Origin.eq(mail::RESTRICTION_LIFTED.name))
            .filter(message::Column::Status.eq(MessageStatus::Queued.as_str()))
            .one(txn)
            .await?;
        if let Some(waiting) = waiting {
            return Ok(Some(LiftAnnounced {
                message_id: waiting.id,
                restricted_at,
            }));
        }
        let Some(to) = addressee(txn, self.application_id).await? else {
            return Ok(None);
        };
        let privacy_page = format!(
            "{}/privacy/requests?lang={}",
            self.public_url.trim_end_matches('/'),
            to.lang
        );
        let rendered = mail::RESTRICTION_LIFTED.of(to.lang).render(&[
            ("full_name", &to.full_name),
            ("job_title", &to.job_title),
            ("privacy_page", &privacy_page),
        ]);
        let message = messages::queue(
            txn,
            NewMessage {
                application_id: self.application_id,
                origin: mail::RESTRICTION_LIFTED.name.to_owned(),
                subject: rendered.subject,
                body: rendered.body,
                domain: self.domain.clone(),
            },
            &self.actor,
            now,
        )
        .await?;
        audit::record(
            txn,
            now,
            &self.actor,
            "application.restriction_lift_announced",
            Some(self.application_id),
            None,
        )
        .await?;
        Ok(Some(LiftAnnounced {
            message_id: message.id,
            restricted_at,
        }))
    }
}

/// Lifts an application's restriction once its announcement went out; a
/// restriction the candidate placed again after it was announced stays.
pub async fn lift_restriction(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    announced_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let lifted = application::Entity::update_many()
        .col_expr(
            application::Column::RestrictedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(application::Column::Id.eq(application_id))
        .filter(application::Column::RestrictedAt.lte(announced_at))
        .exec(db)
        .await?;
    if lifted.rows_affected > 0 {
        let deliverer = audit::Actor {
            api_key_id: None,
            on_behalf_of: Some("deliverer".to_owned()),
        };
        audit::record(
            db,
            now,
            &deliverer,
            "application.restriction_lifted",
            Some(application_id),
            None,
        )
        .await?;
    }
    Ok(())
}
