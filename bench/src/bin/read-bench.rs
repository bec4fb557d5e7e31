//! Recruiter-read benchmark on PostgreSQL: loads a large synthetic data set,
//! then measures the application list and detail reads through the service
//! and, as the baseline, the same SQL straight to PostgreSQL.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use applicant_vault_bench::cost;
use applicant_vault_bench::generator::{self, Size};
use applicant_vault_bench::load::{self, PhaseResult};
use applicant_vault_bench::pg::{self, BenchDatabase};
use applicant_vault_bench::read_report::{ReadCost, ReadReport, ScenarioResult};
use applicant_vault_bench::reads::{Scenario, ServiceClient, Targets};
use applicant_vault_bench::server::{self, Server};
use clap::Parser;
use sqlx::PgPool;

/// Measures applicant-vault's recruiter reads on PostgreSQL against the same
/// queries sent straight to the database.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The PostgreSQL server, as a URL to its maintenance database; the bench
    /// creates its own database next to it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
    /// Concurrent clients, each sending its next request when the previous
    /// one is answered.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Measured requests per scenario, for the baseline and for the service.
    #[arg(long, default_value_t = 5000)]
    requests: usize,
    /// Unmeasured requests before each measured phase.
    #[arg(long, default_value_t = 500)]
    warmup: usize,
    /// Applications to generate.
    #[arg(long, default_value_t = 1_000_000)]
    applications: u64,
    /// Jobs to spread them over.
    #[arg(long, default_value_t = 2_000)]
    jobs: u64,
    /// Page size of the list requests (the API's `limit`).
    #[arg(long, default_value_t = 50)]
    page_size: u64,
    /// Pages skipped, by cursor, before the deep page.
    #[arg(long, default_value_t = 200)]
    depth: u64,
    /// How many applications to draw as targets.
    #[arg(long, default_value_t = 2_000)]
    targets: usize,
    /// Seed for drawing targets.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep the generated database afterwards (rerun with --reuse-db NAME).
    #[arg(long)]
    keep_db: bool,
    /// Use this database from an earlier --keep-db run instead of generating
    /// one; it is kept.
    #[arg(long, value_name = "NAME")]
    reuse_db: Option<String>,
    /// Upper bound on each phase's duration, seconds.
    #[arg(long, default_value_t = 600)]
    time_limit_secs: u64,
    /// Where the service's temporary data folder goes (default:
    /// <target>/bench-tmp).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    let args = Args::parse();
    let bin = server::service_binary()?;
    let db = match &args.reuse_db {
        Some(name) => BenchDatabase::reuse(&args.database_url, name).await?,
        None => {
            let name = format!("av_read_bench_{}", std::process::id());
            BenchDatabase::create(&args.database_url, &name).await?
        }
    };
    eprintln!("database {}", db.name);

    // On Ctrl-C the run is dropped, which kills the service, and the
    // database is still dropped below.
    let outcome = tokio::select! {
        outcome = run(&args, &bin, &db) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };

    if args.keep_db || args.reuse_db.is_some() {
        eprintln!(
            "kept database {}; rerun with --reuse-db {}",
            db.name, db.name
        );
    } else if let Err(err) = db.drop_database().await {
        eprintln!("!!! {err:#}");
    }
    let report = outcome?;
    print!("{}", report.render());
    // A missed target is a finding, not a failure; failed requests are.
    Ok(if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads (unless reused), picks targets, then runs every scenario against
/// the baseline and the service.
async fn run(args: &Args, bin: &std::path::Path, db: &BenchDatabase) -> Result<ReadReport> {
    // Also a reused database: it may come from an older build.
    server::migrate_service_database(bin, &db.url).await?;
    if db.fresh {
        let size = Size {
            applications: args.applications,
            jobs: args.jobs,
        };
        eprintln!(
            "load: {} applications over {} jobs",
            size.applications, size.jobs
        );
        let mut conn = pg::connect(&db.url).await?;
        let took = generator::load(&mut conn, size).await?;
        eprintln!("load: done in {:.0} s", took.as_secs_f64());
    }
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| server::target_dir().join("bench-tmp"));
    let settling = Instant::now();
    server::settle_retention(
        bin,
        &work_dir,
        &db.url,
        Duration::from_secs(args.time_limit_secs),
    )
    .await?;
    eprintln!(
        "purge dates settled in {:.1} s",
        settling.elapsed().as_secs_f64()
    );
    let counts = generator::counts(&mut pg::connect(&db.url).await?).await?;
    let dataset = format!(
        "recruiter reads on PostgreSQL ({}): {}",
        db.name,
        counts
            .iter()
            .map(|(table, n)| format!("{n} {table}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    eprintln!("{dataset}");

    let clients = u32::try_from(args.clients.max(1))?;
    let pool = db.pool(clients).await?;
    // Every run starts from the same audit log, an empty one, also on a
    // reused database: the service's writes into it are part of the measure.
    sqlx::query("TRUNCATE audit_events").execute(&pool).await?;
    let targets =
        Arc::new(Targets::pick(&pool, args.seed, args.targets, args.page_size, args.depth).await?);

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    // The same connection budget as the baseline's pool.
    let service = Server::start_service(bin, &work_dir, &http, Some((&db.url, clients))).await?;
    let client = ServiceClient {
        http,
        base_url: service.base_url.clone(),
        api_key: service.api_key.clone(),
    };
    let measured = measure_all(args, &pool, &client, service.pid(), &targets).await;
    service.stop().await?;
    pool.close().await;

    Ok(ReadReport {
        dataset,
        clients: args.clients,
        requests: args.requests,
        scenarios: measured?,
    })
}

async fn measure_all(
    args: &Args,
    pool: &PgPool,
    client: &ServiceClient,
    service_pid: u32,
    targets: &Arc<Targets>,
) -> Result<Vec<ScenarioResult>> {
    let first = &targets.deep[0];
    eprintln!(
        "checking the deep-page cursor: walking {} pages of status={} through the API",
        targets.depth, first.status
    );
    client.check_deep_cursor(targets, first).await?;

    let mut results = Vec::new();
    for scenario in Scenario::ALL {
        eprintln!("{}: baseline", scenario.name());
        let (on_pool, with) = (pool.clone(), targets.clone());
        let meter = Meter {
            pool,
            service_pid: None,
        };
        let (baseline, baseline_cost) = phases(args, &meter, move |n| {
            let (pool, targets) = (on_pool.clone(), with.clone());
            async move { targets.query(&pool, scenario, n).await }
        })
        .await?;
        eprintln!("{}: service", scenario.name());
        let (to_service, with) = (client.clone(), targets.clone());
        let meter = Meter {
            pool,
            service_pid: Some(service_pid),
        };
        let (service, service_cost) = phases(args, &meter, move |n| {
            let (client, targets) = (to_service.clone(), with.clone());
            async move {
                let path = targets.http_path(scenario, n);
                client.get(&path, REQUEST_TIMEOUT).await
            }
        })
        .await?;
        results.push(ScenarioResult {
            name: scenario.name(),
            detail: detail(scenario, targets),
            baseline,
            service,
            baseline_cost,
            service_cost,
        });
    }
    Ok(results)
}

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What a side spends: PostgreSQL's CPU and WAL syncs, and the service's
/// CPU when it is the service's side.
struct Meter<'a> {
    pool: &'a PgPool,
    service_pid: Option<u32>,
}

/// One reading of a [`Meter`].
struct Reading {
    postgres_ticks: u64,
    service_ticks: u64,
    wal_syncs: i64,
}

impl Meter<'_> {
    async fn read(&self) -> Result<Reading> {
        let (wal_syncs,): (i64,) = sqlx::query_as("SELECT wal_sync FROM pg_stat_wal")
            .fetch_one(self.pool)
            .await?;
        Ok(Reading {
            postgres_ticks: cost::postgres_cpu_ticks()?,
            service_ticks: self
                .service_pid
                .map(cost::cpu_ticks)
                .transpose()?
                .unwrap_or(0),
            wal_syncs,
        })
    }

    /// Per request of the `requests` between two readings.
    fn cost(from: &Reading, to: &Reading, requests: usize) -> ReadCost {
        let per_request = |total: f64| total / requests.max(1) as f64;
        ReadCost {
            postgres_ms: per_request(
                cost::cpu_seconds(from.postgres_ticks, to.postgres_ticks) * 1000.0,
            ),
            service_ms: per_request(
                cost::cpu_seconds(from.service_ticks, to.service_ticks) * 1000.0,
            ),
            wal_syncs: per_request((to.wal_syncs - from.wal_syncs).max(0) as f64),
        }
    }
}

/// A warm-up phase, then the measured one, with the same request maker;
/// what the measured one cost.
async fn phases<F, Fut>(
    args: &Args,
    meter: &Meter<'_>,
    request: F,
) -> Result<(PhaseResult, ReadCost)>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Duration, String>> + Send,
{
    settle(meter.pool).await?;
    let limit = Duration::from_secs(args.time_limit_secs.max(1));
    let run = |count: usize, offset: usize| {
        let request = request.clone();
        load::run_closed_loop(args.clients, count, limit, move |n, _| request(offset + n))
    };
    let warmup = run(args.warmup, 0).await?;
    if warmup.failed() {
        eprintln!(
            "!!! warm-up: {} of the requests failed",
            warmup.summary.errors + warmup.not_sent
        );
        for err in &warmup.sample_errors {
            eprintln!("!!!   {err}");
        }
    }
    // The measured requests start where the warm-up stopped, so they are
    // not all answered from what the warm-up just brought into memory.
    let before = meter.read().await?;
    let measured = run(args.requests, args.warmup).await?;
    let after = meter.read().await?;
    let cost = Meter::cost(&before, &after, args.requests);
    Ok((measured, cost))
}

/// Lets PostgreSQL finish what the phase before left it (vacuuming the
/// audit rows the service wrote, writing their pages out), so that this
/// work is not counted against, nor slows, the phase that comes next.
async fn settle(pool: &PgPool) -> Result<()> {
    for statement in ["VACUUM (ANALYZE) audit_events", "CHECKPOINT"] {
        sqlx::query(statement)
            .execute(pool)
            .await
            .with_context(|| format!("settling the database: {statement}"))?;
    }
    Ok(())
}

/// Which filters and targets a scenario used.
fn detail(scenario: Scenario, targets: &Targets) -> String {
    match scenario {
        Scenario::FirstPage => format!(
            "job_id and status of {} randomly drawn applications, limit={}",
            targets.job_status.len(),
            targets.page_size
        ),
        Scenario::DeepPage => format!(
            "status only (a job has too few applications for {} pages), {} pages of {} skipped by cursor, statuses {}",
            targets.depth + 1,
            targets.depth,
            targets.page_size,
            targets.deep_statuses().join(", ")
        ),
        Scenario::Get => format!(
            "{} randomly drawn application ids (application + candidate, documents)",
            targets.ids.len()
        ),
    }
}
