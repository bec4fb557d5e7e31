//! The one way to write: a [`Unit`] of work runs in one transaction through
//! the [`Writer`], and its answer comes back only once the transaction is
//! committed to disk.
//!
//! SQLite has one writer at a time and every commit waits for a disk sync,
//! so on SQLite the units of concurrent requests are queued to one task that
//! commits them in groups: one transaction, one sync, for all that waited. A
//! group whose units fail is rolled back and each unit retried alone, so one
//! bad unit never takes others down with it. On PostgreSQL each unit is its
//! own transaction on the writer's pool.
//!
//! A connection whose transaction machinery failed (a begin, commit or
//! rollback that errs, a lost connection, a full disk, an I/O error) is never
//! used again: its pool is closed and a new one opened for the next unit.
//! Otherwise a connection left inside a transaction would turn later
//! "commits" into savepoints that never reach the disk. Until a write
//! succeeds again the writer reports itself unhealthy, and probes by itself
//! once a second.

use std::{
    any::Any,
    future::Future,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    RuntimeErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{entity::writer_probe, is_unavailable};
use crate::clock::Clock;

/// A unit of work: everything one request or job writes, audit event
/// included, in one transaction. It may run more than once (after a group
/// rolled back), so it only reads and writes the database.
pub trait Unit: Send + Sync + 'static {
    type Output: Send + 'static;

    /// `now` is the writer's clock at the start of this attempt.
    fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Self::Output, DbErr>> + Send;
}

/// The most units one group commit takes.
const MAX_GROUP: usize = 64;
/// How often an unhealthy writer tries a probe write.
const PROBE_EVERY: Duration = Duration::from_secs(1);

type Outcome = Result<Box<dyn Any + Send>, DbErr>;
type Work = Arc<dyn Fn(&DatabaseTransaction) -> BoxFuture<'_, Outcome> + Send + Sync>;
/// Opens a fresh pool for writes.
pub type Connect =
    Arc<dyn Fn() -> BoxFuture<'static, Result<DatabaseConnection, DbErr>> + Send + Sync>;

struct Job {
    work: Work,
    done: oneshot::Sender<Outcome>,
}

#[derive(Clone)]
pub struct Writer {
    inner: Arc<Inner>,
}

/// What every handle shares. The group committer and the probe hold it
/// weakly, so both end once the last handle is gone.
struct Inner {
    connect: Connect,
    clock: Clock,
    /// The pool in use, with its generation; none after a failure, until the
    /// next unit opens a new one.
    pool: Mutex<Option<(u64, DatabaseConnection)>>,
    generation: AtomicU64,
    healthy: AtomicBool,
    probing: AtomicBool,
    /// SQLite: the group committer's queue.
    queue: Option<mpsc::Sender<Job>>,
}

/// What a failed unit did to its connection.
enum Failure {
    /// The unit's own error (a constraint, a missing row): the connection is fine.
    Unit(DbErr),
    /// The connection can no longer be trusted.
    Connection(DbErr),
}

impl Failure {
    fn of_unit(err: DbErr) -> Self {
        if is_unavailable(&err) {
            Self::Connection(err)
        } else {
            Self::Unit(err)
        }
    }
}

impl Writer {
    /// A writer over pools that `connect` opens, starting with `first`;
    /// group commits when `group_commits` (SQLite).
    pub fn new(
        first: DatabaseConnection,
        connect: Connect,
        group_commits: bool,
        clock: Clock,
    ) -> Self {
        let (queue, receiver) = if group_commits {
            let (sender, receiver) = mpsc::channel(1024);
            (Some(sender), Some(receiver))
        } else {
            (None, None)
        };
        let inner = Arc::new(Inner {
            connect,
            clock,
            pool: Mutex::new(Some((0, first))),
            generation: AtomicU64::new(0),
            healthy: AtomicBool::new(true),
            probing: AtomicBool::new(false),
            queue,
        });
        if let Some(receiver) = receiver {
            tokio::spawn(run_groups(Arc::downgrade(&inner), receiver));
        }
        Self { inner }
    }

    /// Whether the last write (or probe) reached the disk.
    pub fn healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Acquire)
    }

    /// Runs `unit` in a transaction and returns its result once committed.
    pub async fn run<U: Unit>(&self, unit: U) -> Result<U::Output, DbErr> {
        let unit = Arc::new(unit);
        let clock = self.inner.clock.clone();
        let work: Work = Arc::new(move |txn| {
            let unit = Arc::clone(&unit);
            let now = clock.now();
            Box::pin(async move {
                unit.run(txn, now)
                    .await
                    .map(|v| Box::new(v) as Box<dyn Any + Send>)
            })
        });
        let value = match &self.inner.queue {
            None => self.inner.commit_one(&work).await?,
            Some(queue) => {
                let (done, outcome) = oneshot::channel();
                queue
                    .send(Job { work, done })
                    .await
                    .map_err(|_| stopped())?;
                outcome.await.map_err(|_| stopped())??
            }
        };
        Ok(*value
            .downcast::<U::Output>()
            .expect("the writer returns what the unit made"))
    }

    /// Whether this writer commits units in groups (SQLite) rather than each
    /// in its own transaction (PostgreSQL).
    pub fn groups(&self) -> bool {
        self.inner.queue.is_some()
    }

    /// The writer's clock now.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// One statement on its own, outside any transaction: PostgreSQL commits
    /// it as it ends, in one round trip where a unit takes three (begin,
    /// statement, commit), and answers only once it is committed. A failure
    /// that says the connection is in trouble is handled as a failed commit.
    /// Not for a writer that [`groups`](Self::groups): it would write beside
    /// the group committer.
    pub async fn execute_alone(&self, statement: Statement) -> Result<(), DbErr> {
        debug_assert!(!self.groups());
        let (generation, db) = self.inner.pool().await?;
        match db.execute_raw(statement).await {
            Ok(_) => {
                self.inner.set_healthy();
                Ok(())
            }
            Err(err) => match Failure::of_unit(err) {
                Failure::Connection(err) => {
                    self.inner.discard(generation, &err).await;
                    Err(err)
                }
                Failure::Unit(err) => Err(err),
            },
        }
    }

    /// Runs schema migrations on the writer's connection.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let (_, db) = self.inner.pool().await?;
        super::migrate(&db).await
    }
}

impl Inner {
    /// The pool in use, opening one if the last was thrown away.
    async fn pool(&self) -> Result<(u64, DatabaseConnection), DbErr> {
        let mut slot = self.pool.lock().await;
        if let Some((generation, db)) = &*slot {
            return Ok((*generation, db.clone()));
        }
        let db = (self.connect)().await.map_err(|err| {
            tracing::warn!(error = %err, "reopening the database for writes failed");
            DbErr::Conn(RuntimeErr::Internal(
                "the database cannot be opened for writes".into(),
            ))
        })?;
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        *slot = Some((generation, db.clone()));
        tracing::info!(generation, "database reopened for writes");
        Ok((generation, db))
    }

    /// Throws away the pool of `generation` (if still in use) after a failure.
    async fn discard(self: &Arc<Self>, generation: u64, err: &DbErr) {
        self.set_unhealthy();
        let mut slot = self.pool.lock().await;
        if slot.as_ref().is_some_and(|(g, _)| *g == generation) {
            tracing::error!(error = %err, generation, "write failed; the database connection is thrown away");
            if let Some((_, db)) = slot.take() {
                // Waits for connections still out (the failed one comes back
                // as its transaction is dropped), then closes them all.
                tokio::spawn(async move {
                    let _ = db.close().await;
                });
            }
        }
    }

    fn set_unhealthy(self: &Arc<Self>) {
        self.healthy.store(false, Ordering::Release);
        if !self.probing.swap(true, Ordering::AcqRel) {
            tokio::spawn(probe_until_healthy(Arc::downgrade(self)));
        }
    }

    fn set_healthy(&self) {
        if !self.healthy.swap(true, Ordering::AcqRel) {
            tracing::info!("database writes work again");
        }
    }

    /// One unit in its own transaction.
    async fn commit_one(self: &Arc<Self>, work: &Work) -> Outcome {
        let (generation, db) = self.pool().await?;
        match transaction(&db, |txn| work(txn)).await {
            Ok(value) => {
                self.set_healthy();
                Ok(value)
            }
            Err(Failure::Unit(err)) => Err(err),
            Err(Failure::Connection(err)) => {
                self.discard(generation, &err).await;
                Err(err)
            }
        }
    }
}

fn stopped() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(
        "the database writer has stopped".into(),
    ))
}

/// Begins, runs `body`, commits; any failure of the transaction itself, or a
/// unit error that says the connection is in trouble, is a connection failure.
async fn transaction<T>(
    db: &DatabaseConnection,
    body: impl for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, Result<T, DbErr>>,
) -> Result<T, Failure> {
    let txn = begin(db).await.map_err(Failure::Connection)?;
    match body(&txn).await {
        Ok(value) => {
            txn.commit().await.map_err(Failure::Connection)?;
            Ok(value)
        }
        Err(err) => {
            let failure = Failure::of_unit(err);
            if let Err(rollback) = txn.rollback().await {
                return Err(Failure::Connection(match failure {
                    Failure::Connection(err) => err,
                    Failure::Unit(_) => rollback,
                }));
            }
            Err(failure)
        }
    }
}

/// Begins a write transaction. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting out the busy timeout for another process's
/// writer; a deferred transaction that read first could not wait, and would
/// fail with "database is locked" when it came to write.
async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

async fn run_groups(writer: Weak<Inner>, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.recv().await {
        let Some(writer) = writer.upgrade() else {
            return;
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (generation, db) = match writer.pool().await {
            Ok(pool) => pool,
            Err(err) => {
                writer.set_unhealthy();
                for job in group {
                    let _ = job.done.send(Err(err.clone()));
                }
                continue;
            }
        };
        let works: Vec<Work> = group.iter().map(|job| Arc::clone(&job.work)).collect();
        let committed = transaction(&db, |txn| {
            Box::pin(async move {
                let mut values = Vec::with_capacity(works.len());
                for work in &works {
                    values.push(work(txn).await?);
                }
                Ok(values)
            })
        })
        .await;
        match committed {
            Ok(values) => {
                writer.set_healthy();
                for (job, value) in group.into_iter().zip(values) {
                    let _ = job.done.send(Ok(value));
                }
            }
            Err(Failure::Connection(err)) => {
                // Nothing of the group reached the disk; each unit hears so.
                writer.discard(generation, &err).await;
                for job in group {
                    let _ = job.done.send(Err(err.clone()));
                }
            }
            Err(Failure::Unit(_)) => {
                // Retry alone, so each unit gets its own answer.
                for job in group {
                    let outcome = writer.commit_one(&job.work).await;
                    let _ = job.done.send(outcome);
                }
            }
        }
    }
}

/// A write that needs new room in the database: a row of a few pages,
/// deleted again in the same transaction.
struct Probe;

impl Unit for Probe {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, _now: DateTime<Utc>) -> Result<(), DbErr> {
        let id = uuid::Uuid::new_v4();
        writer_probe::Entity::insert(writer_probe::ActiveModel {
            id: Set(id),
            filler: Set("x".repeat(16 * 1024)),
        })
        .exec_without_returning(txn)
        .await?;
        writer_probe::Entity::delete_by_id(id).exec(txn).await?;
        Ok(())
    }
}

/// Probes once a second until a write succeeds (a real one or the probe),
/// or the writer is gone.
async fn probe_until_healthy(inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let writer = Writer { inner };
        if writer.healthy() || writer.run(Probe).await.is_ok() {
            writer.inner.probing.store(false, Ordering::Release);
            // A failure between the last check and the flag's reset started no probe.
            if !writer.healthy() {
                writer.inner.set_unhealthy();
            }
            return;
        }
    }
}

/// Runs one statement as a unit (tests and one-off maintenance); how many
/// rows it changed.
pub struct Execute(pub sea_orm::Statement);

impl Unit for Execute {
    type Output = u64;

    async fn run(&self, txn: &DatabaseTransaction, _now: DateTime<Utc>) -> Result<u64, DbErr> {
        txn.execute_raw(self.0.clone())
            .await
            .map(|done| done.rows_affected())
    }
}

/// A writer over a SQLite file of its own, and a pool that reads it beside
/// the writer, as the service reads (tests); the folder holds the file.
#[cfg(test)]
pub(crate) async fn sqlite_for_tests(
    group_commits: bool,
) -> (Writer, DatabaseConnection, tempfile::TempDir) {
    use sea_orm::Database;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
    let reader = Database::connect(&url).await.unwrap();
    let first = Database::connect(&url).await.unwrap();
    let connect: Connect = Arc::new(move || {
        let url = url.clone();
        Box::pin(async move { Database::connect(&url).await })
    });
    let writer = Writer::new(first, connect, group_commits, Clock::system());
    (writer, reader, dir)
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use super::*;

    struct Insert(&'static str);

    impl Unit for Insert {
        type Output = &'static str;

        async fn run(
            &self,
            txn: &DatabaseTransaction,
            _now: DateTime<Utc>,
        ) -> Result<&'static str, DbErr> {
            txn.execute_unprepared(&format!("INSERT INTO names (name) VALUES ('{}')", self.0))
                .await?;
            Ok(self.0)
        }
    }

    async fn sqlite_writer(group_commits: bool) -> (Writer, DatabaseConnection, tempfile::TempDir) {
        let (writer, db, dir) = sqlite_for_tests(group_commits).await;
        db.execute_unprepared("CREATE TABLE names (name TEXT PRIMARY KEY)")
            .await
            .unwrap();
        (writer, db, dir)
    }

    async fn count(db: &DatabaseConnection) -> i64 {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM names",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    #[tokio::test]
    async fn concurrent_writes_all_commit_but_a_failing_one_which_fails_alone() {
        let (writer, db, _dir) = sqlite_writer(true).await;
        let names = ["a", "b", "c", "a", "d", "e", "f", "g"];
        let results =
            futures_util::future::join_all(names.iter().map(|name| writer.run(Insert(name)))).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        assert_eq!(failed, 1, "only the duplicate fails: {results:?}");
        assert_eq!(count(&db).await, 7);
        assert!(
            writer.healthy(),
            "a unit's own error is no connection failure"
        );
    }

    #[tokio::test]
    async fn without_group_commits_each_write_is_its_own_transaction() {
        let (writer, db, _dir) = sqlite_writer(false).await;
        assert_eq!(writer.run(Insert("a")).await.unwrap(), "a");
        assert!(writer.run(Insert("a")).await.is_err());
        assert_eq!(count(&db).await, 1);
    }

    /// A unit whose commit cannot happen: the database file refuses to grow.
    struct Fill;

    impl Unit for Fill {
        type Output = ();

        async fn run(&self, txn: &DatabaseTransaction, _now: DateTime<Utc>) -> Result<(), DbErr> {
            for n in 0..200 {
                txn.execute_unprepared(&format!(
                    "INSERT INTO names (name) VALUES ('{n}-{}')",
                    "x".repeat(4000)
                ))
                .await?;
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn after_a_full_database_the_connection_is_replaced_and_nothing_is_acknowledged_unwritten()
     {
        for group_commits in [true, false] {
            let (writer, db, _dir) = sqlite_writer(group_commits).await;
            writer.run(Insert("before")).await.unwrap();
            // Caps the file of the writer's current connection only.
            let cap = sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA max_page_count = 8",
            );
            writer.run(Execute(cap)).await.ok();
            let err = writer.run(Fill).await.unwrap_err();
            assert!(is_unavailable(&err), "{err}");
            assert!(!writer.healthy());
            // The next write runs on a fresh connection (without the cap) and
            // really commits: another connection sees it.
            writer.run(Insert("after")).await.unwrap();
            assert!(writer.healthy());
            assert_eq!(count(&db).await, 2, "group commits: {group_commits}");
        }
    }
}
