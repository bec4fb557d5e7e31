//! The periodic retention run, inside `serve` every `retention.purge_interval`
//! and once from `applicant-vault purge`: finish file deletions a crash
//! left, bring purge dates up to the current policy, remind candidates whose
//! purge date nears, purge what is due, and close the erasure requests whose
//! candidate is gone.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, DbErr};

use super::{
    deletion::{self, EraseCandidate, EraseNow, Leftover, LeftoversDeleted, PurgeDue, PurgeRules},
    records::{self, RefreshStale},
};
use crate::{
    mail,
    services::Services,
    store::{
        self, audit::Actor, entity::purge_receipt, messages::NewMessage,
        subject_requests::CloseFulfilledErasures, writer::Unit,
    },
};

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub applications: usize,
    pub objects: usize,
    pub reminded: usize,
}

/// Files deleted per round.
const LEFTOVER_BATCH: u64 = 1000;

/// Reminders written per transaction.
const REMINDER_BATCH: u64 = 100;

fn rules(state: &Services) -> PurgeRules {
    PurgeRules {
        policy: Arc::clone(&state.policy),
        tombstone_ttl: state.settings.intake.tombstone_ttl.0,
    }
}

/// One full run. `progress` hears the number of applications purged so far.
pub async fn run(state: &Services, progress: &(dyn Fn(usize) + Sync)) -> anyhow::Result<Purged> {
    let mut done = Purged {
        objects: finish_deletions(state).await?,
        ..Purged::default()
    };
    refresh_stale(state).await?;
    done.reminded = send_reminders(state).await?;
    let purged = AtomicUsize::new(0);
    let lanes = (0..LANES).map(|_| purge_lane(state, &purged, progress));
    done.objects += futures_util::future::try_join_all(lanes)
        .await?
        .into_iter()
        .sum::<usize>();
    done.applications = purged.into_inner();
    if done.applications > 0 {
        deletion::compact(&state.db).await?;
    }
    state.writer.run(crate::privacy::session::Sweep).await?;
    // Also those an admin's erasure fulfilled, or one held back by a legal
    // hold until this run purged it.
    let closed = state.writer.run(CloseFulfilledErasures).await?;
    if closed > 0 {
        tracing::info!(closed, "erasure requests fulfilled");
    }
    Ok(done)
}

/// Batches purged at once on PostgreSQL, each in its own transaction (the
/// claim skips what another holds). A lane also waits for its commit and
/// for the object store, so three keep two cores busy (`purge-bench`: 0.76x
/// the baseline with two, 0.84x with three). SQLite's one writer runs them
/// in turn.
const LANES: usize = 3;

/// Purges batches until none is due; the objects it deleted. One batch's
/// files are deleted while the next batch's rows are.
async fn purge_lane(
    state: &Services,
    purged: &AtomicUsize,
    progress: &(dyn Fn(usize) + Sync),
) -> anyhow::Result<usize> {
    let mut objects = 0;
    let mut deleting: Option<tokio::task::JoinHandle<anyhow::Result<usize>>> = None;
    loop {
        let erased = state
            .writer
            .run(PurgeDue {
                rules: rules(state),
                batch: state.settings.retention.purge_batch,
            })
            .await?;
        if let Some(previous) = deleting.take() {
            objects += previous.await??;
        }
        if erased.receipts.is_empty() && erased.skipped == 0 {
            return Ok(objects);
        }
        let (state, leftovers) = (state.clone(), erased.leftovers);
        deleting = Some(tokio::spawn(async move {
            delete_leftovers(&state, leftovers).await
        }));
        for receipt in &erased.receipts {
            tracing::info!(application_id = %receipt.application_id, rule = %receipt.rule, "application purged");
        }
        let so_far = purged.fetch_add(erased.receipts.len(), Ordering::Relaxed);
        progress(so_far + erased.receipts.len());
    }
}

/// Erases one application at once, holds aside (an admin's decision); the
/// receipt, or none when it does not exist (or a purge took it first).
pub async fn erase_now(
    state: &Services,
    id: uuid::Uuid,
    actor: Actor,
) -> Result<Option<purge_receipt::Model>, DbErr> {
    let erased = state
        .writer
        .run(EraseNow {
            id,
            actor,
            rules: rules(state),
        })
        .await?;
    // The rows are gone and the files queued: a store that is down now
    // only delays their deletion to the next run.
    if let Err(err) = delete_leftovers(state, erased.leftovers).await {
        tracing::warn!(application_id = %id, error = format!("{err:#}"), "files of an erased application left for the next purge run");
    }
    Ok(erased.receipts.into_iter().next())
}

/// Erases every application of a candidate who asked for it, those under a
/// legal hold aside (they go when it lifts); which ones a hold keeps.
pub async fn erase_candidate(
    state: &Services,
    candidate_id: uuid::Uuid,
) -> Result<Vec<uuid::Uuid>, DbErr> {
    let done = state
        .writer
        .run(EraseCandidate {
            candidate_id,
            rules: rules(state),
        })
        .await?;
    for receipt in &done.erased.receipts {
        tracing::info!(application_id = %receipt.application_id, "application erased at its candidate's request");
    }
    if let Err(err) = delete_leftovers(state, done.erased.leftovers).await {
        tracing::warn!(candidate_id = %candidate_id, error = format!("{err:#}"), "files of an erased candidate left for the next purge run");
    }
    Ok(done.held)
}

/// Deletes files (objects from the store, mail files from the mail folder),
/// then takes them off the queue; how many objects went.
async fn delete_leftovers(state: &Services, leftovers: Vec<Leftover>) -> anyhow::Result<usize> {
    if leftovers.is_empty() {
        return Ok(0);
    }
    let mut objects = Vec::new();
    let mut mails = Vec::new();
    for leftover in &leftovers {
        match leftover {
            Leftover::Object(key) => objects.push(key.clone()),
            Leftover::Mail(id) => mails.push(*id),
        }
    }
    state.blobs.delete_all(&objects).await?;
    mail::delete_files(&state.settings.mail.dir, mails).await?;
    state.writer.run(LeftoversDeleted(leftovers)).await?;
    Ok(objects.len())
}

/// Deletes the files earlier runs queued but did not get to delete.
async fn finish_deletions(state: &Services) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        let leftovers = deletion::queued_leftovers(&state.db, LEFTOVER_BATCH).await?;
        if leftovers.is_empty() {
            return Ok(deleted);
        }
        deleted += delete_leftovers(state, leftovers).await?;
    }
}

/// Computes purge dates missing or made under another policy.
async fn refresh_stale(state: &Services) -> anyhow::Result<()> {
    const BATCH: u64 = 500;
    loop {
        let refreshed = state
            .writer
            .run(RefreshStale {
                policy: Arc::clone(&state.policy),
                limit: BATCH,
            })
            .await?;
        if refreshed < BATCH as usize {
            return Ok(());
        }
    }
}

/// Queues one reminder per application and purge date; the link in it is
/// made when the mail is sent.
async fn send_reminders(state: &Services) -> anyhow::Result<usize> {
    let mut reminded = 0;
    loop {
        let now = state.now();
        let (claimed, queued) = state
            .writer
            .run(QueueReminders {
                policy: Arc::clone(&state.policy),
                link_expires: now + state.settings.consent.link_ttl.0,
                domain: mail::message_domain(&state.settings.server.public_url),
            })
            .await?;
        reminded += queued;
        if queued > 0 {
            state.mail_queued.notify_one();
        }
        if claimed < REMINDER_BATCH as usize {
            return Ok(reminded);
        }
    }
}

/// Claims a batch of applications due a reminder and queues their mails;
/// how many were claimed, and how many reminded.
struct QueueReminders {
    policy: Arc<crate::retention::policy::Policy>,
    link_expires: DateTime<Utc>,
    domain: String,
}

impl Unit for QueueReminders {
    type Output = (usize, usize);

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), DbErr> {
        let policy = &*self.policy;
        let claimed = records::claim_reminders(txn, policy, now, REMINDER_BATCH).await?;
        let facts: HashMap<_, _> = records::facts_of(txn, &claimed)
            .await?
            .into_iter()
            .collect();
        let mut queued = 0;
        for application in &claimed {
            let Some(facts) = facts.get(&application.id) else {
                continue;
            };
            let id = application.id;
            let retention = policy.retention(facts, now);
            if retention.wants_reminder(policy, now, application.reminded_for)
                && let Some(to) = store::applications::addressee(txn, id).await?
            {
                let dates = ReminderDates {
                    purge_after: retention.purge_after,
                    extended_until: policy.extended_at(facts, now),
                    link_expires: self.link_expires,
                };
                let mail = reminder(&dates, &to);
                let message = NewMessage {
                    application_id: id,
                    origin: mail::RETENTION_REMINDER.name.into(),
                    subject: mail.subject,
                    body: mail.body,
                    domain: self.domain.clone(),
                };
                store::messages::queue(txn, message, &Actor::default(), now).await?;
                queued += 1;
            }
            // Reminded, or not to be: either way not asked again for this date.
            records::mark_reminded(txn, id, retention.purge_after).await?;
        }
        Ok((claimed.len(), queued))
    }
}

struct ReminderDates {
    purge_after: DateTime<Utc>,
    extended_until: DateTime<Utc>,
    link_expires: DateTime<Utc>,
}

fn reminder(dates: &ReminderDates, to: &store::applications::Addressee) -> mail::Rendered {
    let date = |at: DateTime<Utc>| to.lang.date(at);
    mail::RETENTION_REMINDER.of(to.lang).render(&[
        ("full_name", &to.full_name),
        ("job_title", &to.job_title),
        ("purge_date", &date(dates.purge_after)),
        ("extended_until", &date(dates.extended_until)),
        (
            "link_expires",
            &date(dates.link_expires.min(dates.purge_after)),
        ),
    ])
}
