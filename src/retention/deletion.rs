//! Hard deletion of applications. One transaction takes a batch of
//! applications with every row about them, writes their receipts and
//! anonymous counters, turns their intake keys into tombstones, and queues
//! their files (objects, and the mail files of the file transport) in
//! `purge_objects`; the files are deleted after it commits and leave that
//! queue only once gone. Killed at any point, a purge leaves either the batch
//! untouched or its rows gone with their files queued, so the next run
//! finishes the job: no row ever points at a missing object, and no file
//! outlives its rows for longer than a crash.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveValue::Set,
    Condition, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{ExprTrait, LockBehavior, LockType, OnConflict, Query},
};

use super::records::facts_of;
use crate::retention::policy::{Policy, Retention};
use crate::store::{
    audit::Actor,
    entity::{
        application, candidate, consent, consent_link, document, interview, legal_hold, message,
        note, outbox, purge_receipt, status_change,
    },
    writer::Unit,
};

/// A file a purge leaves to delete once its rows are gone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Leftover {
    /// A document in the object store, by key.
    Object(String),
    /// A mail file of the file transport, by message id.
    Mail(Uuid),
}

impl Leftover {
    fn key_and_kind(&self) -> (String, &'static str) {
        match self {
            Leftover::Object(key) => (key.clone(), "object"),
            Leftover::Mail(id) => (id.to_string(), "mail"),
        }
    }

    fn from_row(key: String, kind: &str) -> Option<Self> {
        match kind {
            "mail" => key.parse().ok().map(Leftover::Mail),
            _ => Some(Leftover::Object(key)),
        }
    }
}

/// What a purge needs besides the applications: the policy that says what
/// is due, and how long tombstones last.
#[derive(Clone)]
pub struct PurgeRules {
    pub policy: Arc<Policy>,
    pub tombstone_ttl: TimeDelta,
}

/// Why an application went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Its purge date passed.
    Scheduled,
    /// An admin erased it at once.
    Erased,
    /// Its candidate asked for everything to be erased now.
    SubjectRequest,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Scheduled => "scheduled",
            Reason::Erased => "erased",
            Reason::SubjectRequest => "subject_request",
        }
    }
}

/// What one batch removed.
#[derive(Debug, Default)]
pub struct Erased {
    pub receipts: Vec<purge_receipt::Model>,
    /// Files to delete, queued in `purge_objects`.
    pub leftovers: Vec<Leftover>,
    /// Claimed but no longer due once their facts were read (the stored date
    /// was stale); their dates were corrected instead.
    pub skipped: usize,
}

/// An active hold: without end, or ending after `now`.
fn not_held(now: DateTime<Utc>) -> Condition {
    let held = Query::select()
        .expr(Expr::val(1))
        .from(legal_hold::Entity)
        .and_where(
            Expr::col((legal_hold::Entity, legal_hold::Column::ApplicationId))
                .equals((application::Entity, application::Column::Id)),
        )
        .cond_where(
            Condition::any()
                .add(Expr::col((legal_hold::Entity, legal_hold::Column::Until)).is_null())
                .add(Expr::col((legal_hold::Entity, legal_hold::Column::Until)).gt(now)),
        )
        .to_owned();
    Condition::all().add(Expr::exists(held).not())
}

/// The applications due by `due_by`, not held at `now` and not restricted,
/// soonest first.
pub fn due(now: DateTime<Utc>, due_by: DateTime<Utc>) -> Select<application::Entity> {
    application::Entity::find()
        .filter(application::Column::PurgeAfter.lte(due_by))
        .filter(application::Column::RestrictedAt.is_null())
        .filter(not_held(now))
        .order_by_asc(application::Column::PurgeAfter)
        .order_by_asc(application::Column::Id)
}

/// Locks up to `limit` applications due now; on PostgreSQL, rows another
/// purge holds are skipped, not waited for.
async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<application::Model>, DbErr> {
    due(now, now)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

/// Locks one application for an admin's erasure (waiting for a purge that
/// holds it: then it is gone and this finds nothing).
async fn claim_one(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await
}

/// Purges a batch of what is due: claims up to `batch` applications and
/// erases them, in one transaction.
pub struct PurgeDue {
    pub rules: PurgeRules,
    pub batch: u64,
}

impl Unit for PurgeDue {
    type Output = Erased;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<Erased, DbErr> {
        let claimed = claim_due(txn, now, self.batch).await?;
        erase(txn, &self.rules, claimed, Reason::Scheduled, now).await
    }
}

/// Erases one application at once, holds aside (an admin's decision), with
/// its audit event; nothing when it does not exist (or a purge took it first).
pub struct EraseNow {
    pub id: Uuid,
    pub actor: Actor,
    pub rules: PurgeRules,
}

impl Unit for EraseNow {
    type Output = Erased;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<Erased, DbErr> {
        let claimed = claim_one(txn, self.id).await?;
        let erased = erase(
            txn,
            &self.rules,
            claimed.into_iter().collect(),
            Reason::Erased,
            now,
        )
        .await?;
        if !erased.receipts.is_empty() {
            crate::store::audit::record(
                txn,
                now,
                &self.actor,
                "application.erased",
                Some(self.id),
                None,
            )
            .await?;
        }
        Ok(erased)
    }
}

/// Erases at once every application of a candidate who asked for it on
/// their page, except those a legal hold keeps: each of those gets the
/// erasure request on record instead (due now), so the purge takes it when
/// the hold lifts.
pub struct EraseCandidate {
    pub candidate_id: Uuid,
    pub rules: PurgeRules,
}

#[derive(Debug, Default)]
pub struct CandidateErased {
    pub erased: Erased,
    /// The applications a hold keeps for now.
    pub held: Vec<Uuid>,
}

impl Unit for EraseCandidate {
    type Output = CandidateErased;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<CandidateErased, DbErr> {
        let of_candidate = || {
            application::Entity::find()
                .filter(application::Column::CandidateId.eq(self.candidate_id))
                .order_by_asc(application::Column::Id)
        };
        let all = of_candidate().lock_exclusive().all(txn).await?;
        let free: Vec<Uuid> = of_candidate()
            .select_only()
            .column(application::Column::Id)
            .filter(not_held(now))
            .into_tuple()
            .all(txn)
            .await?;
        let (going, held): (Vec<_>, Vec<_>) = all.into_iter().partition(|a| free.contains(&a.id));
        let actor = crate::privacy::candidate_actor();
        let held: Vec<Uuid> = held.into_iter().map(|a| a.id).collect();
        for id in &held {
            super::holds::record_consent(
                txn,
                *id,
                super::policy::ConsentKind::Erasure,
                "the candidate's erasure request on the privacy pages".to_owned(),
                &actor,
                now,
            )
            .await?;
        }
        super::records::refresh(txn, &self.rules.policy, &held, now).await?;
        let erased = erase(txn, &self.rules, going, Reason::SubjectRequest, now).await?;
        // Done at once, or open until the purge takes what a hold keeps.
        crate::store::subject_requests::record_self_service(
            txn,
            self.candidate_id,
            crate::domain::subject_request::SubjectRequestKind::Erasure,
            None,
            held.is_empty(),
            now,
        )
        .await?;
        crate::store::audit::record(
            txn,
            now,
            &actor,
            "candidate.erased",
            None,
            Some(self.candidate_id),
        )
        .await?;
        Ok(CandidateErased { erased, held })
    }
}

/// Takes deleted files off the queue.
pub struct LeftoversDeleted(pub Vec<Leftover>);

impl Unit for LeftoversDeleted {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, _now: DateTimeUtc) -> Result<(), DbErr> {
        leftovers_deleted(txn, &self.0).await
    }
}

/// Erases these locked applications in the caller's transaction. A scheduled
/// purge re-reads each one's facts and spares any that is no longer due.
async fn erase(
    db: &impl ConnectionTrait,
    rules: &PurgeRules,
    claimed: Vec<application::Model>,
    reason: Reason,
    now: DateTime<Utc>,
) -> Result<Erased, DbErr> {
    let policy = &rules.policy;
    let mut erased = Erased::default();
    if claimed.is_empty() {
        return Ok(erased);
    }
    let facts: BTreeMap<Uuid, _> = facts_of(db, &claimed).await?.into_iter().collect();
    let mut going = Vec::with_capacity(claimed.len());
    let mut stale = Vec::new();
    for application in claimed {
        let retention = facts
            .get(&application.id)
            .map(|facts| policy.retention(facts, now));
        match (&retention, reason) {
            (Some(r), Reason::Scheduled) if !r.is_due(now) => stale.push(application.id),
            _ => going.push((application, retention)),
        }
    }
    erased.skipped = stale.len();
    super::records::refresh(db, policy, &stale, now).await?;
    if going.is_empty() {
        return Ok(erased);
    }
    let ids: Vec<Uuid> = going.iter().map(|(a, _)| a.id).collect();

    // Candidates in id order, so two purges lock them in the same order; the
    // lock makes the "was it their last application?" check below see what
    // a concurrent purge of their other application committed.
    let mut candidate_ids: Vec<Uuid> = going.iter().map(|(a, _)| a.candidate_id).collect();
    candidate_ids.sort();
    candidate_ids.dedup();
    candidate::Entity::find()
        .select_only()
        .column(candidate::Column::Id)
        .filter(candidate::Column::Id.is_in(candidate_ids.iter().copied()))
        .order_by_asc(candidate::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .all(db)
        .await?;

    let documents: Vec<(Uuid, String)> = document::Entity::find()
        .select_only()
        .column(document::Column::ApplicationId)
        .column(document::Column::ObjectKey)
        .filter(document::Column::ApplicationId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let mut objects: BTreeMap<Uuid, i32> = BTreeMap::new();
    for (application_id, _) in &documents {
        *objects.entry(*application_id).or_default() += 1;
    }
    let mails: Vec<Uuid> = message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::ApplicationId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    erased.leftovers = documents
        .into_iter()
        .map(|(_, key)| Leftover::Object(key))
        .chain(mails.into_iter().map(Leftover::Mail))
        .collect();
    queue_leftovers(db, &erased.leftovers, now).await?;
    crate::store::intake::tombstone(db, &ids, now, rules.tombstone_ttl).await?;

    let mut counters: Counters = BTreeMap::new();
    // Only applications that count in the partner statistics, by their
    // statistics source.
    let mut stats_counters: Counters = BTreeMap::new();
    for (application, retention) in &going {
        let outcome = Some(application.status).filter(|s| s.is_final());
        let receipt = purge_receipt::Model {
            id: Uuid::now_v7(),
            application_id: application.id,
            job_id: application.job_id,
            outcome,
            clock_start: retention.as_ref().and_then(|r| r.clock_start),
            purge_after: retention
                .as_ref()
                .map(|r| r.purge_after)
                .or(application.purge_after)
                .unwrap_or(now),
            purged_at: now,
            rule: match reason {
                Reason::Scheduled => retention
                    .as_ref()
                    .map(|r| r.rule.to_string())
                    .unwrap_or_default(),
                Reason::Erased => "admin_erasure".to_owned(),
                Reason::SubjectRequest => "subject_request".to_owned(),
            },
            reason: reason.as_str().to_owned(),
            objects_deleted: objects.get(&application.id).copied().unwrap_or(0),
        };
        let month = crate::domain::stats::Month::of(application.created_at).to_string();
        let outcome = receipt
            .outcome
            .map(|o| o.as_str().to_owned())
            .unwrap_or_default();
        if let Some(source) = &application.stats_source {
            *stats_counters
                .entry((
                    application.job_id,
                    month.clone(),
                    source.clone(),
                    outcome.clone(),
                ))
                .or_default() += 1;
        }
        *counters
            .entry((
                application.job_id,
                month,
                application.source.clone().unwrap_or_default(),
                outcome,
            ))
            .or_default() += 1;
        erased.receipts.push(receipt);
    }
    insert_receipts(db, &erased.receipts).await?;
    delete_rows(db, &ids, &candidate_ids).await?;
    // Last: a counter row is shared by every batch that counts into it, and
    // its lock is held from here to the commit.
    count_purged(db, "source_stats", counters).await?;
    count_purged(db, "stats_counts", stats_counters).await?;
    Ok(erased)
}

async fn queue_leftovers(
    db: &impl ConnectionTrait,
    leftovers: &[Leftover],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in leftovers.chunks(500) {
        let mut insert = Query::insert()
            .into_table("purge_objects")
            .columns(["object_key", "kind", "queued_at"])
            .on_conflict(OnConflict::column("object_key").do_nothing().to_owned())
            .to_owned();
        for leftover in chunk {
            let (key, kind) = leftover.key_and_kind();
            insert.values_panic([key.into(), kind.into(), now.into()]);
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

async fn insert_receipts(
    db: &impl ConnectionTrait,
    receipts: &[purge_receipt::Model],
) -> Result<(), DbErr> {
    for chunk in receipts.chunks(200) {
        let rows = chunk.iter().map(|r| purge_receipt::ActiveModel {
            id: Set(r.id),
            application_id: Set(r.application_id),
            job_id: Set(r.job_id),
            outcome: Set(r.outcome),
            clock_start: Set(r.clock_start),
            purge_after: Set(r.purge_after),
            purged_at: Set(r.purged_at),
            rule: Set(r.rule.clone()),
            reason: Set(r.reason.clone()),
            objects_deleted: Set(r.objects_deleted),
        });
        purge_receipt::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([purge_receipt::Column::ApplicationId])
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Purged applications by (job, month, source, outcome).
type Counters = BTreeMap<(Uuid, String, String, String), i64>;

/// Adds to anonymous counters keyed (job, month, source, outcome):
/// `source_stats` (by the source label sent) or `stats_counts` (what the
/// partner statistics count, by statistics source). One statement per 500
/// counters (the keys are distinct, as one upsert requires).
async fn count_purged(
    db: &impl ConnectionTrait,
    table: &'static str,
    counters: Counters,
) -> Result<(), DbErr> {
    let counters: Vec<_> = counters.into_iter().collect();
    for chunk in counters.chunks(500) {
        let mut insert = Query::insert()
            .into_table(table)
            .columns(["job_id", "month", "source", "outcome", "purged"])
            .on_conflict(
                OnConflict::columns(["job_id", "month", "source", "outcome"])
                    .value(
                        "purged",
                        Expr::cust(format!("{table}.purged + excluded.purged")),
                    )
                    .to_owned(),
            )
            .to_owned();
        for ((job_id, month, source, outcome), count) in chunk {
            insert.values_panic([
                (*job_id).into(),
                month.clone().into(),
                source.clone().into(),
                outcome.clone().into(),
                (*count).into(),
            ]);
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

/// Deletes every row about these applications, then the candidates left
/// without any application.
async fn delete_rows(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    candidate_ids: &[Uuid],
) -> Result<(), DbErr> {
    let messages = Query::select()
        .column(message::Column::Id)
        .from(message::Entity)
        .and_where(message::Column::ApplicationId.is_in(ids.iter().copied()))
        .to_owned();
    outbox::Entity::delete_many()
        .filter(outbox::Column::MessageId.in_subquery(messages))
        .exec(db)
        .await?;
    macro_rules! delete_owned {
        ($($entity:ident),*) => {$(
            $entity::Entity::delete_many()
                .filter($entity::Column::ApplicationId.is_in(ids.iter().copied()))
                .exec(db)
                .await?;
        )*};
    }
    delete_owned!(
        message,
        note,
        interview,
        status_change,
        consent,
        consent_link,
        legal_hold,
        document
    );
    application::Entity::delete_many()
        .filter(application::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    crate::store::applications::delete_candidates_without_applications(db, candidate_ids).await
}

/// Files of purged applications still to delete (after a crash), oldest first.
pub async fn queued_leftovers(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<Leftover>, DbErr> {
    let select = Query::select()
        .columns(["object_key", "kind"])
        .from("purge_objects")
        .order_by("queued_at", sea_orm::Order::Asc)
        .limit(limit)
        .to_owned();
    let rows = db.query_all(&select).await?;
    let mut leftovers = Vec::with_capacity(rows.len());
    for row in rows {
        let key: String = row.try_get("", "object_key")?;
        let kind: String = row.try_get("", "kind")?;
        leftovers.extend(Leftover::from_row(key, &kind));
    }
    Ok(leftovers)
}

async fn leftovers_deleted(db: &impl ConnectionTrait, leftovers: &[Leftover]) -> Result<(), DbErr> {
    for chunk in leftovers.chunks(500) {
        let keys = chunk.iter().map(|l| l.key_and_kind().0);
        let delete = Query::delete()
            .from_table("purge_objects")
            .and_where(Expr::col("object_key").is_in(keys))
            .to_owned();
        db.execute(&delete).await?;
    }
    Ok(())
}

/// Receipts, oldest first, after the receipt `after`.
pub async fn receipts(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<purge_receipt::Model>, DbErr> {
    let mut query = purge_receipt::Entity::find()
        .order_by_asc(purge_receipt::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(purge_receipt::Column::Id.gt(after));
    }
    query.all(db).await
}

/// One page of the applications whose stored purge date falls by `until`,
/// held or not, soonest first, with the retention that applies to each at
/// `now`; and the position the next page starts after, if there may be one.
pub struct Preview {
    pub items: Vec<(application::Model, Retention)>,
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

/// The page after the position `after` (purge date and id of the last one seen).
pub async fn preview(
    db: &impl ConnectionTrait,
    policy: &Policy,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Preview, DbErr> {
    let mut query = application::Entity::find()
        .filter(application::Column::PurgeAfter.lte(until))
        .order_by_asc(application::Column::PurgeAfter)
        .order_by_asc(application::Column::Id)
        .limit(limit);
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(application::Column::PurgeAfter.gt(at))
                .add(
                    Condition::all()
                        .add(application::Column::PurgeAfter.eq(at))
                        .add(application::Column::Id.gt(id)),
                ),
        );
    }
    let rows = query.all(db).await?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().and_then(|a| Some((a.purge_after?, a.id))))
        .flatten();
    let mut facts: BTreeMap<Uuid, _> = facts_of(db, &rows).await?.into_iter().collect();
    let items = rows
        .into_iter()
        .filter_map(|application| {
            let retention = policy.retention(&facts.remove(&application.id)?, now);
            Some((application, retention))
        })
        .collect();
    Ok(Preview { items, next })
}

/// After a purge on SQLite, copies the write-ahead log into the database file
/// and empties it, so that deleted rows (overwritten there by secure delete)
/// do not live on in old log frames. Best effort while readers are active.
pub async fn compact(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    Ok(())
}
