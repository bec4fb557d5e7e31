//! Database access: the connections, migrations, entities, small named
//! query functions over `&impl ConnectionTrait`, and the units of work that
//! the [`writer::Writer`] runs, each in one transaction.

pub mod api_keys;
pub mod applications;
pub mod audit;
pub mod entity;
pub mod imports;
pub mod intake;
pub mod interviews;
pub mod jobs;
pub mod key_cache;
pub mod messages;
pub mod nodelay;
pub mod notes;
pub mod pipeline;
pub mod secrets;
pub mod sqlite_plans;
pub mod stats;
pub mod subject_requests;
pub mod writer;

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr, SqlErr,
    sqlx::{
        self,
        sqlite::{SqliteJournalMode, SqliteSynchronous},
    },
};

use crate::{clock::Clock, config::DatabaseSettings};

impl DatabaseSettings {
    /// The writer, migrated: on SQLite over a single connection (SQLite has
    /// one writer at a time; queueing for it here is fair and fast) with
    /// group commits, on PostgreSQL over a pool of its own. Either is
    /// reopened by the writer after a failure. Units hear the time from `clock`.
    pub async fn connect_writer(&self, clock: Clock) -> anyhow::Result<writer::Writer> {
        let settings = self.clone();
        let size = self.writer_pool_size();
        let first = self.connect_with(size).await?;
        let connect: writer::Connect = Arc::new(move || {
            let settings = settings.clone();
            Box::pin(async move {
                settings
                    .connect_with(size)
                    .await
                    .map_err(|err| DbErr::Conn(RuntimeErr::Internal(format!("{err:#}"))))
            })
        });
        let writer = writer::Writer::new(first, connect, self.is_sqlite(), clock);
        writer.migrate().await?;
        Ok(writer)
    }

    fn writer_pool_size(&self) -> u32 {
        if self.is_sqlite() {
            1
        } else {
            self.max_connections
        }
    }

    /// The pool for reads; on SQLite its connections read beside the
    /// writer in WAL mode.
    pub async fn connect_reader(&self) -> anyhow::Result<DatabaseConnection> {
        self.connect_with(self.max_connections).await
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.expose().starts_with("sqlite:")
    }

    /// Opens a pool. SQLite runs in WAL mode with full sync, so readers run
    /// beside the one writer and a committed row survives a power cut, and
    /// with secure delete, so what a purge deletes is overwritten in the file,
    /// not left in free pages.
    async fn connect_with(&self, size: u32) -> anyhow::Result<DatabaseConnection> {
        let mut options = ConnectOptions::new(self.url.expose().to_owned());
        options
            .max_connections(size)
            .acquire_timeout(self.acquire_timeout.to_std())
            .connect_timeout(self.acquire_timeout.to_std())
            // A ping before every checkout is a round trip on the hot path;
            // a broken connection still surfaces as an error on first use.
            .test_before_acquire(false)
            .sqlx_logging(false);
        if !self.is_sqlite() {
            options.map_sqlx_postgres_pool_opts(|pool| {
                pool.after_connect(|conn, _| Box::pin(nodelay::on_connect(conn)))
            });
        }
        if self.is_sqlite() {
            create_sqlite_folder(self.url.expose())?;
            options.map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_connect(|conn, _| Box::pin(sqlite_plans::on_connect(conn)))
            });
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

/// Applies the migrations (through [`writer::Writer::migrate`]).
async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
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

/// Whether an error says the database cannot serve now (no connection, a
/// lost one, a full disk, a read-only file, an I/O error), rather than that
/// this statement was wrong: worth a 503 and a retry, and a reason to throw
/// the connection away.
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err)) => {
            sqlx_unavailable(err)
        }
        _ => false,
    }
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // The primary result code: BUSY, LOCKED, NOMEM, READONLY,
                // IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
                code.parse::<i32>()
                    .is_ok_and(|code| matches!(code & 0xff, 5..=8 | 10 | 11 | 13..=15 | 26))
            } else {
                // PostgreSQL: connection exceptions, insufficient resources
                // (a full disk), operator intervention (shutdown,
                // termination), system errors, a read-only transaction.
                ["08", "53", "57", "58"]
                    .iter()
                    .any(|class| code.starts_with(class))
                    || code == "25006"
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{FromQueryResult, JsonValue, Statement};

    use super::*;
    use crate::config::{HumanDuration, SecretText};

    /// On PostgreSQL (`TEST_DATABASE_URL`), every connection of a pool has
    /// Nagle's algorithm off.
    #[tokio::test]
    async fn postgres_connections_do_not_wait_for_acknowledgements() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        let settings = DatabaseSettings {
            url: SecretText::from(url.as_str()),
            max_connections: 3,
            acquire_timeout: HumanDuration(chrono::TimeDelta::seconds(5)),
        };
        let db = settings.connect_reader().await.unwrap();
        // Three at once, so that each runs on its own connection.
        let ports = futures_util::future::join_all((0..3).map(|_| {
            JsonValue::find_by_statement(Statement::from_string(
                db.get_database_backend(),
                "SELECT inet_client_port() AS port, pg_sleep(0.2)::text AS slept",
            ))
            .one(&db)
        }))
        .await;
        for row in ports {
            let port = row.unwrap().unwrap()["port"].as_u64().unwrap();
            let port = u16::try_from(port).unwrap();
            assert_eq!(
                nodelay::is_set_on_local_port(port),
                Some(true),
                "port {port}"
            );
        }
    }
}
