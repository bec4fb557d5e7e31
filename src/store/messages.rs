//! The email log and its outbox. An outbound message and its outbox row are
//! written in one transaction; the deliverer claims due rows, hands the mails
//! over, and records each outcome.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    Condition, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{LockBehavior, LockType},
};

use super::{
    audit::Actor,
    entity::{message, outbox},
    writer::Unit,
};
use crate::domain::message::{MessageDirection, MessageStatus};

#[derive(Clone, Debug)]
pub struct NewMessage {
    pub application_id: Uuid,
    /// `recruiter`, `inbound`, or a system mail's template name.
    pub origin: String,
    pub subject: String,
    pub body: String,
    /// The host part of Message-IDs.
    pub domain: String,
}

fn message_row(new: NewMessage, actor: &Actor, now: DateTime<Utc>) -> message::ActiveModel {
    let id = Uuid::now_v7();
    message::ActiveModel {
        id: Set(id),
        application_id: Set(new.application_id),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        direction: Set(MessageDirection::Outbound),
        origin: Set(new.origin),
        subject: Set(new.subject),
        body: Set(new.body),
        status: Set(MessageStatus::Queued),
        message_id: Set(format!("<{id}@{}>", new.domain)),
        sent_at: Set(None),
        received_at: Set(None),
    }
}

/// Queues a mail to the candidate: the message and its outbox row, in the
/// caller's transaction.
pub async fn queue(
    db: &impl ConnectionTrait,
    new: NewMessage,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<message::Model, DbErr> {
    let message = message_row(new, actor, now).insert(db).await?;
    let delivery = outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        message_id: Set(message.id),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
    };
    outbox::Entity::insert(delivery)
        .exec_without_returning(db)
        .await?;
    Ok(message)
}

/// Records a reply the candidate sent elsewhere.
async fn record_inbound(
    db: &impl ConnectionTrait,
    new: NewMessage,
    received_at: DateTime<Utc>,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<message::Model, DbErr> {
    let mut row = message_row(new, actor, now);
    row.direction = Set(MessageDirection::Inbound);
    row.status = Set(MessageStatus::Received);
    row.received_at = Set(Some(received_at));
    row.insert(db).await
}

/// An application's messages, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::ApplicationId.eq(application_id))
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find_by_id(id).one(db).await
}

/// Claims until `lease_until` up to `limit` outbox rows due by `due_by` that
/// nobody holds (or whose holder's lease ran out at `now`). On PostgreSQL,
/// rows another deliverer is claiming are skipped, not waited for.
async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    due_by: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let due = outbox::Entity::find()
        .filter(outbox::Column::NextAttemptAt.lte(due_by))
        .filter(
            Condition::any()
                .add(outbox::Column::ClaimedUntil.is_null())
                .add(outbox::Column::ClaimedUntil.lt(now)),
        )
        .order_by_asc(outbox::Column::NextAttemptAt)
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await?;
    if !due.is_empty() {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::ClaimedUntil, Expr::value(lease_until))
            .filter(outbox::Column::Id.is_in(due.iter().map(|row| row.id)))
            .exec(db)
            .await?;
    }
    Ok(due)
}

/// Makes every queued mail due at `now`, however long its backoff still runs.
async fn make_all_due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox::Column::NextAttemptAt.gt(now))
        .exec(db)
        .await
        .map(|_| ())
}

/// What became of one delivery attempt.
#[derive(Clone, Debug)]
pub enum Outcome {
    Sent {
        at: DateTime<Utc>,
        /// The application whose restriction this mail announced lifting,
        /// and when: that restriction lifts as the mail is recorded sent.
        lifts_restriction: Option<(Uuid, DateTime<Utc>)>,
    },
    /// Try again at `at`.
    Retry {
        at: DateTime<Utc>,
        error: &'static str,
    },
    Failed {
        error: &'static str,
    },
    /// The message is gone (its application was erased): nothing to send.
    Gone,
    /// Not attempted (the deliverer is stopping): free for the next run.
    Released,
}

/// Records an attempt's outcome: a sent or failed message leaves the outbox.
/// False when a sent message is gone by now (purged while it was out).
async fn settle(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    outcome: &Outcome,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let finish = |status: MessageStatus, sent_at: Option<DateTime<Utc>>| async move {
        let updated = message::Entity::update_many()
            .col_expr(message::Column::Status, Expr::value(status.as_str()))
            .col_expr(message::Column::SentAt, Expr::value(sent_at))
            .col_expr(message::Column::UpdatedAt, Expr::value(now))
            .filter(message::Column::Id.eq(row.message_id))
            .exec(db)
            .await?;
        outbox::Entity::delete_by_id(row.id).exec(db).await?;
        Ok(updated.rows_affected > 0)
    };
    match outcome {
        Outcome::Sent {
            at,
            lifts_restriction,
        } => {
            let recorded = finish(MessageStatus::Sent, Some(*at)).await?;
            if let Some((application_id, announced_at)) = lifts_restriction {
                crate::privacy::rights::lift_restriction(db, *application_id, *announced_at, now)
                    .await?;
            }
            Ok(recorded)
        }
        Outcome::Failed { .. } => finish(MessageStatus::Failed, None).await,
        Outcome::Gone => outbox::Entity::delete_by_id(row.id)
            .exec(db)
            .await
            .map(|_| true),
        Outcome::Retry { at, error } => outbox::Entity::update_many()
            .col_expr(outbox::Column::Attempts, Expr::value(row.attempts + 1))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(*at))
            .col_expr(
                outbox::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(outbox::Column::LastError, Expr::value(*error))
            .filter(outbox::Column::Id.eq(row.id))
            .exec(db)
            .await
            .map(|_| true),
        Outcome::Released => outbox::Entity::update_many()
            .col_expr(
                outbox::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(outbox::Column::Id.eq(row.id))
            .exec(db)
            .await
            .map(|_| true),
    }
}

/// A recruiter's mail to the candidate (queued) or a reply received
/// elsewhere (recorded), with its audit event; `None` when the application
/// is gone.
pub struct RecordMessage {
    pub new: NewMessage,
    pub direction: MessageDirection,
    pub received_at: DateTime<Utc>,
    pub actor: Actor,
}

impl Unit for RecordMessage {
    type Output = Option<message::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<message::Model>, DbErr> {
        let application_id = self.new.application_id;
        if super::applications::find(txn, application_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let (message, action) = match self.direction {
            MessageDirection::Outbound => (
                queue(txn, self.new.clone(), &self.actor, now).await?,
                "message.queued",
            ),
            MessageDirection::Inbound => (
                record_inbound(txn, self.new.clone(), self.received_at, &self.actor, now).await?,
                "message.recorded",
            ),
        };
        super::audit::record(
            txn,
            now,
            &self.actor,
            action,
            Some(application_id),
            Some(message.id),
        )
        .await?;
        Ok(Some(message))
    }
}

/// Makes every queued mail due at `at` (see [`make_all_due`]): the start of
/// a delivery run, so that the run takes them.
pub struct MakeAllDue {
    pub at: DateTime<Utc>,
}

impl Unit for MakeAllDue {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, _now: DateTimeUtc) -> Result<(), DbErr> {
        make_all_due(txn, self.at).await
    }
}

/// Claims due outbox rows (see [`claim_due`]).
pub struct ClaimDue {
    pub now: DateTime<Utc>,
    pub due_by: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    pub limit: u64,
}

impl Unit for ClaimDue {
    type Output = Vec<outbox::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        _now: DateTimeUtc,
    ) -> Result<Vec<outbox::Model>, DbErr> {
        claim_due(txn, self.now, self.due_by, self.lease_until, self.limit).await
    }
}

/// Records the outcomes of a batch of delivery attempts; the ids of the
/// messages that were gone by then (their application was purged while the
/// mail was out), whose copies the deliverer removes again.
pub struct Settle(pub Vec<(outbox::Model, Outcome)>);

impl Unit for Settle {
    type Output = Vec<Uuid>;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<Vec<Uuid>, DbErr> {
        let mut gone = Vec::new();
        for (row, outcome) in &self.0 {
            if !settle(txn, row, outcome, now).await? {
                gone.push(row.message_id);
            }
        }
        Ok(gone)
    }
}

/// Which of these message ids exist.
pub async fn existing_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await
}
