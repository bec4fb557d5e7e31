//! What an application's retention depends on, read from the database.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    Condition, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, FromQueryResult,
    QuerySelect, Statement,
    prelude::*,
    sea_query::{ExprTrait, LockBehavior, LockType},
};

use super::policy::{ConsentKind, Facts, Hold, Policy};
use crate::domain::status::ApplicationStatus;
use crate::store::{
    audit::Actor,
    entity::{application, consent, consent_link, legal_hold},
    writer::Unit,
};

#[derive(FromQueryResult)]
struct FactsRow {
    id: Uuid,
    country: String,
    closed_at: Option<DateTime<Utc>>,
    reopened_at: Option<DateTime<Utc>>,
    extended_at: Option<DateTime<Utc>>,
    erasure_at: Option<DateTime<Utc>>,
    holds: i64,
    hold_until: Option<DateTime<Utc>>,
}

/// The facts of one application (none when its job is gone).
pub async fn facts(
    db: &impl ConnectionTrait,
    application: &application::Model,
) -> Result<Option<Facts>, DbErr> {
    let mut facts = facts_of(db, std::slice::from_ref(application)).await?;
    Ok(facts.pop().map(|(_, facts)| facts))
}

/// The facts of these applications, in one query: their jobs, their last
/// reopenings, their latest consents (only the latest of each kind matters)
/// and their holds. An application whose job is gone is left out.
pub async fn facts_of(
    db: &impl ConnectionTrait,
    applications: &[application::Model],
) -> Result<Vec<(Uuid, Facts)>, DbErr> {
    if applications.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let placeholders: Vec<String> = (1..=applications.len())
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect();
    let sql = format!(
        "SELECT a.id AS id, j.country AS country, j.closed_at AS closed_at, \
         (SELECT MAX(s.at) FROM status_changes s WHERE s.application_id = a.id \
            AND s.from_status IN ('{rejected}', '{withdrawn}')) AS reopened_at, \
         (SELECT MAX(c.granted_at) FROM consents c WHERE c.application_id = a.id \
            AND c.kind = '{extension}') AS extended_at, \
         (SELECT MAX(c.granted_at) FROM consents c WHERE c.application_id = a.id \
            AND c.kind = '{erasure}') AS erasure_at, \
         (SELECT COUNT(*) FROM legal_holds h WHERE h.application_id = a.id) AS holds, \
         (SELECT h.until FROM legal_holds h WHERE h.application_id = a.id) AS hold_until \
         FROM applications a JOIN jobs j ON j.id = a.job_id WHERE a.id IN ({ids})",
        rejected = ApplicationStatus::Rejected.as_str(),
        withdrawn = ApplicationStatus::Withdrawn.as_str(),
        extension = ConsentKind::Extension.as_str(),
        erasure = ConsentKind::Erasure.as_str(),
        ids = placeholders.join(", "),
    );
    let values = applications.iter().map(|a| Value::from(a.id));
    let statement = Statement::from_sql_and_values(backend, sql, values);
    let rows: HashMap<Uuid, FactsRow> = FactsRow::find_by_statement(statement)
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    Ok(applications
        .iter()
        .filter_map(|application| {
            let row = rows.get(&application.id)?;
            Some((
                application.id,
                Facts {
                    status: Some(application.status),
                    decided_at: application.decided_at,
                    job_country: row.country.clone(),
                    job_closed_at: row.closed_at,
                    reopened_at: row.reopened_at,
                    last_activity: application.updated_at,
                    talent_pool_consent: application.talent_pool_consent,
                    extensions: row.extended_at.into_iter().collect(),
                    erase_requested_at: row.erasure_at,
                    hold: (row.holds > 0).then_some(Hold {
                        until: row.hold_until,
                    }),
                },
            ))
        })
        .collect())
}

/// Recomputes the stored purge date of these applications after a change of
/// what it depends on (a status move, a correction, a consent, the job's
/// closing), in the caller's transaction.
pub async fn refresh(
    db: &impl ConnectionTrait,
    policy: &Policy,
    ids: &[Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let applications = application::Entity::find()
        .filter(application::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    refresh_rows(db, policy, &applications, now).await
}

async fn refresh_rows(
    db: &impl ConnectionTrait,
    policy: &Policy,
    applications: &[application::Model],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let fingerprint = policy.fingerprint();
    let current: HashMap<Uuid, &application::Model> =
        applications.iter().map(|a| (a.id, a)).collect();
    for (id, facts) in facts_of(db, applications).await? {
        let purge_after = policy.retention(&facts, now).purge_after;
        let row = current[&id];
        if row.purge_after == Some(purge_after)
            && row.retention_policy.as_deref() == Some(fingerprint.as_str())
        {
            continue;
        }
        application::Entity::update_many()
            .col_expr(application::Column::PurgeAfter, Expr::value(purge_after))
            .col_expr(
                application::Column::RetentionPolicy,
                Expr::value(fingerprint.clone()),
            )
            .filter(application::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Computes the purge date of up to `limit` applications that have none yet
/// or got it under another policy (the configuration changed); how many.
async fn refresh_stale(
    db: &impl ConnectionTrait,
    policy: &Policy,
    limit: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, DbErr> {
    let fingerprint = policy.fingerprint();
    let stale = application::Entity::find()
        .filter(
            Condition::any()
                .add(application::Column::PurgeAfter.is_null())
                .add(application::Column::RetentionPolicy.is_null())
                .add(application::Column::RetentionPolicy.ne(fingerprint)),
        )
        .limit(limit)
        .all(db)
        .await?;
    refresh_rows(db, policy, &stale, now).await?;
    Ok(stale.len())
}

/// The applications of a job, whose purge dates its closing or its country moves.
pub async fn refresh_job(
    db: &impl ConnectionTrait,
    policy: &Policy,
    job_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let applications = application::Entity::find()
        .filter(application::Column::JobId.eq(job_id))
        .all(db)
        .await?;
    for chunk in applications.chunks(500) {
        refresh_rows(db, policy, chunk, now).await?;
    }
    Ok(())
}

/// Places a legal hold, replacing any earlier one.
async fn place_hold(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    reason: String,
    until: Option<DateTime<Utc>>,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<legal_hold::Model, DbErr> {
    legal_hold::Entity::delete_by_id(application_id)
        .exec(db)
        .await?;
    legal_hold::ActiveModel {
        application_id: Set(application_id),
        reason: Set(reason),
        until: Set(until),
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

async fn record_consent(
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

/// Applications whose candidate should be reminded by `now`: within
/// `reminder_before` of their purge date, not held, not reminded of this
/// date; locked (skipped by another instance on PostgreSQL).
pub async fn claim_reminders(
    db: &impl ConnectionTrait,
    policy: &Policy,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<application::Model>, DbErr> {
    super::deletion::due(now, now + policy.reminder_before)
        .filter(application::Column::PurgeAfter.gt(now))
        .filter(
            Condition::any()
                .add(application::Column::RemindedFor.is_null())
                .add(ExprTrait::ne(
                    Expr::col(application::Column::RemindedFor),
                    Expr::col(application::Column::PurgeAfter),
                )),
        )
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

/// Records that the candidate was reminded of this purge date.
pub async fn mark_reminded(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    purge_after: DateTime<Utc>,
) -> Result<(), DbErr> {
    application::Entity::update_many()
        .col_expr(application::Column::RemindedFor, Expr::value(purge_after))
        .filter(application::Column::Id.eq(application_id))
        .exec(db)
        .await
        .map(|_| ())
}

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

/// Places (or replaces) a legal hold, with its audit event; `None` when the
/// application is gone.
pub struct PlaceHold {
    pub application_id: Uuid,
    pub reason: String,
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
        let hold = place_hold(
            txn,
            self.application_id,
            self.reason.clone(),
            self.until,
            &self.actor,
            now,
        )
        .await?;
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

/// Brings up to `limit` stale purge dates up to the policy (see [`refresh_stale`]).
pub struct RefreshStale {
    pub policy: Arc<Policy>,
    pub limit: u64,
}

impl Unit for RefreshStale {
    type Output = usize;

    async fn run(&self, txn: &DatabaseTransaction, now: DateTimeUtc) -> Result<usize, DbErr> {
        refresh_stale(txn, &self.policy, self.limit, now).await
    }
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
