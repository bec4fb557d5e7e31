//! Write transactions. SQLite has one writer at a time and every commit waits
//! for a disk sync, so on SQLite the writes of concurrent requests are queued
//! to one task that commits them in groups: one transaction, one sync, for all
//! that waited. A group that fails is rolled back and each of its writes is
//! retried alone, so one bad write never takes others down with it. On
//! PostgreSQL, which has concurrent writers, each write is its own transaction.

use std::{any::Any, sync::Arc};

use futures_util::future::BoxFuture;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

/// The most writes one group commit takes.
const MAX_GROUP: usize = 64;

type Outcome = Result<Box<dyn Any + Send>, DbErr>;
type Work = Arc<dyn Fn(&DatabaseTransaction) -> BoxFuture<'_, Outcome> + Send + Sync>;

struct Job {
    work: Work,
    done: oneshot::Sender<Outcome>,
}

#[derive(Clone)]
pub struct Writer {
    db: DatabaseConnection,
    queue: Option<mpsc::Sender<Job>>,
}

impl Writer {
    /// Group commits when `group_commits` (SQLite); plain transactions otherwise.
    pub fn new(db: DatabaseConnection, group_commits: bool) -> Self {
        let queue = group_commits.then(|| {
            let (sender, receiver) = mpsc::channel(1024);
            tokio::spawn(run_groups(db.clone(), receiver));
            sender
        });
        Self { db, queue }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A write transaction outside the queue (see [`begin`]).
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        begin(&self.db).await
    }

    /// Runs `work` in a transaction and returns its result once committed.
    /// `work` may run more than once (after a group rolled back), so it must
    /// only write to the database.
    pub async fn write<T, F>(&self, work: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, Result<T, DbErr>>
            + Send
            + Sync
            + 'static,
    {
        let Some(queue) = &self.queue else {
            let txn = begin(&self.db).await?;
            let value = work(&txn).await?;
            txn.commit().await?;
            return Ok(value);
        };
        let work: Work = Arc::new(move |txn| {
            let pending = work(txn);
            Box::pin(async move { pending.await.map(|v| Box::new(v) as Box<dyn Any + Send>) })
        });
        let (done, outcome) = oneshot::channel();
        queue
            .send(Job { work, done })
            .await
            .map_err(|_| DbErr::Custom("the database writer has stopped".into()))?;
        let value = outcome
            .await
            .map_err(|_| DbErr::Custom("the database writer has stopped".into()))??;
        Ok(*value
            .downcast::<T>()
            .expect("the writer returns what the work made"))
    }
}

async fn run_groups(db: DatabaseConnection, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        match commit_group(&db, &group).await {
            Ok(values) => {
                for (job, value) in group.into_iter().zip(values) {
                    let _ = job.done.send(Ok(value));
                }
            }
            Err(_) => {
                // Retry alone, so each write gets its own answer.
                for job in group {
                    let outcome = commit_one(&db, &job.work).await;
                    let _ = job.done.send(outcome);
                }
            }
        }
    }
}

async fn commit_group(
    db: &DatabaseConnection,
    group: &[Job],
) -> Result<Vec<Box<dyn Any + Send>>, DbErr> {
    let txn = begin(db).await?;
    let mut values = Vec::with_capacity(group.len());
    for job in group {
        values.push((job.work)(&txn).await?);
    }
    txn.commit().await?;
    Ok(values)
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

async fn commit_one(db: &DatabaseConnection, work: &Work) -> Outcome {
    let txn = begin(db).await?;
    let value = work(&txn).await?;
    txn.commit().await?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database};

    use super::*;

    async fn insert(writer: &Writer, name: &'static str) -> Result<&'static str, DbErr> {
        writer
            .write(move |txn| {
                Box::pin(async move {
                    txn.execute_unprepared(&format!("INSERT INTO names (name) VALUES ('{name}')"))
                        .await?;
                    Ok(name)
                })
            })
            .await
    }

    #[tokio::test]
    async fn concurrent_writes_all_commit_but_a_failing_one_which_fails_alone() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared("CREATE TABLE names (name TEXT PRIMARY KEY)")
            .await
            .unwrap();
        let writer = Writer::new(db.clone(), true);
        let names = ["a", "b", "c", "a", "d", "e", "f", "g"];
        let results =
            futures_util::future::join_all(names.iter().map(|name| insert(&writer, name))).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        assert_eq!(failed, 1, "only the duplicate fails: {results:?}");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM names",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 7);
    }

    #[tokio::test]
    async fn without_group_commits_each_write_is_its_own_transaction() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared("CREATE TABLE names (name TEXT PRIMARY KEY)")
            .await
            .unwrap();
        let writer = Writer::new(db, false);
        assert_eq!(insert(&writer, "a").await.unwrap(), "a");
        assert!(insert(&writer, "a").await.is_err());
    }
}
