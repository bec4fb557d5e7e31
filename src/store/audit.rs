//! The audit log: every read or change of personal data by a key. A change
//! records its event in its own unit of work ([`record`]); reads are
//! recorded in groups ([`AccessLog`]).

use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QueryOrder,
    QuerySelect, RuntimeErr, Statement, prelude::*,
};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{
    entity::audit_event,
    writer::{Unit, Writer},
};

/// Who did it: the key, and the person it acted for where the client said so.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub api_key_id: Option<Uuid>,
    pub on_behalf_of: Option<String>,
}

pub async fn record(
    db: &impl ConnectionTrait,
    at: DateTimeUtc,
    actor: &Actor,
    action: &str,
    application_id: Option<Uuid>,
    subject_id: Option<Uuid>,
) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(at),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        action: Set(action.to_owned()),
        application_id: Set(application_id),
        subject_id: Set(subject_id),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// An access to record on its own: a read of personal data.
pub struct Access {
    pub actor: Actor,
    pub action: &'static str,
    pub application_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
}

/// A list or search that showed these applications: one event each, so
/// that every application's audit trail says who saw it; the events of one
/// listing share a subject id.
pub struct Listed {
    pub actor: Actor,
    pub action: &'static str,
    pub application_ids: Vec<Uuid>,
}

/// One event of a read, before it has its id and time.
#[derive(Clone)]
pub struct Entry {
    actor: Actor,
    action: &'static str,
    application_id: Option<Uuid>,
    subject_id: Option<Uuid>,
}

/// A read to record: its events.
pub trait Recorded {
    fn entries(self) -> Vec<Entry>;
}

impl Recorded for Access {
    fn entries(self) -> Vec<Entry> {
        vec![Entry {
            actor: self.actor,
            action: self.action,
            application_id: self.application_id,
            subject_id: self.subject_id,
        }]
    }
}

impl Recorded for Listed {
    fn entries(self) -> Vec<Entry> {
        let listing = Some(Uuid::now_v7());
        // One event even for an empty page: the search itself is recorded.
        let shown: Vec<Option<Uuid>> = if self.application_ids.is_empty() {
            vec![None]
        } else {
            self.application_ids.into_iter().map(Some).collect()
        };
        shown
            .into_iter()
            .map(|application_id| Entry {
                actor: self.actor.clone(),
                action: self.action,
                application_id,
                subject_id: listing,
            })
            .collect()
    }
}

/// The most events one group records.
const MOST_EVENTS: usize = 2_000;
/// A read of more events than this is its own group: there the rows cost
/// more than the commit, and one connection writing many reads' rows would
/// hold them all up.
const GROUPED_UP_TO: usize = 8;
/// Events per insert statement (7 parameters each).
const PER_INSERT: usize = 500;
/// Groups being committed at once: while one commits, the next gathers.
const IN_FLIGHT: usize = 2;

/// The reads of personal data, recorded in groups: the events of
/// concurrent requests go to the database in one unit of work (one insert,
/// one commit) and each request has its answer once that unit is
/// committed, so a read is still on disk before it is answered. A read of
/// many events (a page of a list) is a unit of its own. An event
/// has no constraint but its fresh id, so a group fails only as a whole,
/// when the database does, and every request of it hears so.
#[derive(Clone)]
pub struct AccessLog {
    writer: Writer,
    queue: mpsc::Sender<Pending>,
}

struct Pending {
    entries: Vec<Entry>,
    done: oneshot::Sender<Result<(), DbErr>>,
}

impl AccessLog {
    /// Records through `writer`; needs a Tokio runtime.
    pub fn new(writer: Writer) -> Self {
        let (queue, receiver) = mpsc::channel(1024);
        tokio::spawn(record_groups(writer.clone(), receiver));
        Self { writer, queue }
    }

    /// Returns once the read's events are committed.
    pub async fn record(&self, read: impl Recorded) -> Result<(), DbErr> {
        let entries = read.entries();
        if entries.len() > GROUPED_UP_TO {
            return self
                .writer
                .run(RecordAll {
                    entries,
                    grouped: false,
                })
                .await;
        }
        let (done, committed) = oneshot::channel();
        let pending = Pending { entries, done };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?
    }
}

fn stopped() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal("the audit log has stopped".into()))
}

async fn record_groups(writer: Writer, mut queue: mpsc::Receiver<Pending>) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        let permit = Arc::clone(&in_flight)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        // Gathered after the wait for a permit, so that a busy log records
        // in bigger groups.
        let mut events = first.entries.len();
        let mut group = vec![first];
        while events < MOST_EVENTS {
            match queue.try_recv() {
                Ok(pending) => {
                    events += pending.entries.len();
                    group.push(pending);
                }
                Err(_) => break,
            }
        }
        let writer = writer.clone();
        tokio::spawn(async move {
            let entries = group
                .iter_mut()
                .flat_map(|pending| std::mem::take(&mut pending.entries))
                .collect();
            let outcome = writer
                .run(RecordAll {
                    entries,
                    grouped: true,
                })
                .await;
            for pending in group {
                let _ = pending.done.send(outcome.clone());
            }
            drop(permit);
        });
    }
}

/// The events of a group, inserted together.
struct RecordAll {
    entries: Vec<Entry>,
    /// Events of many reads: a count that varies from group to group.
    grouped: bool,
}

impl Unit for RecordAll {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, at: DateTimeUtc) -> Result<(), DbErr> {
        let rows = self.entries.iter().map(|entry| audit_event::Model {
            id: Uuid::now_v7(),
            at,
            api_key_id: entry.actor.api_key_id,
            actor: entry.actor.on_behalf_of.clone(),
            action: entry.action.to_owned(),
            application_id: entry.application_id,
            subject_id: entry.subject_id,
        });
        if self.grouped && txn.get_database_backend() == DbBackend::Postgres {
            // One statement whatever the group's size, so that PostgreSQL
            // prepares it once (an insert of N rows is a statement per N):
            // the rows go as one JSON text.
            let rows: Vec<serde_json::Value> = rows
                .map(|row| {
                    serde_json::json!({
                        "id": row.id,
                        "at": row.at,
                        "api_key_id": row.api_key_id,
                        "actor": row.actor,
                        "action": row.action,
                        "application_id": row.application_id,
                        "subject_id": row.subject_id,
                    })
                })
                .collect();
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO audit_events \
                 SELECT * FROM json_populate_recordset(NULL::audit_events, $1::json)",
                [serde_json::Value::Array(rows).to_string().into()],
            ))
            .await?;
            return Ok(());
        }
        let rows: Vec<audit_event::ActiveModel> = rows.map(Into::into).collect();
        for chunk in rows.chunks(PER_INSERT) {
            audit_event::Entity::insert_many(chunk.iter().cloned())
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }
}

pub struct AuditFilter {
    pub application_id: Option<Uuid>,
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// Oldest first, paged by id.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: AuditFilter,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find().order_by_asc(audit_event::Column::Id);
    if let Some(application_id) = filter.application_id {
        query = query.filter(audit_event::Column::ApplicationId.eq(application_id));
    }
    if let Some(after) = filter.after {
        query = query.filter(audit_event::Column::Id.gt(after));
    }
    query.limit(filter.limit).all(db).await
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseConnection};

    use super::*;
    use crate::store::writer;

    async fn access_log() -> (AccessLog, DatabaseConnection, tempfile::TempDir) {
        let (writer, reader, dir) = writer::sqlite_for_tests(true).await;
        writer.migrate().await.unwrap();
        (AccessLog::new(writer), reader, dir)
    }

    async fn events(db: &DatabaseConnection) -> Vec<audit_event::Model> {
        audit_event::Entity::find().all(db).await.unwrap()
    }

    fn actor() -> Actor {
        Actor {
            api_key_id: Some(Uuid::now_v7()),
            on_behalf_of: Some("r-17".into()),
        }
    }

    #[tokio::test]
    async fn every_read_of_a_busy_log_is_on_disk_when_it_is_answered() {
        let (log, db, _dir) = access_log().await;
        let shown: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let reads = (0..40).map(|n| {
            let log = log.clone();
            let shown = shown.clone();
            async move {
                if n % 2 == 0 {
                    log.record(Access {
                        actor: actor(),
                        action: "application.read",
                        application_id: Some(shown[0]),
                        subject_id: None,
                    })
                    .await
                } else {
                    log.record(Listed {
                        actor: actor(),
                        action: "application.listed",
                        application_ids: shown,
                    })
                    .await
                }
            }
        });
        for outcome in futures_util::future::join_all(reads).await {
            outcome.unwrap();
        }
        let events = events(&db).await;
        assert_eq!(events.len(), 20 + 20 * 3);
        let reads = events
            .iter()
            .filter(|e| e.action == "application.read")
            .count();
        assert_eq!(reads, 20);
        // Each listing's events share one subject, and no two listings do.
        let mut listings = std::collections::HashMap::<Uuid, usize>::new();
        for event in events.iter().filter(|e| e.action == "application.listed") {
            *listings.entry(event.subject_id.unwrap()).or_default() += 1;
            assert_eq!(event.actor.as_deref(), Some("r-17"));
        }
        assert_eq!(listings.len(), 20);
        assert!(listings.values().all(|&n| n == 3));

        // An empty page is recorded too, and a full page on its own.
        for shown in [0, 50] {
            log.record(Listed {
                actor: actor(),
                action: "application.listed",
                application_ids: (0..shown).map(|_| Uuid::now_v7()).collect(),
            })
            .await
            .unwrap();
        }
        assert_eq!(self::events(&db).await.len(), 81 + 50);
    }

    #[tokio::test]
    async fn when_the_events_cannot_be_written_every_read_waiting_hears_so() {
        let (log, db, _dir) = access_log().await;
        db.execute_unprepared("DROP TABLE audit_events")
            .await
            .unwrap();
        let reads = (0..10).map(|_| {
            log.record(Access {
                actor: actor(),
                action: "application.read",
                application_id: None,
                subject_id: None,
            })
        });
        let outcomes = futures_util::future::join_all(reads).await;
        assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
    }
}
