//! Sign-in by email, without telling anyone whether we hold data for an
//! address: every request is recorded and committed alike, and a link mail
//! is queued only for a known address under its hourly limit. The link's
//! token is made when the mail is sent (the stored mail keeps a
//! placeholder), works once and briefly; redeeming it starts a session
//! whose token lives only in the candidate's cookie.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, prelude::*,
};

use crate::{
    domain::{
        keys::{HashKey, hash_secret, random_token},
        lang::Lang,
    },
    mail,
    store::{
        entity::{
            application, candidate, privacy_email_change, privacy_link, privacy_session,
            privacy_sign_in,
        },
        messages::{self, NewMessage},
        writer::Unit,
    },
};

/// The cookie that carries a session's token.
pub const COOKIE: &str = "av_privacy";

/// The keyed hash sign-in requests are counted under.
pub fn email_hash(key: &HashKey, email_normalised: &str) -> String {
    key.hash(&[b"privacy-sign-in", email_normalised.as_bytes()])
}

/// A candidate asks for a sign-in link.
pub struct AskForLink {
    pub email_normalised: String,
    pub email_hash: String,
    pub lang: Lang,
    pub per_hour: u32,
    pub link_ttl: TimeDelta,
    /// The host part of Message-IDs.
    pub domain: String,
}

impl Unit for AskForLink {
    /// Whether a mail was queued: for tests and metrics, never for the page.
    type Output = bool;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let recent = privacy_sign_in::Entity::find()
            .filter(privacy_sign_in::Column::EmailHash.eq(&self.email_hash))
            .filter(privacy_sign_in::Column::CreatedAt.gt(now - TimeDelta::hours(1)))
            .count(txn)
            .await?;
        privacy_sign_in::ActiveModel {
            id: Set(Uuid::now_v7()),
            email_hash: Set(self.email_hash.clone()),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        if recent >= u64::from(self.per_hour) {
            return Ok(false);
        }
        let Some(latest) = latest_application(txn, &self.email_normalised).await? else {
            return Ok(false);
        };
        let minutes = self.link_ttl.num_minutes().max(1).to_string();
        let rendered = mail::PRIVACY_LINK
            .of(self.lang)
            .render(&[("full_name", &latest.full_name), ("link_minutes", &minutes)]);
        // The link opens its page in the language asked in.
        let body = rendered.body.replace(
            mail::PRIVACY_URL,
            &format!("{}?lang={}", mail::PRIVACY_URL, self.lang),
        );
        messages::queue(
            txn,
            NewMessage {
                application_id: latest.id,
                origin: mail::PRIVACY_LINK.name.to_owned(),
                subject: rendered.subject,
                body,
                domain: self.domain.clone(),
            },
            &super::candidate_actor(),
            now,
        )
        .await?;
        Ok(true)
    }
}

/// The most recent application of the candidate with this address: its
/// details address the mail.
async fn latest_application(
    db: &impl ConnectionTrait,
    email_normalised: &str,
) -> Result<Option<application::Model>, DbErr> {
    let Some(candidate) = candidate::Entity::find()
        .filter(candidate::Column::EmailNormalised.eq(email_normalised))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    application::Entity::find()
        .filter(application::Column::CandidateId.eq(candidate.id))
        .order_by_desc(application::Column::Id)
        .one(db)
        .await
}

/// Stores the link of a sign-in mail being sent; its token goes into the
/// mail only.
pub struct CreateLink {
    pub token_hash: String,
    pub application_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl Unit for CreateLink {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(), DbErr> {
        let Some(application) = application::Entity::find_by_id(self.application_id)
            .one(txn)
            .await?
        else {
            return Ok(());
        };
        privacy_link::ActiveModel {
            token_hash: Set(self.token_hash.clone()),
            candidate_id: Set(application.candidate_id),
            lang: Set(application.locale.unwrap_or_else(|| Lang::En.to_string())),
            created_at: Set(now),
            expires_at: Set(self.expires_at),
            used_at: Set(None),
        }
        .insert(txn)
        .await
        .map(|_| ())
    }
}

/// Whether a link's token is valid now (unused, unexpired).
pub async fn link_is_valid(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(privacy_link::Entity::find_by_id(token_hash)
        .filter(privacy_link::Column::UsedAt.is_null())
        .filter(privacy_link::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

/// Redeems a link once and starts a session for its candidate.
pub struct StartSession {
    pub link_hash: String,
    pub session_hash: String,
    pub lang: Lang,
    pub ttl: TimeDelta,
}

impl Unit for StartSession {
    /// `false`: the link was unknown, used or expired.
    type Output = bool;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<bool, DbErr> {
        let Some(link) = privacy_link::Entity::find_by_id(&self.link_hash)
            .one(txn)
            .await?
        else {
            return Ok(false);
        };
        // Marked used only if still unused: of two redeemers, one wins.
        let claimed = privacy_link::Entity::update_many()
            .col_expr(privacy_link::Column::UsedAt, Expr::value(now))
            .filter(privacy_link::Column::TokenHash.eq(&self.link_hash))
            .filter(privacy_link::Column::UsedAt.is_null())
            .filter(privacy_link::Column::ExpiresAt.gt(now))
            .exec(txn)
            .await?
            .rows_affected;
        if claimed != 1 {
            return Ok(false);
        }
        privacy_session::ActiveModel {
            token_hash: Set(self.session_hash.clone()),
            candidate_id: Set(link.candidate_id),
            lang: Set(self.lang.to_string()),
            created_at: Set(now),
            expires_at: Set(now + self.ttl),
            used_at: Set(None),
        }
        .insert(txn)
        .await?;
        crate::store::audit::record(
            txn,
            now,
            &super::candidate_actor(),
            "privacy.signed_in",
            None,
            Some(link.candidate_id),
        )
        .await?;
        Ok(true)
    }
}

/// A new random token and its hash.
pub fn new_token() -> (String, String) {
    let token = random_token();
    let hash = hash_secret(&token);
    (token, hash)
}

/// The candidate of a live session.
pub async fn session_candidate(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    if token.len() > 100 {
        return Ok(None);
    }
    Ok(privacy_session::Entity::find_by_id(hash_secret(token))
        .filter(privacy_session::Column::UsedAt.is_null())
        .filter(privacy_session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(|session| session.candidate_id))
}

/// Ends a session (signing out), or every session and link of a candidate
/// whose data went.
pub struct EndSessions {
    pub session_hash: Option<String>,
    pub candidate_id: Option<Uuid>,
}

impl Unit for EndSessions {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(), DbErr> {
        end_sessions(txn, self.session_hash.as_deref(), self.candidate_id, now).await
    }
}

pub async fn end_sessions(
    db: &impl ConnectionTrait,
    session_hash: Option<&str>,
    candidate_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if let Some(hash) = session_hash {
        privacy_session::Entity::update_many()
            .col_expr(privacy_session::Column::UsedAt, Expr::value(now))
            .filter(privacy_session::Column::TokenHash.eq(hash))
            .exec(db)
            .await?;
    }
    if let Some(candidate_id) = candidate_id {
        privacy_session::Entity::delete_many()
            .filter(privacy_session::Column::CandidateId.eq(candidate_id))
            .exec(db)
            .await?;
        privacy_link::Entity::delete_many()
            .filter(privacy_link::Column::CandidateId.eq(candidate_id))
            .exec(db)
            .await?;
        privacy_email_change::Entity::delete_many()
            .filter(privacy_email_change::Column::CandidateId.eq(candidate_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Deletes expired links, sessions, email changes and sign-in counts (run
/// with the purge).
pub struct Sweep;

impl Unit for Sweep {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(), DbErr> {
        sweep(txn, now).await
    }
}

async fn sweep(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
    privacy_link::Entity::delete_many()
        .filter(privacy_link::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    privacy_session::Entity::delete_many()
        .filter(privacy_session::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    privacy_sign_in::Entity::delete_many()
        .filter(privacy_sign_in::Column::CreatedAt.lte(now - TimeDelta::hours(1)))
        .exec(db)
        .await?;
    // A change whose mail has not gone yet waits a week for it.
    privacy_email_change::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(privacy_email_change::Column::ExpiresAt.lte(now))
                        .add(privacy_email_change::Column::TokenHash.is_not_null()),
                )
                .add(privacy_email_change::Column::CreatedAt.lte(now - TimeDelta::days(7))),
        )
        .exec(db)
        .await?;
    Ok(())
}
