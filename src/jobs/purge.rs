//! The periodic retention run, inside `serve` every `retention.purge_interval`
//! and once from `applicant-vault purge`: finish object deletions a crash
//! left, bring purge dates up to the current policy, remind candidates whose
//! purge date nears, and purge what is due.

use chrono::{DateTime, Utc};

use crate::{
    app::AppState,
    mail,
    store::{self, messages::NewMessage, purge::Reason},
};

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub applications: usize,
    pub objects: usize,
    pub reminded: usize,
}

/// Objects deleted per request to the store.
const OBJECT_BATCH: u64 = 1000;

/// Reminders written per transaction.
const REMINDER_BATCH: u64 = 100;

/// One full run. `progress` hears the number of applications purged so far.
pub async fn run(state: &AppState, progress: &(dyn Fn(usize) + Sync)) -> anyhow::Result<Purged> {
    let mut done = Purged {
        objects: finish_object_deletions(state).await?,
        ..Purged::default()
    };
    refresh_stale(state).await?;
    done.reminded = send_reminders(state).await?;
    // One batch's objects are deleted while the next batch's rows are.
    let mut deleting: Option<tokio::task::JoinHandle<anyhow::Result<usize>>> = None;
    loop {
        let now = Utc::now();
        let batch = state.settings.retention.purge_batch;
        let policy = std::sync::Arc::clone(&state.policy);
        let erased = state
            .writer
            .write(move |txn| {
                let policy = std::sync::Arc::clone(&policy);
                Box::pin(async move {
                    let claimed = store::purge::claim_due(txn, now, batch).await?;
                    store::purge::erase(txn, &policy, claimed, Reason::Scheduled, now).await
                })
            })
            .await?;
        if let Some(previous) = deleting.take() {
            done.objects += previous.await??;
        }
        if erased.receipts.is_empty() && erased.skipped == 0 {
            break;
        }
        let (state, keys) = (state.clone(), erased.object_keys);
        deleting = Some(tokio::spawn(
            async move { delete_objects(&state, keys).await },
        ));
        done.applications += erased.receipts.len();
        for receipt in &erased.receipts {
            tracing::info!(application_id = %receipt.application_id, rule = %receipt.rule, "application purged");
        }
        progress(done.applications);
    }
    if done.applications > 0 {
        store::purge::compact(&state.db).await?;
    }
    Ok(done)
}

/// Erases one application at once, holds aside (an admin's decision); the
/// receipt, or none when it does not exist (or a purge took it first).
pub async fn erase_now(
    state: &AppState,
    id: uuid::Uuid,
    actor: store::audit::Actor,
) -> Result<Option<store::entity::purge_receipt::Model>, sea_orm::DbErr> {
    let now = Utc::now();
    let policy = std::sync::Arc::clone(&state.policy);
    let erased = state
        .writer
        .write(move |txn| {
            let (policy, actor) = (std::sync::Arc::clone(&policy), actor.clone());
            Box::pin(async move {
                let claimed = store::purge::claim_one(txn, id).await?;
                let erased = store::purge::erase(
                    txn,
                    &policy,
                    claimed.into_iter().collect(),
                    Reason::Erased,
                    now,
                )
                .await?;
                if !erased.receipts.is_empty() {
                    store::audit::record(txn, &actor, "application.erased", Some(id), None).await?;
                }
                Ok(erased)
            })
        })
        .await?;
    // The rows are gone and the objects queued: a store that is down now
    // only delays their deletion to the next run.
    if let Err(err) = delete_objects(state, erased.object_keys).await {
        tracing::warn!(application_id = %id, error = format!("{err:#}"), "objects of an erased application left for the next purge run");
    }
    Ok(erased.receipts.into_iter().next())
}

/// Deletes objects from the store, then from the queue.
async fn delete_objects(state: &AppState, keys: Vec<String>) -> anyhow::Result<usize> {
    if keys.is_empty() {
        return Ok(0);
    }
    state.blobs.delete_all(&keys).await?;
    let count = keys.len();
    state
        .writer
        .write(move |txn| {
            let keys = keys.clone();
            Box::pin(async move { store::purge::objects_deleted(txn, &keys).await })
        })
        .await?;
    Ok(count)
}

/// Deletes the objects earlier runs queued but did not get to delete.
async fn finish_object_deletions(state: &AppState) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        let keys = store::purge::queued_objects(&state.db, OBJECT_BATCH).await?;
        if keys.is_empty() {
            return Ok(deleted);
        }
        deleted += delete_objects(state, keys).await?;
    }
}

/// Computes purge dates missing or made under another policy.
async fn refresh_stale(state: &AppState) -> anyhow::Result<()> {
    const BATCH: u64 = 500;
    loop {
        let policy = std::sync::Arc::clone(&state.policy);
        let refreshed = state
            .writer
            .write(move |txn| {
                let policy = std::sync::Arc::clone(&policy);
                Box::pin(async move { store::retention::refresh_stale(txn, &policy, BATCH).await })
            })
            .await?;
        if refreshed < BATCH as usize {
            return Ok(());
        }
    }
}

/// Queues one reminder per application and purge date; the link in it is
/// made when the mail is sent.
async fn send_reminders(state: &AppState) -> anyhow::Result<usize> {
    let mut reminded = 0;
    loop {
        let now = Utc::now();
        let policy = std::sync::Arc::clone(&state.policy);
        let link_expires = now + state.settings.link_ttl();
        let domain = crate::api::messages::message_domain(state);
        let queued = state
            .writer
            .write(move |txn| {
                let (policy, domain) = (std::sync::Arc::clone(&policy), domain.clone());
                Box::pin(async move {
                    let claimed =
                        store::retention::claim_reminders(txn, &policy, now, REMINDER_BATCH)
                            .await?;
                    let count = claimed.len();
                    let facts: std::collections::HashMap<_, _> =
                        store::retention::facts_of(txn, &claimed)
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
                        if retention.wants_reminder(&policy, now, application.reminded_for)
                            && let Some(to) = store::applications::addressee(txn, id).await?
                        {
                            let dates = ReminderDates {
                                purge_after: retention.purge_after,
                                extended_until: policy.extended_at(facts, now),
                                link_expires,
                            };
                            let mail = reminder(&dates, &to);
                            let message = NewMessage {
                                application_id: id,
                                origin: mail::RETENTION_REMINDER.name.into(),
                                subject: mail.subject,
                                body: mail.body,
                                domain: domain.clone(),
                            };
                            store::messages::queue(txn, message, &Default::default()).await?;
                            queued += 1;
                        }
                        // Reminded, or not to be: either way not asked again for this date.
                        store::retention::mark_reminded(txn, id, retention.purge_after).await?;
                    }
                    Ok((count, queued))
                })
            })
            .await?;
        reminded += queued.1;
        if queued.1 > 0 {
            state.mail_queued.notify_one();
        }
        if queued.0 < REMINDER_BATCH as usize {
            return Ok(reminded);
        }
    }
}

struct ReminderDates {
    purge_after: DateTime<Utc>,
    extended_until: DateTime<Utc>,
    link_expires: DateTime<Utc>,
}

fn reminder(dates: &ReminderDates, to: &store::applications::Addressee) -> mail::Rendered {
    let date = |at: DateTime<Utc>| at.format("%-d %B %Y").to_string();
    mail::RETENTION_REMINDER.render(&[
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
