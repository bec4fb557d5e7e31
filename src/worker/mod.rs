//! Background work that runs inside `serve` on intervals and once from the CLI.

pub mod officer;
pub mod outbox;
pub mod sweep;

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinHandle};

use crate::{retention::service, services::Services, store::imports::DeleteExpired};

/// The running background tasks.
pub struct Background {
    stop: watch::Sender<bool>,
    sweep: JoinHandle<()>,
    purge: JoinHandle<()>,
    imports: JoinHandle<()>,
    deliverer: JoinHandle<()>,
}

/// Starts the periodic jobs.
pub fn spawn_background(state: Services) -> anyhow::Result<Background> {
    let (stop, stopped) = watch::channel(false);
    let deliverer = outbox::Deliverer::new(&state.settings.mail)?;
    Ok(Background {
        stop,
        sweep: tokio::spawn(sweep_periodically(state.clone())),
        purge: tokio::spawn(purge_periodically(state.clone())),
        imports: tokio::spawn(expire_imports_periodically(state.clone())),
        deliverer: tokio::spawn(deliver_mail(state, deliverer, stopped)),
    })
}

impl Background {
    /// Stops the jobs: the sweeps and the purge at once (a purge cut short
    /// leaves nothing half done: see `retention::deletion`), the deliverer after the
    /// mail in hand (within the transport's timeout), so no mail is cut off
    /// mid-send.
    pub async fn stop(self, within: Duration) {
        self.sweep.abort();
        self.purge.abort();
        self.imports.abort();
        let _ = self.stop.send(true);
        let abort = self.deliverer.abort_handle();
        if tokio::time::timeout(within, self.deliverer).await.is_err() {
            abort.abort();
        }
    }
}

async fn sweep_periodically(state: Services) {
    let every = state.settings.storage.sweep_interval.to_std();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let grace = state.settings.storage.orphan_grace.to_std();
        match sweep::sweep_orphans(&state.db, &state.blobs, grace).await {
            Ok(removed) => tracing::info!(removed, "orphan sweep finished"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "orphan sweep failed"),
        }
        match sweep::sweep_mail_files(&state.db, &state.settings.mail.dir, grace).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "orphan mail files removed"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "mail file sweep failed"),
        }
    }
}

/// Reminds and purges every `retention.purge_interval`, from start-up on,
/// and reminds the privacy officer of subject requests falling due.
async fn purge_periodically(state: Services) {
    let mut ticker = tokio::time::interval(state.settings.retention.purge_interval.to_std());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let ran = service::run(&state, &|_| {}).await;
        match &ran {
            Ok(done) if *done != service::Purged::default() => tracing::info!(
                purged = done.applications,
                objects = done.objects,
                reminded = done.reminded,
                "retention run finished"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = format!("{err:#}"), "retention run failed"),
        }
        if let Err(err) = officer::remind_officer(&state, state.now()).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "reminding the privacy officer failed"
            );
        }
        // Counted once the officer is reminded too: the whole round is done.
        if let Ok(done) = ran {
            state
                .metrics
                .retention_run(done.applications, done.reminded);
        }
    }
}

/// Deletes sign-ins and imports past their time, so that nothing stays about
/// a candidate who signed in but did not apply; and idempotency keys and
/// tombstones past theirs.
async fn expire_imports_periodically(state: Services) {
    let every = state.settings.oauth.sweep_interval.to_std();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match state.writer.run(DeleteExpired).await {
            Ok((0, 0, 0)) => {}
            Ok((states, imports, intake_keys)) => {
                tracing::info!(
                    states,
                    imports,
                    intake_keys,
                    "expired sign-ins, imports and intake keys deleted"
                )
            }
            Err(err) => tracing::warn!(error = %err, "deleting expired imports failed"),
        }
    }
}

/// How long the deliverer waits for more mail once some is queued.
const GATHER: Duration = Duration::from_millis(200);

/// Delivers mail when some is queued (woken by `Services::mail_queued`) and
/// every `mail.poll_interval` for retries that came due.
async fn deliver_mail(
    state: Services,
    deliverer: outbox::Deliverer,
    mut stopped: watch::Receiver<bool>,
) {
    let poll = state.settings.mail.poll_interval.to_std();
    let wakeup = Arc::clone(&state.mail_queued);
    loop {
        let stopping = stopped.clone();
        let stop = move || *stopping.borrow();
        let delivered = deliverer.deliver_due(&state, &stop).await;
        if let Ok(done) = &delivered {
            state.metrics.mail(done.sent, done.retried + done.failed);
        }
        match delivered {
            Ok(done) if done != outbox::Delivered::default() => {
                tracing::info!(
                    sent = done.sent,
                    retried = done.retried,
                    failed = done.failed,
                    "mail delivered"
                )
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = format!("{err:#}"), "mail delivery failed"),
        }
        tokio::select! {
            // A moment's gathering after the first mail, so that a burst of
            // mail (a busy intake) is delivered in a few batches, with one
            // folder sync and one commit each, instead of one by one.
            _ = wakeup.notified() => tokio::time::sleep(GATHER).await,
            _ = tokio::time::sleep(poll) => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
    }
}
