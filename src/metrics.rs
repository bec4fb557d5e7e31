//! Prometheus metrics, served on the admin listener (`server.admin_listen`)
//! and never on the public port. No label carries personal data or an id:
//! routes are templates, sources and dependencies a closed set.
//!
//! Counters move as things happen; the gauges that describe the database
//! (purge lag, outbox depth and age, subject requests, pool use) and
//! readiness are read fresh at each scrape.

use std::time::Duration;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use sea_orm::{EntityTrait, QueryOrder, QuerySelect, prelude::*};
use std::sync::atomic::AtomicU64;

use crate::{
    retention::deletion,
    services::Services,
    store::{
        entity::{application, outbox},
        subject_requests,
    },
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DependencyLabels {
    dependency: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

type Seconds = Gauge<f64, AtomicU64>;

fn latency_buckets() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    received: Family<SourceLabels, Counter>,
    upload_bytes: Counter,
    purge_runs: Counter,
    purged: Counter,
    reminders: Counter,
    mail_sent: Counter,
    mail_failures: Counter,
    purge_lag: Seconds,
    outbox_depth: Gauge,
    outbox_oldest: Seconds,
    subject_requests_open: Gauge,
    subject_requests_overdue: Gauge,
    pool: Family<PoolLabels, Gauge>,
    ready: Family<DependencyLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("applicant_vault");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::new_with_constructor(latency_buckets as fn() -> Histogram);
        let received = Family::<SourceLabels, Counter>::default();
        let (upload_bytes, purge_runs, purged, reminders, mail_sent, mail_failures) = (
            Counter::default(),
            Counter::default(),
            Counter::default(),
            Counter::default(),
            Counter::default(),
            Counter::default(),
        );
        let (purge_lag, outbox_oldest) = (Seconds::default(), Seconds::default());
        let (outbox_depth, subject_requests_open, subject_requests_overdue) =
            (Gauge::default(), Gauge::default(), Gauge::default());
        let pool = Family::<PoolLabels, Gauge>::default();
        let ready = Family::<DependencyLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by method and route template",
            latency.clone(),
        );
        registry.register(
            "applications_received",
            "Applications received, by source (form, linkedin, indeed, indeed-apply)",
            received.clone(),
        );
        registry.register(
            "upload_bytes",
            "Bytes of the documents of received applications",
            upload_bytes.clone(),
        );
        registry.register("purge_runs", "Retention runs finished", purge_runs.clone());
        registry.register(
            "applications_purged",
            "Applications the retention runs purged",
            purged.clone(),
        );
        registry.register(
            "reminders_sent",
            "Reminders queued to candidates whose purge date nears",
            reminders.clone(),
        );
        registry.register("mail_sent", "Mails handed over", mail_sent.clone());
        registry.register(
            "mail_failures",
            "Delivery attempts that failed (to be retried, or given up)",
            mail_failures.clone(),
        );
        registry.register(
            "purge_lag_seconds",
            "Age of the oldest application past its purge date and not held (0: none)",
            purge_lag.clone(),
        );
        registry.register(
            "outbox_depth",
            "Mails waiting in the outbox",
            outbox_depth.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest mail waiting in the outbox (0: none)",
            outbox_oldest.clone(),
        );
        registry.register(
            "subject_requests_open",
            "Data-subject requests still to answer (open or waiting)",
            subject_requests_open.clone(),
        );
        registry.register(
            "subject_requests_overdue",
            "Data-subject requests still to answer past their deadline",
            subject_requests_overdue.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Connections of the read pool, by state (idle, in_use)",
            pool.clone(),
        );
        registry.register(
            "dependency_ready",
            "Whether each dependency is ready (1) or not (0)",
            ready.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            received,
            upload_bytes,
            purge_runs,
            purged,
            reminders,
            mail_sent,
            mail_failures,
            purge_lag,
            outbox_depth,
            outbox_oldest,
            subject_requests_open,
            subject_requests_overdue,
            pool,
            ready,
        }
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let route = route.to_owned();
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route,
            })
            .observe(took.as_secs_f64());
    }

    /// An application received from `source`, with `bytes` of documents.
    pub fn received(&self, source: &str, bytes: u64) {
        self.received
            .get_or_create(&SourceLabels {
                source: source.to_owned(),
            })
            .inc();
        self.upload_bytes.inc_by(bytes);
    }

    /// Retention runs finished since start-up.
    pub fn retention_runs(&self) -> u64 {
        self.purge_runs.get()
    }

    pub fn retention_run(&self, purged: usize, reminded: usize) {
        self.purge_runs.inc();
        self.purged.inc_by(purged as u64);
        self.reminders.inc_by(reminded as u64);
    }

    pub fn mail(&self, sent: usize, failed_attempts: usize) {
        self.mail_sent.inc_by(sent as u64);
        self.mail_failures.inc_by(failed_attempts as u64);
    }

    /// Reads the gauges afresh and encodes everything in the text format.
    pub async fn scrape(&self, services: &Services) -> String {
        if let Err(err) = self.refresh(services).await {
            tracing::warn!(error = %err, "reading the metrics' gauges failed");
        }
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String");
        text
    }

    async fn refresh(&self, services: &Services) -> Result<(), DbErr> {
        let readiness = services.readiness().await;
        for (dependency, ready) in [
            ("database", readiness.database),
            ("object_store", readiness.object_store),
        ] {
            self.ready
                .get_or_create(&DependencyLabels {
                    dependency: dependency.to_owned(),
                })
                .set(i64::from(ready));
        }
        if let Some(pool) = pool_use(&services.db) {
            for (state, count) in [("idle", pool.0), ("in_use", pool.1)] {
                self.pool
                    .get_or_create(&PoolLabels {
                        state: state.to_owned(),
                    })
                    .set(count);
            }
        }
        let now = services.now();
        let oldest_due = deletion::due(now, now)
            .select_only()
            .column(application::Column::PurgeAfter)
            .into_tuple::<Option<DateTimeUtc>>()
            .one(&services.db)
            .await?
            .flatten();
        self.purge_lag.set(age(now, oldest_due));
        let depth = outbox::Entity::find().count(&services.db).await?;
        self.outbox_depth.set(depth as i64);
        let oldest_mail = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::CreatedAt)
            .order_by_asc(outbox::Column::CreatedAt)
            .into_tuple::<DateTimeUtc>()
            .one(&services.db)
            .await?;
        self.outbox_oldest.set(age(now, oldest_mail));
        let (open, overdue) = subject_requests::pending_counts(&services.db, now).await?;
        self.subject_requests_open.set(open as i64);
        self.subject_requests_overdue.set(overdue as i64);
        Ok(())
    }
}

fn age(now: DateTimeUtc, since: Option<DateTimeUtc>) -> f64 {
    since.map_or(0.0, |since| {
        (now - since).num_milliseconds().max(0) as f64 / 1000.0
    })
}

/// Idle and in-use connections of the read pool.
fn pool_use(db: &DatabaseConnection) -> Option<(i64, i64)> {
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return None,
    };
    let idle = idle as i64;
    Some((idle, (i64::from(size) - idle).max(0)))
}
