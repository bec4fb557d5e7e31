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
    metrics::Metrics,
    retention::policy::Policy,
    store::{
        audit::AccessLog,
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
    /// What the admin listener's `/metrics` shows.
    pub metrics: Arc<Metrics>,
    /// The API keys requests were checked against (see `store::key_cache`).
    pub keys: Arc<crate::store::key_cache::KeyCache>,
    /// Where reads of personal data are recorded (see `store::audit`).
    pub audit: AccessLog,
}

/// Whether each dependency is ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// The database answers reads and its last write (or probe) reached the disk.
    pub database: bool,
    /// The object store answers and takes a write.
    pub object_store: bool,
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
            audit: AccessLog::new(writer.clone()),
            writer,
            blobs,
            policy: Arc::new(policy),
            settings: Arc::new(settings),
            clock,
            mail_queued: Arc::new(tokio::sync::Notify::new()),
            intake_hash,
            metrics: Arc::new(Metrics::new()),
            keys: Arc::default(),
        })
    }

    /// The database reads and its writes reach the disk; the object store
    /// answers and takes a write. Each within five seconds.
    pub async fn readiness(&self) -> Readiness {
        let timeout = std::time::Duration::from_secs(5);
        let (database, object_store) = tokio::join!(
            tokio::time::timeout(timeout, crate::store::ping(&self.db)),
            self.blobs.check()
        );
        Readiness {
            database: matches!(database, Ok(Ok(()))) && self.writer.healthy(),
            object_store: object_store.is_ok(),
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
