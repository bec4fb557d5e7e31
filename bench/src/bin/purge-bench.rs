//! Purge benchmark: a data set of due applications, each with one CV, purged
//! by `applicant-vault purge`; against the baseline of deleting the same
//! files with one `rm` (on S3: the store's bulk delete) and the same rows with
//! plain SQL. Each side gets its own copy of the data set, made the same way,
//! in the same run. SQLite + local folder always; PostgreSQL + S3 with
//! `--database-url` and `--s3-endpoint`.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use applicant_vault::{
    blobs::{Blobs, UploadData},
    config::Settings,
    store::entity::{application, candidate, document, job},
};
use applicant_vault_bench::server::{configure_env, service_binary, target_dir};
use bytes::Bytes;
use chrono::{TimeDelta, Utc};
use clap::Parser;
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    TransactionTrait,
};
use tokio::process::Command;
use uuid::Uuid;

#[derive(Parser)]
#[command(version)]
struct Args {
    /// Due applications on SQLite + local folder.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// Size of each CV, KiB.
    #[arg(long, default_value_t = 100)]
    cv_kib: usize,
    /// PostgreSQL server (admin URL) for the PostgreSQL + S3 scenario;
    /// fresh databases are made on it and dropped.
    #[arg(long)]
    database_url: Option<String>,
    /// S3-compatible endpoint (moto, MinIO) for the PostgreSQL + S3 scenario.
    #[arg(long)]
    s3_endpoint: Option<String>,
    /// Bucket on that endpoint (made if missing).
    #[arg(long, default_value = "applicant-vault-bench")]
    s3_bucket: String,
    /// Due applications on PostgreSQL + S3 (an in-memory S3 server holds
    /// every CV in memory).
    #[arg(long, default_value_t = 10_000)]
    s3_count: usize,
    /// Where the data folders go (default: <target>/bench-tmp; a real disk).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

/// Where one copy of the data set lives.
struct Place {
    env: Vec<(&'static str, String)>,
    database_url: String,
    /// The object folder, for a local store.
    folder: Option<PathBuf>,
}

impl Place {
    fn settings(&self) -> Result<Settings> {
        Settings::from_layers(
            None,
            self.env.iter().map(|(k, v)| (k.to_string(), v.clone())),
        )
    }
}

/// Loads `count` due applications (rejected long ago, purge date passed),
/// each with a candidate and one CV object; returns the object keys.
async fn load(place: &Place, count: usize, cv: &Bytes) -> Result<Vec<String>> {
    let bin = service_binary()?;
    run(&bin, &["migrate"], &place.env, Duration::from_secs(120)).await?;
    let settings = place.settings()?;
    let policy = settings.policy()?;
    let db = Database::connect(&place.database_url).await?;
    let now = Utc::now();
    let decided = now - TimeDelta::days(400);
    let job_id = Uuid::now_v7();
    job::Entity::insert(job::ActiveModel {
        id: Set(job_id),
        title: Set("Benchmark engineer".into()),
        country: Set("FR".into()),
        department: Set(None),
        location: Set(None),
        status: Set(applicant_vault::domain::status::JobStatus::Open),
        closed_at: Set(None),
        indeed_job_id: Set(None),
        created_at: Set(decided),
        updated_at: Set(decided),
    })
    .exec(&db)
    .await?;

    let keys: Vec<String> = (0..count).map(|_| Blobs::new_document_key()).collect();
    write_objects(place, &settings, &keys, cv).await?;

    let fingerprint = policy.fingerprint();
    let txn = db.begin().await?;
    for chunk in keys.chunks(500) {
        let mut candidates = Vec::with_capacity(chunk.len());
        let mut applications = Vec::with_capacity(chunk.len());
        let mut documents = Vec::with_capacity(chunk.len());
        for key in chunk {
            let (candidate_id, application_id) = (Uuid::now_v7(), Uuid::now_v7());
            let email = format!("{}@bench.example", candidate_id.simple());
            candidates.push(candidate::ActiveModel {
                id: Set(candidate_id),
                email_normalised: Set(email.clone()),
                created_at: Set(decided),
                updated_at: Set(decided),
                stats_month: Set(None),
            });
            applications.push(application::ActiveModel {
                id: Set(application_id),
                job_id: Set(job_id),
                candidate_id: Set(candidate_id),
                status: Set(applicant_vault::domain::status::ApplicationStatus::Rejected),
                full_name: Set("Bench Candidate".into()),
                email: Set(email),
                phone: Set(None),
                cover_letter: Set(None),
                linkedin_url: Set(None),
                indeed_url: Set(None),
                source: Set(Some("bench".into())),
                stats_source: Set(Some("form".into())),
                privacy_notice_version: Set("2026-01".into()),
                talent_pool_consent: Set(false),
                decided_at: Set(Some(decided)),
                created_at: Set(decided),
                updated_at: Set(decided),
                purge_after: Set(Some(decided + policy.after_decision)),
                reminded_for: Set(None),
                retention_policy: Set(Some(fingerprint.clone())),
                locale: Set(None),
                restricted_at: Set(None),
                provenance: Set(None),
            });
            documents.push(document::ActiveModel {
                id: Set(Uuid::now_v7()),
                application_id: Set(application_id),
                kind: Set(applicant_vault::domain::sniff::DocumentKind::Cv),
                content_type: Set("application/pdf".into()),
                size: Set(cv.len() as i64),
                sha256: Set("0".repeat(64)),
                object_key: Set(key.clone()),
                created_at: Set(decided),
            });
        }
        candidate::Entity::insert_many(candidates)
            .exec(&txn)
            .await?;
        application::Entity::insert_many(applications)
            .exec(&txn)
            .await?;
        document::Entity::insert_many(documents).exec(&txn).await?;
    }
    txn.commit().await?;
    db.close().await?;
    // Nothing of the loading may still be on its way to the disk.
    Command::new("sync").status().await?;
    Ok(keys)
}

async fn write_objects(
    place: &Place,
    settings: &Settings,
    keys: &[String],
    cv: &Bytes,
) -> Result<()> {
    match &place.folder {
        Some(folder) => {
            let folder = folder.clone();
            let keys = keys.to_vec();
            let cv = cv.clone();
            tokio::task::spawn_blocking(move || -> Result<()> {
                for key in keys {
                    let path = folder.join(&key);
                    std::fs::create_dir_all(path.parent().expect("a key has folders"))?;
                    std::fs::write(path, &cv)?;
                }
                Ok(())
            })
            .await?
        }
        None => {
            let blobs = settings.storage.build()?;
            // The store makes its own keys; write under ours through the same path.
            futures_util::stream::iter(keys.iter().cloned())
                .map(|key| {
                    let blobs = blobs.clone();
                    let cv = cv.clone();
                    async move { blobs.put_document(&key, &UploadData::Memory(cv)).await }
                })
                .buffer_unordered(32)
                .try_collect::<Vec<()>>()
                .await?;
            Ok(())
        }
    }
}

/// Runs the service CLI with `env`; its standard output.
async fn run(
    bin: &Path,
    args: &[&str],
    env: &[(&'static str, String)],
    limit: Duration,
) -> Result<String> {
    let mut cmd = Command::new(bin);
    cmd.args(args).kill_on_drop(true);
    configure_env(&mut cmd, env);
    let out = tokio::time::timeout(limit, cmd.output())
        .await
        .context("the service CLI timed out")??;
    if !out.status.success() {
        bail!(
            "`applicant-vault {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The service's purge: seconds.
async fn purge_with_service(place: &Place, count: usize) -> Result<f64> {
    let bin = service_binary()?;
    let started = Instant::now();
    let said = run(&bin, &["purge"], &place.env, Duration::from_secs(3600)).await?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(
        said.contains(&format!("purged {count} applications")),
        "the service said: {said}"
    );
    Ok(seconds)
}

/// The baseline: one `rm` of the files (the store's bulk delete on S3) and
/// plain SQL for the rows, in one transaction: seconds.
async fn purge_with_baseline(place: &Place, keys: &[String]) -> Result<f64> {
    let db = Database::connect(&place.database_url).await?;
    let blobs = place.settings()?.storage.build()?;
    let started = Instant::now();
    match &place.folder {
        Some(folder) => {
            let status = Command::new("rm")
                .arg("-rf")
                .arg(folder.join("documents"))
                .status()
                .await?;
            ensure!(status.success(), "rm failed");
        }
        None => blobs.delete_all(keys).await?,
    }
    let txn = db.begin().await?;
    let due = "SELECT id FROM applications WHERE purge_after <= CURRENT_TIMESTAMP";
    for sql in [
        format!("DELETE FROM documents WHERE application_id IN ({due})"),
        "CREATE TEMPORARY TABLE gone AS SELECT candidate_id FROM applications".to_owned(),
        format!("DELETE FROM applications WHERE id IN ({due})"),
        "DELETE FROM candidates WHERE id IN (SELECT candidate_id FROM gone)".to_owned(),
    ] {
        txn.execute_unprepared(&sql).await?;
    }
    txn.commit().await?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(
        application::Entity::find().count(&db).await? == 0,
        "the baseline left applications"
    );
    db.close().await?;
    Ok(seconds)
}

async fn check_empty(place: &Place, receipts: usize) -> Result<()> {
    let db = Database::connect(&place.database_url).await?;
    ensure!(
        application::Entity::find().count(&db).await? == 0,
        "applications left"
    );
    ensure!(
        document::Entity::find().count(&db).await? == 0,
        "documents left"
    );
    ensure!(
        candidate::Entity::find().count(&db).await? == 0,
        "candidates left"
    );
    let counted = applicant_vault::store::entity::purge_receipt::Entity::find()
        .count(&db)
        .await?;
    ensure!(
        counted as usize == receipts,
        "{counted} receipts, not {receipts}"
    );
    let left: Vec<_> = place
        .settings()?
        .storage
        .build()?
        .list_documents()
        .try_collect()
        .await?;
    ensure!(left.is_empty(), "{} objects left", left.len());
    db.close().await?;
    Ok(())
}

struct Measured {
    scenario: &'static str,
    count: usize,
    service: f64,
    baseline: f64,
}

/// Both sides of one scenario, each on its own copy of the data set.
async fn scenario(
    name: &'static str,
    count: usize,
    cv: &Bytes,
    service: Place,
    baseline: Place,
) -> Result<Measured> {
    eprintln!("{name}: loading {count} applications for the baseline");
    let keys = load(&baseline, count, cv).await?;
    eprintln!("{name}: baseline purging");
    let baseline_secs = purge_with_baseline(&baseline, &keys).await?;
    eprintln!("{name}: loading {count} applications for the service");
    load(&service, count, cv).await?;
    eprintln!("{name}: service purging");
    let service_secs = purge_with_service(&service, count).await?;
    check_empty(&service, count).await?;
    Ok(Measured {
        scenario: name,
        count,
        service: service_secs,
        baseline: baseline_secs,
    })
}

fn local_place(dir: &Path) -> Place {
    let database_url = format!("sqlite://{}/vault.db?mode=rwc", dir.display());
    let folder = dir.join("objects");
    Place {
        env: vec![
            ("APPLICANT_VAULT__DATABASE__URL", database_url.clone()),
            (
                "APPLICANT_VAULT__STORAGE__URL",
                format!("file://{}", folder.display()),
            ),
            (
                "APPLICANT_VAULT__MAIL__DIR",
                format!("{}/mail", dir.display()),
            ),
            ("RUST_LOG", "warn".to_owned()),
        ],
        database_url,
        folder: Some(folder),
    }
}

fn s3_place(args: &Args, endpoint: &str, database_url: String, prefix: &str) -> Place {
    Place {
        env: vec![
            ("APPLICANT_VAULT__DATABASE__URL", database_url.clone()),
            (
                "APPLICANT_VAULT__STORAGE__URL",
                format!("s3://{}/{prefix}", args.s3_bucket),
            ),
            (
                "APPLICANT_VAULT__STORAGE__OPTIONS__AWS_ENDPOINT",
                endpoint.to_owned(),
            ),
            (
                "APPLICANT_VAULT__STORAGE__OPTIONS__AWS_ALLOW_HTTP",
                "true".to_owned(),
            ),
            (
                "APPLICANT_VAULT__STORAGE__OPTIONS__AWS_REGION",
                "us-east-1".to_owned(),
            ),
            (
                "APPLICANT_VAULT__STORAGE__OPTIONS__AWS_ACCESS_KEY_ID",
                "bench".to_owned(),
            ),
            (
                "APPLICANT_VAULT__STORAGE__OPTIONS__AWS_SECRET_ACCESS_KEY",
                "bench".to_owned(),
            ),
            ("RUST_LOG", "warn".to_owned()),
        ],
        database_url,
        folder: None,
    }
}

/// A fresh PostgreSQL database on the server of `admin_url`; its URL.
async fn fresh_database(admin: &DatabaseConnection, admin_url: &str, name: &str) -> Result<String> {
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(base, _)| base);
    Ok(format!("{base}/{name}"))
}

async fn main_inner(args: Args) -> Result<Vec<Measured>> {
    let cv = applicant_vault_bench::pdf::synthetic_pdf(args.cv_kib * 1024);
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| target_dir().join("bench-tmp"));
    std::fs::create_dir_all(&work_dir)?;
    let mut results = Vec::new();
    {
        let service_dir = tempfile::Builder::new()
            .prefix("purge-svc")
            .tempdir_in(&work_dir)?;
        let baseline_dir = tempfile::Builder::new()
            .prefix("purge-base")
            .tempdir_in(&work_dir)?;
        results.push(
            scenario(
                "SQLite + local folder",
                args.count,
                &cv,
                local_place(service_dir.path()),
                local_place(baseline_dir.path()),
            )
            .await?,
        );
    }
    if let (Some(admin_url), Some(endpoint)) = (&args.database_url, &args.s3_endpoint) {
        let http = reqwest::Client::new();
        // Make the bucket (an S3 test server takes an unsigned request).
        let _ = http
            .put(format!("{endpoint}/{}", args.s3_bucket))
            .send()
            .await?;
        let admin = Database::connect(admin_url).await?;
        let pid = std::process::id();
        let service_db = fresh_database(&admin, admin_url, &format!("av_purge_svc_{pid}")).await?;
        let baseline_db =
            fresh_database(&admin, admin_url, &format!("av_purge_base_{pid}")).await?;
        let measured = scenario(
            "PostgreSQL + S3",
            args.s3_count,
            &cv,
            s3_place(&args, endpoint, service_db, &format!("svc-{pid}")),
            s3_place(&args, endpoint, baseline_db, &format!("base-{pid}")),
        )
        .await;
        for name in [
            format!("av_purge_svc_{pid}"),
            format!("av_purge_base_{pid}"),
        ] {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        results.push(measured?);
    }
    Ok(results)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match main_inner(args).await {
        Ok(results) => {
            println!(
                "| scenario | applications | service s | service apps/s | baseline s | baseline apps/s | ratio (service/baseline) |"
            );
            println!("|---|---|---|---|---|---|---|");
            for m in &results {
                let rate = |secs: f64| m.count as f64 / secs;
                println!(
                    "| {} | {} | {:.2} | {:.0} | {:.2} | {:.0} | {:.2} |",
                    m.scenario,
                    m.count,
                    m.service,
                    rate(m.service),
                    m.baseline,
                    rate(m.baseline),
                    rate(m.service) / rate(m.baseline)
                );
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("purge-bench failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}
