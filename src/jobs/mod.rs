//! Background work that runs inside `serve` on intervals and once from the CLI.

pub mod sweep;

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::app::AppState;

/// Starts the periodic jobs; abort the handle to stop them.
pub fn spawn_background(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.settings.storage.sweep_interval_secs.max(1));
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let grace = Duration::from_secs(state.settings.storage.orphan_grace_secs);
            match sweep::sweep_orphans(&state.db, &state.blobs, grace).await {
                Ok(removed) => tracing::info!(removed, "orphan sweep finished"),
                Err(err) => tracing::warn!(error = format!("{err:#}"), "orphan sweep failed"),
            }
        }
    })
}
