//! Database access: the connection, migrations, entities and small named
//! query functions over `&impl ConnectionTrait`. Callers own transactions.

pub mod api_keys;
pub mod applications;
pub mod audit;
pub mod entity;
pub mod imports;
pub mod interviews;
pub mod jobs;
pub mod messages;
pub mod notes;
pub mod pipeline;
pub mod purge;
pub mod retention;
pub mod writer;

use std::{path::Path, time::Duration};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::DatabaseSettings;

impl DatabaseSettings {
    /// The pool for writes: on SQLite a single connection (SQLite has one
    /// writer at a time; queueing for it here is fair and fast), elsewhere the
    /// whole pool.
    pub async fn connect_writer(&self) -> anyhow::Result<DatabaseConnection> {
        let size = if self.is_sqlite() {
            1
        } else {
            self.max_connections
        };
        self.connect_with(size).await
    }

    /// The pool for reads: on SQLite its own connections, which read beside
    /// the writer in WAL mode; elsewhere the writer's pool.
    pub async fn connect_reader(
        &self,
        writer: &DatabaseConnection,
    ) -> anyhow::Result<DatabaseConnection> {
        if self.is_sqlite() {
            self.connect_with(self.max_connections).await
        } else {
            Ok(writer.clone())
        }
    }

    /// One pool for everything, for CLI commands.
    pub async fn connect(&self) -> anyhow::Result<DatabaseConnection> {
        self.connect_with(self.max_connections).await
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }

    /// Opens a pool. SQLite runs in WAL mode with full sync, so readers run
    /// beside the one writer and a committed row survives a power cut, and
    /// with secure delete, so what a purge deletes is overwritten in the file,
    /// not left in free pages.
    async fn connect_with(&self, size: u32) -> anyhow::Result<DatabaseConnection> {
        let mut options = ConnectOptions::new(self.url.clone());
        options
            .max_connections(size)
            .acquire_timeout(self.acquire_timeout())
            .connect_timeout(self.acquire_timeout())
            // A ping before every checkout is a round trip on the hot path;
            // a broken connection still surfaces as an error on first use.
            .test_before_acquire(false)
            .sqlx_logging(false);
        if self.is_sqlite() {
            create_sqlite_folder(&self.url)?;
            options.map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .pragma("secure_delete", "ON")
            });
        }
        Database::connect(options)
            .await
            .context("connecting to the database")
    }
}

fn create_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the database folder {}", parent.display()))?;
    }
    Ok(())
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("running database migrations")
}

/// Readiness: the database answers a trivial query.
pub async fn ping(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Whether an error is a unique-constraint violation (a lost race, a duplicate).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
