//! Data-subject requests: recorded by an admin (email, letter) or by the
//! candidate on their pages, changed and extended by an admin, found by
//! their deadline, and closed once the purge has erased what an erasure
//! request asked for. Every write records a PII-free audit event (ids and
//! action only) in its transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    Condition, ConnectionTrait, DatabaseTransaction, DbErr, PaginatorTrait, QueryOrder,
    QuerySelect,
    prelude::*,
    sea_query::{ExprTrait, Func, Query},
};

use super::{
    applications,
    audit::{self, Actor},
    entity::{candidate, subject_request},
    messages::{self, NewMessage},
    writer::Unit,
};
use crate::{
    domain::{
        fields::Email,
        subject_request::{
            Change, ChangeRefused, SubjectRequestChannel, SubjectRequestKind, SubjectRequestStatus,
            due_at,
        },
    },
    mail,
};

use subject_request::Column;

/// A request as it arrives.
#[derive(Clone, Debug)]
pub struct NewSubjectRequest {
    pub kind: SubjectRequestKind,
    pub channel: SubjectRequestChannel,
    pub candidate_id: Option<Uuid>,
    pub received_at: DateTime<Utc>,
    pub identity_evidence: Option<String>,
    pub details: Option<String>,
}

async fn insert(
    db: &impl ConnectionTrait,
    new: NewSubjectRequest,
    status: SubjectRequestStatus,
    now: DateTime<Utc>,
) -> Result<subject_request::Model, DbErr> {
    subject_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind),
        channel: Set(new.channel),
        status: Set(status),
        candidate_id: Set(new.candidate_id),
        received_at: Set(new.received_at),
        due_at: Set(due_at(new.received_at)),
        extended_until: Set(None),
        extension_reason: Set(None),
        identity_evidence: Set(new.identity_evidence),
        details: Set(new.details),
        refusal_reason: Set(None),
        completed_at: Set(status.is_final().then_some(now)),
        officer_reminded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// Records a request the candidate made on their pages, in the caller's
/// transaction, with its audit event; `done` when the pages fulfilled it
/// at once (an export, a correction), so it is closed as it is recorded.
pub async fn record_self_service(
    db: &impl ConnectionTrait,
    candidate_id: Uuid,
    kind: SubjectRequestKind,
    details: Option<String>,
    done: bool,
    now: DateTime<Utc>,
) -> Result<subject_request::Model, DbErr> {
    let new = NewSubjectRequest {
        kind,
        channel: SubjectRequestChannel::SelfService,
        candidate_id: Some(candidate_id),
        received_at: now,
        identity_evidence: None,
        details,
    };
    let status = if done {
        SubjectRequestStatus::Done
    } else {
        SubjectRequestStatus::Open
    };
    let request = insert(db, new, status, now).await?;
    audit::record(
        db,
        now,
        &Actor::default(),
        "subject_request.created",
        None,
        Some(request.id),
    )
    .await?;
    Ok(request)
}

pub async fn get(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<subject_request::Model>, DbErr> {
    subject_request::Entity::find_by_id(id).one(db).await
}

/// Requests still to answer.
fn pending() -> Condition {
    Condition::all().add(Column::Status.is_in(SubjectRequestStatus::PENDING))
}

/// The deadline that holds, in SQL: the extended one, else the due date.
fn deadline() -> Expr {
    Func::coalesce([
        Expr::col((subject_request::Entity, Column::ExtendedUntil)),
        Expr::col((subject_request::Entity, Column::DueAt)),
    ])
    .into()
}

/// Still to answer at `now`, with the deadline passed.
fn overdue(now: DateTime<Utc>) -> Condition {
    pending().add(deadline().lt(now))
}

/// The candidate's requests still to answer, oldest first.
pub async fn open_for_candidate(
    db: &impl ConnectionTrait,
    candidate_id: Uuid,
) -> Result<Vec<subject_request::Model>, DbErr> {
    subject_request::Entity::find()
        .filter(Column::CandidateId.eq(candidate_id))
        .filter(pending())
        .order_by_asc(Column::ReceivedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

pub struct ListFilter {
    pub status: Option<SubjectRequestStatus>,
    pub kind: Option<SubjectRequestKind>,
    /// Still to answer, and falling due between `now` and this.
    pub due_by: Option<DateTime<Utc>>,
    /// Overdue at `now` (or not).
    pub overdue: Option<bool>,
    pub now: DateTime<Utc>,
    /// The last id of the previous page.
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// A page of requests, oldest first, keyed by id (UUIDv7, so time order).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: ListFilter,
) -> Result<Vec<subject_request::Model>, DbErr> {
    let mut query = subject_request::Entity::find()
        .order_by_asc(Column::Id)
        .limit(filter.limit);
    if let Some(status) = filter.status {
        query = query.filter(Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(Column::Kind.eq(kind));
    }
    if let Some(by) = filter.due_by {
        query = query
            .filter(pending())
            .filter(deadline().gte(filter.now))
            .filter(deadline().lte(by));
    }
    match filter.overdue {
        Some(true) => query = query.filter(overdue(filter.now)),
        Some(false) => query = query.filter(overdue(filter.now).not()),
        None => {}
    }
    if let Some(after) = filter.after {
        query = query.filter(Column::Id.gt(after));
    }
    query.all(db).await
}

/// Requests still to answer, and of those how many are overdue at `now`.
pub async fn pending_counts(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    let open = subject_request::Entity::find()
        .filter(pending())
        .count(db)
        .await?;
    let overdue = subject_request::Entity::find()
        .filter(overdue(now))
        .count(db)
        .await?;
    Ok((open, overdue))
}

/// Requests still to answer, falling due by `by`, whose officer has not
/// been reminded of their current deadline; soonest first.
pub async fn due_officer_reminder(
    db: &impl ConnectionTrait,
    by: DateTime<Utc>,
) -> Result<Vec<subject_request::Model>, DbErr> {
    subject_request::Entity::find()
        .filter(pending())
        .filter(Column::OfficerRemindedAt.is_null())
        .filter(deadline().lte(by))
        .order_by_asc(deadline())
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// Marks done every open or waiting erasure request whose candidate is
/// gone (the purge or an admin's erasure took their last application), in
/// the caller's transaction, with an audit event each; how many. A request
/// about nobody we knew is left to the admin who answers it.
pub async fn close_fulfilled_erasures(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let candidate_left = Query::select()
        .expr(Expr::val(1))
        .from(candidate::Entity)
        .and_where(
            Expr::col((candidate::Entity, candidate::Column::Id))
                .equals((subject_request::Entity, Column::CandidateId)),
        )
        .to_owned();
    let fulfilled: Vec<Uuid> = subject_request::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Kind.eq(SubjectRequestKind::Erasure))
        .filter(pending())
        .filter(Column::CandidateId.is_not_null())
        .filter(Condition::all().add(Expr::exists(candidate_left).not()))
        .into_tuple()
        .all(db)
        .await?;
    if fulfilled.is_empty() {
        return Ok(0);
    }
    subject_request::Entity::update_many()
        .col_expr(
            Column::Status,
            Expr::value(SubjectRequestStatus::Done.as_str()),
        )
        .col_expr(Column::CompletedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.is_in(fulfilled.iter().copied()))
        .exec(db)
        .await?;
    for id in &fulfilled {
        audit::record(
            db,
            now,
            &Actor::default(),
            "subject_request.fulfilled",
            None,
            Some(*id),
        )
        .await?;
    }
    Ok(fulfilled.len() as u64)
}

/// Moves the requests of a candidate who went (their only application
/// moved to another address) to the candidate they are now.
pub async fn hand_over(db: &impl ConnectionTrait, from: Uuid, to: Uuid) -> Result<(), DbErr> {
    subject_request::Entity::update_many()
        .col_expr(Column::CandidateId, Expr::value(to))
        .filter(Column::CandidateId.eq(from))
        .exec(db)
        .await
        .map(|_| ())
}

/// A request received by email or letter, recorded by an admin: the
/// person found by their address (normalised as the candidates are), if we
/// hold anything on them. Only the candidate's id is kept, not the address.
pub struct CreateSubjectRequest {
    pub new: NewSubjectRequest,
    pub email: Option<Email>,
    pub actor: Actor,
}

impl Unit for CreateSubjectRequest {
    type Output = subject_request::Model;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<subject_request::Model, DbErr> {
        let candidate_id = match &self.email {
            Some(email) => applications::candidate_by_email(txn, email)
                .await?
                .map(|candidate| candidate.id),
            None => None,
        };
        let new = NewSubjectRequest {
            candidate_id,
            ..self.new.clone()
        };
        let request = insert(txn, new, SubjectRequestStatus::Open, now).await?;
        audit::record(
            txn,
            now,
            &self.actor,
            "subject_request.created",
            None,
            Some(request.id),
        )
        .await?;
        Ok(request)
    }
}

/// A request after a change.
pub struct Updated {
    pub request: subject_request::Model,
    /// After an extension: whether the candidate was mailed (not when no
    /// application of theirs is left to log the mail with).
    pub candidate_notified: Option<bool>,
}

/// A change by an admin, checked against the stored request (locked on
/// PostgreSQL) in one transaction. An extension mails the candidate the new
/// deadline and its reason at once, and lets the officer be reminded of
/// the new deadline. `None` when there is no such request; the rules'
/// refusal as they gave it.
pub struct UpdateSubjectRequest {
    pub id: Uuid,
    pub change: Change,
    pub actor: Actor,
    /// The host part of Message-IDs.
    pub domain: String,
}

impl Unit for UpdateSubjectRequest {
    type Output = Option<Result<Updated, ChangeRefused>>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<Self::Output, DbErr> {
        let Some(current) = subject_request::Entity::find_by_id(self.id)
            .lock_exclusive()
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        let extended_until = match current.standing().check(&self.change, now) {
            Ok(extended_until) => extended_until,
            Err(refused) => return Ok(Some(Err(refused))),
        };
        let change = &self.change;
        let mut active: subject_request::ActiveModel = current.into();
        if let Some(status) = change.status {
            active.status = Set(status);
            active.completed_at = Set(status.is_final().then_some(now));
            active.refusal_reason = Set(change.refusal_reason.clone());
        }
        if let Some(details) = &change.details {
            active.details = Set(details.clone());
        }
        if let (Some(until), Some(extension)) = (extended_until, &change.extension) {
            active.extended_until = Set(Some(until));
            active.extension_reason = Set(Some(extension.reason.clone()));
            // The officer hears of the new deadline in its turn.
            active.officer_reminded_at = Set(None);
        }
        active.updated_at = Set(now);
        let request = active.update(txn).await?;

        let mut candidate_notified = None;
        if let Some(extension) = &change.extension {
            let notified = self.notify(txn, &request, &extension.reason, now).await?;
            audit::record(
                txn,
                now,
                &self.actor,
                "subject_request.extended",
                notified,
                Some(request.id),
            )
            .await?;
            candidate_notified = Some(notified.is_some());
        }
        if change.extension.is_none() || change.status.is_some() || change.details.is_some() {
            audit::record(
                txn,
                now,
                &self.actor,
                "subject_request.updated",
                None,
                Some(request.id),
            )
            .await?;
        }
        Ok(Some(Ok(Updated {
            request,
            candidate_notified,
        })))
    }
}

impl UpdateSubjectRequest {
    /// Queues the mail that tells the candidate of an extension, logged with
    /// their most recent application; that application's id, or none when
    /// we hold no application of theirs to send it with.
    async fn notify(
        &self,
        txn: &DatabaseTransaction,
        request: &subject_request::Model,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, DbErr> {
        let Some(candidate_id) = request.candidate_id else {
            return Ok(None);
        };
        let Some(application_id) = applications::latest_of_candidate(txn, candidate_id).await?
        else {
            return Ok(None);
        };
        let Some(to) = applications::addressee(txn, application_id).await? else {
            return Ok(None);
        };
        let deadline = request.standing().deadline();
        let mail = mail::SUBJECT_REQUEST_EXTENDED.of(to.lang).render(&[
            ("full_name", &to.full_name),
            ("new_deadline", &to.lang.date(deadline)),
            ("reason", reason),
        ]);
        let message = NewMessage {
            application_id,
            origin: mail::SUBJECT_REQUEST_EXTENDED.name.into(),
            subject: mail.subject,
            body: mail.body,
            domain: self.domain.clone(),
        };
        messages::queue(txn, message, &self.actor, now).await?;
        Ok(Some(application_id))
    }
}

/// Records that the officer was reminded, at `at`, of these requests and
/// the deadlines they had then (`extended_until` as read): a request
/// extended since keeps its reminder due, for the new deadline.
pub struct MarkOfficerReminded {
    pub reminded: Vec<(Uuid, Option<DateTime<Utc>>)>,
    pub at: DateTime<Utc>,
}

impl Unit for MarkOfficerReminded {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, _now: DateTime<Utc>) -> Result<(), DbErr> {
        for (id, extended_until) in &self.reminded {
            let same_deadline = match extended_until {
                Some(until) => Column::ExtendedUntil.eq(*until),
                None => Column::ExtendedUntil.is_null(),
            };
            subject_request::Entity::update_many()
                .col_expr(Column::OfficerRemindedAt, Expr::value(self.at))
                .filter(Column::Id.eq(*id))
                .filter(same_deadline)
                .exec(txn)
                .await?;
        }
        Ok(())
    }
}

/// Closes the erasure requests the purge has fulfilled (see
/// [`close_fulfilled_erasures`]); how many.
pub struct CloseFulfilledErasures;

impl Unit for CloseFulfilledErasures {
    type Output = u64;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<u64, DbErr> {
        close_fulfilled_erasures(txn, now).await
    }
}
