//! Intake benchmark: loads the baseline and the service with multipart
//! applications, measures throughput, latency and peak memory, and reports.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use applicant_vault_bench::baseline;
use applicant_vault_bench::cost::Cost;
use applicant_vault_bench::load::{self, PhaseResult, Target};
use applicant_vault_bench::pdf::synthetic_pdf;
use applicant_vault_bench::report::{Measured, Report};
use applicant_vault_bench::server::{self, Retired, Server};
use bytes::Bytes;
use clap::Parser;

/// Compares applicant-vault's intake with a minimal baseline server.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Concurrent clients in the load phase.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured requests in the load phase, per server.
    #[arg(long, default_value_t = 3000)]
    requests: usize,
    /// Unmeasured requests before the load phase, per server.
    #[arg(long, default_value_t = 100)]
    warmup: usize,
    /// Size of the CV in the load phase, KiB.
    #[arg(long, default_value_t = 200)]
    cv_kib: usize,
    /// Concurrent uploads (one each) in the memory scenario; 0 skips it.
    #[arg(long, default_value_t = 64)]
    big_clients: usize,
    /// Size of the CV in the memory scenario, MiB.
    #[arg(long, default_value_t = 10)]
    big_mib: usize,
    /// Upper bound on each phase's duration, seconds.
    #[arg(long, default_value_t = 600)]
    time_limit_secs: u64,
    /// Only benchmark the baseline server (to check the bench itself).
    #[arg(long)]
    baseline_only: bool,
    /// Where the servers' temporary data folders go (default: <target>/bench-tmp;
    /// keep it on a real disk, not tmpfs, or fsync costs nothing).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

/// Which server a phase runs against.
#[derive(Clone, Copy)]
enum Kind {
    Baseline,
    Service,
}

/// Everything the phases share.
struct Bench {
    args: Args,
    http: reqwest::Client,
    service_bin: Option<PathBuf>,
    work_dir: PathBuf,
    /// The stopped servers' folders, removed when the bench ends.
    retired: tokio::sync::Mutex<Retired>,
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    // Started by ourselves as the baseline server (see `SERVE_BASELINE`).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == server::SERVE_BASELINE)
    {
        let args = baseline::Args::parse_from(std::env::args_os().skip(1));
        baseline::run(args).await?;
        return Ok(ExitCode::SUCCESS);
    }

    let args = Args::parse();
    let service_bin = if args.baseline_only {
        None
    } else {
        Some(server::service_binary()?)
    };
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| server::target_dir().join("bench-tmp"));
    let bench = Bench {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(args.clients.max(args.big_clients))
            .build()?,
        service_bin,
        retired: tokio::sync::Mutex::new(Retired::after_last_run(&work_dir).await?),
        work_dir,
        args,
    };
    let args = &bench.args;

    let cv = synthetic_pdf(args.cv_kib * 1024);
    let mut report = Report {
        clients: args.clients,
        requests: args.requests,
        cv_bytes: cv.len(),
        big_clients: args.big_clients,
        big_bytes: args.big_mib * 1024 * 1024,
        baseline: None,
        service: None,
        baseline_big: None,
        service_big: None,
    };

    report.baseline = Some(bench.load(Kind::Baseline, &cv).await?);
    if !args.baseline_only {
        report.service = Some(bench.load(Kind::Service, &cv).await?);
    }
    if args.big_clients > 0 {
        let big = synthetic_pdf(report.big_bytes);
        report.baseline_big = Some(bench.big_uploads(Kind::Baseline, &big).await?);
        if !args.baseline_only {
            report.service_big = Some(bench.big_uploads(Kind::Service, &big).await?);
        }
    }

    print!("{}", report.render());
    Ok(if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

impl Bench {
    /// The load phase on a fresh server: warm-up, then the measured requests.
    async fn load(&self, kind: Kind, cv: &Bytes) -> Result<Measured> {
        let a = &self.args;
        let mut server = self.start(kind).await?;
        eprintln!(
            "{}: {} warm-up + {} requests from {} clients",
            server.name, a.warmup, a.requests, a.clients
        );
        let outcome = async {
            let target = self.target(kind, &server).await?;
            let limit = self.time_limit();
            let warmup =
                load::run_load(&self.http, &target, cv, a.clients, a.warmup, limit).await?;
            warn_if_failed(server.name, "warm-up", &warmup);
            let window = server.start_cost().await?;
            let phase =
                load::run_load(&self.http, &target, cv, a.clients, a.requests, limit).await?;
            let cpu_seconds = server.end_cost(window).await?;
            let requests = phase.summary.ok;
            Ok((
                Measured {
                    phase,
                    peak_rss_kib: server.peak_rss_kib()?,
                    cost: None,
                },
                cpu_seconds,
                requests,
            ))
        }
        .await;
        let syncs = self.retired.lock().await.stop(server).await?;
        outcome.map(|(mut measured, cpu_seconds, requests)| {
            measured.cost = Some(Cost {
                cpu_seconds,
                syncs,
                requests,
            });
            measured
        })
    }

    /// The memory scenario on a fresh server: one round of big uploads, all
    /// at once, then the server's peak RSS.
    async fn big_uploads(&self, kind: Kind, pdf: &Bytes) -> Result<Measured> {
        let a = &self.args;
        let server = self.start(kind).await?;
        eprintln!(
            "{}: {} concurrent {} MiB uploads",
            server.name, a.big_clients, a.big_mib
        );
        let outcome = async {
            let target = self.target(kind, &server).await?;
            let phase =
                load::run_burst(&self.http, &target, pdf, a.big_clients, self.time_limit()).await?;
            Ok(Measured {
                phase,
                peak_rss_kib: server.peak_rss_kib()?,
                cost: None,
            })
        }
        .await;
        self.retired.lock().await.stop(server).await?;
        outcome
    }

    /// Starts a fresh server of `kind`.
    async fn start(&self, kind: Kind) -> Result<Server> {
        match (kind, &self.service_bin) {
            (Kind::Baseline, _) => Server::start_baseline(&self.work_dir, &self.http).await,
            (Kind::Service, Some(bin)) => {
                Server::start_service(bin, &self.work_dir, &self.http, None).await
            }
            (Kind::Service, None) => anyhow::bail!("no service binary (--baseline-only)"),
        }
    }

    /// Where applications go: the service needs a real job; the baseline
    /// ignores the job id, so any UUID will do.
    async fn target(&self, kind: Kind, server: &Server) -> Result<Arc<Target>> {
        let job_id = match kind {
            Kind::Baseline => uuid::Uuid::new_v4().to_string(),
            Kind::Service => load::create_job(&self.http, server).await?,
        };
        Ok(Arc::new(Target::new(server, job_id)))
    }

    fn time_limit(&self) -> Duration {
        Duration::from_secs(self.args.time_limit_secs.max(1))
    }
}

/// Warm-up failures do not count, but they usually explain what follows.
fn warn_if_failed(name: &str, phase: &str, result: &PhaseResult) {
    if result.failed() {
        eprintln!(
            "!!! {name} {phase}: {} of the requests failed",
            result.summary.errors + result.not_sent
        );
        for err in &result.sample_errors {
            eprintln!("!!!   {err}");
        }
    }
}
