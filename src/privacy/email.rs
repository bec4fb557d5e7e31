//! A candidate changes the address of their applications: the new address
//! is theirs only once the link mailed to it is followed. The link's token
//! is made when that mail is sent, works once and briefly; following it
//! corrects every application of the candidate, as a rectification on
//! record, and the session moves with them to the new address.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, QueryOrder, prelude::*};

use super::candidate_actor;
use crate::{
    domain::{fields::Email, lang::Lang, subject_request::SubjectRequestKind},
    mail,
    retention::records::refresh,
    store::{
        applications::{Rectification, rectify},
        audit,
        entity::{application, privacy_email_change, privacy_session},
        messages::{self, NewMessage},
        subject_requests::record_self_service,
        writer::Unit,
    },
};

/// The candidate asks for `new_email` to replace their address.
pub struct AskForEmailChange {
    pub candidate_id: Uuid,
    pub new_email: Email,
    pub lang: Lang,
    /// Changes asked for in the last hour beyond which no mail goes.
    pub per_hour: u32,
    pub link_ttl: TimeDelta,
    pub domain: String,
}

impl Unit for AskForEmailChange {
    /// Whether a mail was queued (`false`: over the hourly limit, or the
    /// candidate has no application left).
    type Output = bool;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let recent = privacy_email_change::Entity::find()
            .filter(privacy_email_change::Column::CandidateId.eq(self.candidate_id))
            .filter(privacy_email_change::Column::CreatedAt.gt(now - TimeDelta::hours(1)))
            .count(txn)
            .await?;
        if recent >= u64::from(self.per_hour) {
            return Ok(false);
        }
        let Some(latest) = application::Entity::find()
            .filter(application::Column::CandidateId.eq(self.candidate_id))
            .order_by_desc(application::Column::Id)
            .one(txn)
            .await?
        else {
            return Ok(false);
        };
        let minutes = self.link_ttl.num_minutes().max(1).to_string();
        let rendered = mail::EMAIL_CHANGE
            .of(self.lang)
            .render(&[("full_name", &latest.full_name), ("link_minutes", &minutes)]);
        let body = rendered.body.replace(
            mail::EMAIL_CHANGE_URL,
            &format!("{}?lang={}", mail::EMAIL_CHANGE_URL, self.lang),
        );
        let message = messages::queue(
            txn,
            NewMessage {
                application_id: latest.id,
                origin: mail::EMAIL_CHANGE.name.to_owned(),
                subject: rendered.subject,
                body,
                domain: self.domain.clone(),
            },
            &candidate_actor(),
            now,
        )
        .await?;
        privacy_email_change::ActiveModel {
            id: Set(Uuid::now_v7()),
            candidate_id: Set(self.candidate_id),
            new_email: Set(self.new_email.address.clone()),
            message_id: Set(message.id),
            token_hash: Set(None),
            lang: Set(self.lang.to_string()),
            created_at: Set(now),
            expires_at: Set(now + self.link_ttl),
            used_at: Set(None),
        }
        .insert(txn)
        .await?;
        audit::record(
            txn,
            now,
            &candidate_actor(),
            "candidate.email_change_requested",
            None,
            Some(self.candidate_id),
        )
        .await?;
        Ok(true)
    }
}

/// The address a queued email-change mail goes to, if the change is still
/// waiting (the candidate's data may have gone since).
pub async fn pending_address(
    db: &impl sea_orm::ConnectionTrait,
    message_id: Uuid,
) -> Result<Option<String>, DbErr> {
    Ok(privacy_email_change::Entity::find()
        .filter(privacy_email_change::Column::MessageId.eq(message_id))
        .filter(privacy_email_change::Column::UsedAt.is_null())
        .one(db)
        .await?
        .map(|change| change.new_email))
}

/// Gives the change of a mail being sent its token (by hash), valid from
/// now for `ttl`; `false` when the change has gone.
pub struct ArmEmailChange {
    pub message_id: Uuid,
    pub token_hash: String,
    pub ttl: TimeDelta,
}

impl Unit for ArmEmailChange {
    type Output = bool;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let armed = privacy_email_change::Entity::update_many()
            .col_expr(
                privacy_email_change::Column::TokenHash,
                Expr::value(self.token_hash.clone()),
            )
            .col_expr(
                privacy_email_change::Column::ExpiresAt,
                Expr::value(now + self.ttl),
            )
            .filter(privacy_email_change::Column::MessageId.eq(self.message_id))
            .filter(privacy_email_change::Column::UsedAt.is_null())
            .exec(txn)
            .await?;
        Ok(armed.rows_affected > 0)
    }
}

/// The waiting change a token confirms, if it is valid now.
pub async fn change_of(
    db: &impl sea_orm::ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<privacy_email_change::Model>, DbErr> {
    privacy_email_change::Entity::find()
        .filter(privacy_email_change::Column::TokenHash.eq(token_hash))
        .filter(privacy_email_change::Column::UsedAt.is_null())
        .filter(privacy_email_change::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Follows a change's link: every application of the candidate takes the
/// new address (and with it the candidate of that address), the candidate's
/// sessions follow, and the change is on record as a fulfilled
/// rectification. `None`: the link was unknown, used or expired.
pub struct ConfirmEmailChange {
    pub token_hash: String,
    pub policy: std::sync::Arc<crate::retention::policy::Policy>,
}

impl Unit for ConfirmEmailChange {
    /// The candidate the address now belongs to.
    type Output = Option<Uuid>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, DbErr> {
        let Some(change) = change_of(txn, &self.token_hash, now).await? else {
            return Ok(None);
        };
        // Marked used only if still unused: of two followers, one wins.
        let claimed = privacy_email_change::Entity::update_many()
            .col_expr(privacy_email_change::Column::UsedAt, Expr::value(now))
            .filter(privacy_email_change::Column::Id.eq(change.id))
            .filter(privacy_email_change::Column::UsedAt.is_null())
            .exec(txn)
            .await?
            .rows_affected;
        if claimed != 1 {
            return Ok(None);
        }
        let Ok(email) = Email::parse("email", &change.new_email) else {
            return Ok(None);
        };
        let applications = super::rights::applications(txn, change.candidate_id).await?;
        if applications.is_empty() {
            return Ok(None);
        }
        let changes = Rectification {
            email: Some(email),
            ..Rectification::default()
        };
        let actor = candidate_actor();
        let mut moved_to = change.candidate_id;
        let ids: Vec<Uuid> = applications.iter().map(|a| a.id).collect();
        for current in applications {
            let id = current.id;
            moved_to = rectify(txn, current, &changes, now).await?.candidate_id;
            audit::record(txn, now, &actor, "application.rectified", Some(id), None).await?;
        }
        refresh(txn, &self.policy, &ids, now).await?;
        privacy_session::Entity::update_many()
            .col_expr(privacy_session::Column::CandidateId, Expr::value(moved_to))
            .filter(privacy_session::Column::CandidateId.eq(change.candidate_id))
            .exec(txn)
            .await?;
        record_self_service(
            txn,
            moved_to,
            SubjectRequestKind::Rectification,
            None,
            true,
            now,
        )
        .await?;
        audit::record(
            txn,
            now,
            &actor,
            "candidate.email_changed",
            None,
            Some(moved_to),
        )
        .await?;
        Ok(Some(moved_to))
    }
}
