//! The services core: what the HTTP layer, the CLI and the background worker
//! share. HTTP-only state (rate limits, the outbound HTTP client, who a
//! client is) sits on top of it in `app::AppState`.

use std::sync::Arc;

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::{
    blobs::Blobs,
    clock::Clock,
    config::Settings,
    domain::keys::HashKey,
    retention::policy::Policy,
    store::{
        secrets::{self, EnsureKey},
        writer::Writer,
    },
};

/// Cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// For reads; on SQLite, a pool whose connections read beside the writer.
    pub db: DatabaseConnection,
    /// The one way to write (see `store::writer`).
    pub writer: Writer,
    pub blobs: Blobs,
    pub settings: Arc<Settings>,
    /// The retention policy, checked when the settings were loaded.
    pub policy: Arc<Policy>,
    /// Every "now" of the service (see `crate::clock`).
    pub clock: Clock,
    /// Wakes the mail deliverer when a mail is queued.
    pub mail_queued: Arc<tokio::sync::Notify>,
    /// Keys the hashes of intake keys, request fingerprints and tombstones.
    pub intake_hash: HashKey,
}

impl Services {
    /// Connects to the database (migrating it) and the object store.
    pub async fn connect(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let writer = settings.database.connect_writer(clock.clone()).await?;
        let db = settings.database.connect_reader().await?;
        let blobs = settings.storage.build()?;
        let intake_hash = writer
            .run(EnsureKey {
                name: secrets::INTAKE,
            })
            .await
            .context("reading the service's keys")?;
        let policy = settings
            .policy()
            .expect("settings are validated when they are loaded");
        Ok(Self {
            db,
            writer,
            blobs,
            policy: Arc::new(policy),
            settings: Arc::new(settings),
            clock,
            mail_queued: Arc::new(tokio::sync::Notify::new()),
            intake_hash,
        })
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
