//! The audit log: every read or change of personal data by a key. A change
//! records its event in its own unit of work ([`record`]); reads are
//! recorded in groups ([`AccessLog`]).

use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, QueryOrder, QueryResult, QuerySelect, RuntimeErr, Statement, prelude::*,
    sea_query::SimpleExpr,
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
    let event = audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(at),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        action: Set(action.to_owned()),
        application_id: Set(application_id),
        subject_id: Set(subject_id),
        shown: Set(None),
    };
    audit_event::Entity::insert(event)
        .exec_without_returning(db)
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

/// A list or search that showed these applications: one event naming them
/// all, so that every application's audit trail still says who saw it
/// ([`list`] finds the listings that showed it).
pub struct Listed {
    pub actor: Actor,
    pub action: &'static str,
    pub application_ids: Vec<Uuid>,
}

/// The event of a read, before it has its id and time.
#[derive(Clone)]
pub struct Entry {
    actor: Actor,
    action: &'static str,
    application_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    /// A listing's applications, as the JSON array stored.
    shown: Option<String>,
}

impl From<Access> for Entry {
    fn from(read: Access) -> Self {
        Entry {
            actor: read.actor,
            action: read.action,
            application_id: read.application_id,
            subject_id: read.subject_id,
            shown: None,
        }
    }
}

impl From<Listed> for Entry {
    fn from(listing: Listed) -> Self {
        // An empty page is recorded too: the search itself is an access.
        let shown = serde_json::to_string(&listing.application_ids).expect("ids serialize");
        Entry {
            actor: listing.actor,
            action: listing.action,
            application_id: None,
            subject_id: None,
            shown: Some(shown),
        }
    }
}

/// The most reads one group records.
const MOST_READS: usize = 500;
/// Groups being committed at once: while one commits, the next gathers.
const IN_FLIGHT: usize = 2;

/// The reads of personal data, recorded in groups: the events of
/// concurrent requests go to the database in one unit of work (one insert,
/// one commit) and each request has its answer once that unit is
/// committed, so a read is still on disk before it is answered. An event
/// has no constraint but its fresh id, so a group fails only as a whole,
/// when the database does, and every request of it hears so.
#[derive(Clone)]
pub struct AccessLog {
    queue: mpsc::Sender<Pending>,
}

/// What a read shows, for its event.
pub enum Showed {
    /// This application, if the read found it: a read that finds nothing
    /// records nothing (its 404 shows nothing).
    Application(Uuid),
    /// A listing: the applications in the read's `id` column, in the
    /// order read. An empty page is recorded too: the search itself is an
    /// access.
    Listing,
}

struct Pending {
    entry: Entry,
    done: oneshot::Sender<Result<(), DbErr>>,
}

impl AccessLog {
    /// Records through `writer`; needs a Tokio runtime.
    pub fn new(writer: Writer) -> Self {
        let (queue, receiver) = mpsc::channel(1024);
        tokio::spawn(record_groups(writer, receiver));
        Self { queue }
    }

    /// Runs `read` on `db` and records what it showed; the rows come back
    /// only once the event is committed.
    ///
    /// (Reading and recording in one PostgreSQL statement, a CTE that
    /// inserts the event, saves a round trip but commits once per read:
    /// measured against these groups, it cost PostgreSQL 0.1 to 0.25 ms
    /// more per page, more than it saved here.)
    pub async fn read(
        &self,
        db: &DatabaseConnection,
        read: Statement,
        actor: Actor,
        action: &'static str,
        showed: Showed,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let rows = db.query_all_raw(read).await?;
        let entry = match showed {
            Showed::Application(_) if rows.is_empty() => return Ok(rows),
            Showed::Application(id) => Entry::from(Access {
                actor,
                action,
                application_id: Some(id),
                subject_id: None,
            }),
            Showed::Listing => Entry::from(Listed {
                actor,
                action,
                application_ids: rows
                    .iter()
                    .map(|row| row.try_get::<Uuid>("", "id"))
                    .collect::<Result<_, _>>()?,
            }),
        };
        self.record(entry).await?;
        Ok(rows)
    }

    /// Returns once the read's event is committed.
    pub async fn record(&self, read: impl Into<Entry>) -> Result<(), DbErr> {
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            entry: read.into(),
            done,
        };
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
        let mut group = vec![first];
        while group.len() < MOST_READS {
            match queue.try_recv() {
                Ok(pending) => group.push(pending),
                Err(_) => break,
            }
        }
        let writer = writer.clone();
        tokio::spawn(async move {
            let (entries, waiting): (Vec<Entry>, Vec<_>) = group
                .into_iter()
                .map(|pending| (pending.entry, pending.done))
                .unzip();
            let outcome = record_all(&writer, entries).await;
            for done in waiting {
                let _ = done.send(outcome.clone());
            }
            drop(permit);
        });
    }
}

/// Inserts the events of a group together: on PostgreSQL as one statement
/// that is its own transaction, on SQLite as a unit of the group committer.
async fn record_all(writer: &Writer, entries: Vec<Entry>) -> Result<(), DbErr> {
    if writer.groups() {
        return writer.run(RecordAll(entries)).await;
    }
    // One statement whatever the group's size, so that PostgreSQL prepares
    // it once (an insert of N rows is a statement per N): the rows go as
    // one JSON text.
    let rows: Vec<serde_json::Value> = events(&entries, writer.now())
        .map(|row| {
            serde_json::json!({
                "id": row.id,
                "at": row.at,
                "api_key_id": row.api_key_id,
                "actor": row.actor,
                "action": row.action,
                "application_id": row.application_id,
                "subject_id": row.subject_id,
                "shown": row.shown,
            })
        })
        .collect();
    writer
        .execute_alone(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO audit_events \
             SELECT * FROM json_populate_recordset(NULL::audit_events, $1::json)",
            [serde_json::Value::Array(rows).to_string().into()],
        ))
        .await
}

fn events(entries: &[Entry], at: DateTimeUtc) -> impl Iterator<Item = audit_event::Model> + '_ {
    entries.iter().map(move |entry| audit_event::Model {
        id: Uuid::now_v7(),
        at,
        api_key_id: entry.actor.api_key_id,
        actor: entry.actor.on_behalf_of.clone(),
        action: entry.action.to_owned(),
        application_id: entry.application_id,
        subject_id: entry.subject_id,
        shown: entry.shown.clone(),
    })
}

/// The events of a group, inserted together in the group committer's
/// transaction.
struct RecordAll(Vec<Entry>);

impl Unit for RecordAll {
    type Output = ();

    async fn run(&self, txn: &DatabaseTransaction, at: DateTimeUtc) -> Result<(), DbErr> {
        let rows: Vec<audit_event::ActiveModel> = events(&self.0, at).map(Into::into).collect();
        audit_event::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }
}

pub struct AuditFilter {
    pub application_id: Option<Uuid>,
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// Oldest first, paged by id. Filtered by application, the listings that
/// showed it are among its events, as events about it.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: AuditFilter,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find().order_by_asc(audit_event::Column::Id);
    if let Some(application_id) = filter.application_id {
        query = query.filter(
            Condition::any()
                .add(audit_event::Column::ApplicationId.eq(application_id))
                .add(showed(db.get_database_backend(), application_id)),
        );
    }
    if let Some(after) = filter.after {
        query = query.filter(audit_event::Column::Id.gt(after));
    }
    let mut events = query.limit(filter.limit).all(db).await?;
    if let Some(application_id) = filter.application_id {
        for event in &mut events {
            event.application_id = Some(application_id);
        }
    }
    Ok(events)
}

/// A listing that showed the application.
fn showed(backend: DbBackend, application_id: Uuid) -> SimpleExpr {
    match backend {
        // The GIN index over `shown::jsonb` (a partial one: hence the
        // `IS NOT NULL`).
        DbBackend::Postgres => Expr::cust_with_values(
            "audit_events.shown IS NOT NULL AND audit_events.shown::jsonb @> $1::jsonb",
            [serde_json::json!([application_id]).to_string()],
        ),
        // No index into JSON here: a listing comes after what it showed
        // (ids are in time order), so only the listings since the
        // application was created are scanned.
        _ => Expr::cust_with_values(
            "audit_events.shown IS NOT NULL AND audit_events.id >= ? AND EXISTS \
             (SELECT 1 FROM json_each(audit_events.shown) WHERE json_each.value = ?)",
            [
                Value::from(application_id),
                Value::from(application_id.to_string()),
            ],
        ),
    }
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
        assert_eq!(events.len(), 20 + 20);
        let reads = events
            .iter()
            .filter(|e| e.action == "application.read")
            .count();
        assert_eq!(reads, 20);
        // Each listing is one event naming what it showed.
        for event in events.iter().filter(|e| e.action == "application.listed") {
            let named: Vec<Uuid> = serde_json::from_str(event.shown.as_deref().unwrap()).unwrap();
            assert_eq!(named, shown);
            assert_eq!(event.actor.as_deref(), Some("r-17"));
        }

        // An empty page is recorded too, and a full one.
        for shown in [0, 200] {
            log.record(Listed {
                actor: actor(),
                action: "application.listed",
                application_ids: (0..shown).map(|_| Uuid::now_v7()).collect(),
            })
            .await
            .unwrap();
        }
        assert_eq!(self::events(&db).await.len(), 42);
    }

    #[tokio::test]
    async fn an_application_s_events_include_the_listings_that_showed_it() {
        let (log, db, _dir) = access_log().await;
        let [before, shown, other] = [(); 3].map(|_| Uuid::now_v7());
        let listing = |ids: Vec<Uuid>| Listed {
            actor: actor(),
            action: "application.listed",
            application_ids: ids,
        };
        log.record(listing(vec![before])).await.unwrap();
        log.record(listing(vec![other, shown])).await.unwrap();
        log.record(Access {
            actor: actor(),
            action: "application.read",
            application_id: Some(shown),
            subject_id: None,
        })
        .await
        .unwrap();
        log.record(listing(vec![other])).await.unwrap();

        let of = |application_id| AuditFilter {
            application_id: Some(application_id),
            after: None,
            limit: 50,
        };
        let trail = list(&db, of(shown)).await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["application.listed", "application.read"]);
        assert!(trail.iter().all(|e| e.application_id == Some(shown)));
        assert_eq!(list(&db, of(other)).await.unwrap().len(), 2);
        // Shown before `shown` and `other` existed: their ids are later.
        assert_eq!(list(&db, of(before)).await.unwrap().len(), 1);
        assert!(list(&db, of(Uuid::now_v7())).await.unwrap().is_empty());
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
