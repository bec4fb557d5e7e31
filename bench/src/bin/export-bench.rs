//! Data-export benchmark: one candidate with 20 applications whose CVs and
//! pictures total 200 MiB, exported as the ZIP a candidate downloads,
//! against `cat` of the same files into /dev/null, in the same run and on
//! the same warm page cache. The export runs in this process through the
//! library (no HTTP route serves exports on this branch), so the peak RSS
//! reported is this process's (`VmHWM`, reset after seeding).

use std::{
    path::{Path, PathBuf},
    process::{ExitCode, Stdio},
    time::Instant,
};

use anyhow::{Context, Result, ensure};
use applicant_vault::{
    blobs::Blobs,
    clock::Clock,
    config::Settings,
    domain::{
        lang::Lang,
        sniff::DocumentKind,
        status::{ApplicationStatus, JobStatus},
    },
    privacy::export::export,
    services::Services,
    store::entity::{application, candidate, document, job},
};
use applicant_vault_bench::server::{memory_kib, target_dir};
use bytes::{Bytes, BytesMut};
use chrono::Utc;
use clap::Parser;
use futures_util::StreamExt;
use sea_orm::{ActiveValue::Set, EntityTrait};
use sha2::{Digest, Sha256};
use tokio::process::Command;
use uuid::Uuid;

const MIB: usize = 1024 * 1024;

#[derive(Parser)]
#[command(version)]
struct Args {
    /// Applications of the one candidate, each with a CV and a picture.
    #[arg(long, default_value_t = 20)]
    applications: usize,
    /// All files together, MiB (70 % CVs, 30 % pictures).
    #[arg(long, default_value_t = 200)]
    total_mib: usize,
    /// Timed rounds of each side; the median is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Where the data folder goes (default: <target>/bench-tmp; a real disk).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

/// What was seeded: the candidate and the files' paths on disk.
struct Seeded {
    candidate_id: Uuid,
    files: Vec<PathBuf>,
    bytes: u64,
}

fn settings(dir: &Path) -> Result<Settings> {
    let env = [
        (
            "APPLICANT_VAULT__DATABASE__URL",
            format!("sqlite://{}/vault.db?mode=rwc", dir.display()),
        ),
        (
            "APPLICANT_VAULT__STORAGE__URL",
            format!("file://{}/objects", dir.display()),
        ),
        (
            "APPLICANT_VAULT__MAIL__DIR",
            format!("{}/mail", dir.display()),
        ),
    ];
    Settings::from_layers(None, env.map(|(k, v)| (k.to_owned(), v)))
}

/// A file of exactly `size` bytes that starts like a `kind` of its type.
fn synthetic(kind: DocumentKind, size: usize) -> Bytes {
    let pdf = applicant_vault_bench::pdf::synthetic_pdf(size);
    match kind {
        DocumentKind::Cv => pdf,
        DocumentKind::Picture => {
            let mut png = BytesMut::from(&b"\x89PNG\r\n\x1A\n"[..]);
            png.extend_from_slice(&pdf[png.len()..]);
            png.freeze()
        }
    }
}

/// One job, one candidate, `applications` applications with a CV and a
/// picture each, written the way intake stores them (rows, random object keys).
async fn seed(services: &Services, folder: &Path, args: &Args) -> Result<Seeded> {
    let now = Utc::now();
    let per_application = args.total_mib * MIB / args.applications;
    let cv_size = per_application * 7 / 10;
    let files = [
        (
            DocumentKind::Cv,
            "application/pdf",
            synthetic(DocumentKind::Cv, cv_size),
        ),
        (
            DocumentKind::Picture,
            "image/png",
            synthetic(DocumentKind::Picture, per_application - cv_size),
        ),
    ];
    let digests: Vec<String> = files
        .iter()
        .map(|(_, _, bytes)| hex::encode(Sha256::digest(bytes)))
        .collect();
    let db = &services.db;
    let job_id = Uuid::now_v7();
    job::Entity::insert(job::ActiveModel {
        id: Set(job_id),
        title: Set("Benchmark engineer".into()),
        country: Set("NL".into()),
        department: Set(None),
        location: Set(None),
        status: Set(JobStatus::Open),
        closed_at: Set(None),
        indeed_job_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(db)
    .await?;
    let candidate_id = Uuid::now_v7();
    let email = "bench.candidate@example.test".to_owned();
    candidate::Entity::insert(candidate::ActiveModel {
        id: Set(candidate_id),
        email_normalised: Set(email.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        stats_month: Set(None),
    })
    .exec(db)
    .await?;
    let mut seeded = Seeded {
        candidate_id,
        files: Vec::new(),
        bytes: 0,
    };
    for _ in 0..args.applications {
        let application_id = Uuid::now_v7();
        application::Entity::insert(application::ActiveModel {
            id: Set(application_id),
            job_id: Set(job_id),
            candidate_id: Set(candidate_id),
            status: Set(ApplicationStatus::Screening),
            full_name: Set("Bench Candidate".into()),
            email: Set(email.clone()),
            phone: Set(Some("+31 20 000 0000".into())),
            cover_letter: Set(Some("I would like to benchmark exports.".into())),
            linkedin_url: Set(None),
            indeed_url: Set(None),
            source: Set(Some("bench".into())),
            stats_source: Set(None),
            privacy_notice_version: Set("2026-01".into()),
            talent_pool_consent: Set(false),
            provenance: Set(None),
            decided_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            purge_after: Set(Some(now + services.policy.after_inactivity)),
            reminded_for: Set(None),
            retention_policy: Set(Some(services.policy.fingerprint())),
            locale: Set(None),
            restricted_at: Set(None),
        })
        .exec(db)
        .await?;
        for ((kind, content_type, bytes), sha256) in files.iter().zip(&digests) {
            let key = Blobs::new_document_key();
            let path = folder.join(&key);
            std::fs::create_dir_all(path.parent().context("a key has folders")?)?;
            std::fs::write(&path, bytes)?;
            document::Entity::insert(document::ActiveModel {
                id: Set(Uuid::now_v7()),
                application_id: Set(application_id),
                kind: Set(*kind),
                content_type: Set((*content_type).into()),
                size: Set(bytes.len() as i64),
                sha256: Set(sha256.clone()),
                object_key: Set(key),
                created_at: Set(now),
            })
            .exec(db)
            .await?;
            seeded.files.push(path);
            seeded.bytes += bytes.len() as u64;
        }
    }
    Ok(seeded)
}

/// `cat` of every file into /dev/null: seconds.
async fn cat(files: &[PathBuf]) -> Result<f64> {
    let started = Instant::now();
    let status = Command::new("cat")
        .args(files)
        .stdout(Stdio::from(std::fs::File::create("/dev/null")?))
        .status()
        .await?;
    ensure!(status.success(), "cat failed");
    Ok(started.elapsed().as_secs_f64())
}

/// The whole export, read from the body the HTTP layer would send and
/// dropped: seconds and archive bytes.
async fn export_once(services: &Services, candidate_id: Uuid) -> Result<(f64, u64)> {
    let started = Instant::now();
    let mut body = export(services, candidate_id, Lang::En)
        .await?
        .into_body()
        .into_bytes_stream();
    let mut bytes = 0;
    while let Some(chunk) = body.next().await {
        bytes += chunk?.len() as u64;
    }
    Ok((started.elapsed().as_secs_f64(), bytes))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Makes `VmHWM` start again from the current RSS (Linux 4.0 and later).
fn reset_peak_rss() -> Result<()> {
    std::fs::write("/proc/self/clear_refs", "5").context("resetting VmHWM")
}

struct Measured {
    bytes: u64,
    archive_bytes: u64,
    cat: f64,
    export: f64,
    rss_before_kib: u64,
    peak_kib: u64,
}

async fn main_inner(args: Args) -> Result<Measured> {
    ensure!(
        args.applications > 0 && args.rounds > 0,
        "nothing to measure"
    );
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| target_dir().join("bench-tmp"));
    std::fs::create_dir_all(&work_dir)?;
    let dir = tempfile::Builder::new()
        .prefix("export-")
        .tempdir_in(&work_dir)?;
    let services = Services::connect(settings(dir.path())?, Clock::system()).await?;
    eprintln!(
        "seeding {} applications, {} MiB of files",
        args.applications, args.total_mib
    );
    let seeded = seed(&services, &dir.path().join("objects"), &args).await?;
    Command::new("sync").status().await?;
    // Both sides read from the page cache, warmed by one untimed read.
    cat(&seeded.files).await?;
    reset_peak_rss()?;
    let rss_before_kib = memory_kib("self", "VmRSS")?;
    let (mut cats, mut exports, mut archive_bytes) = (Vec::new(), Vec::new(), 0);
    for round in 1..=args.rounds {
        eprintln!("round {round} of {}", args.rounds);
        cats.push(cat(&seeded.files).await?);
        let (seconds, bytes) = export_once(&services, seeded.candidate_id).await?;
        exports.push(seconds);
        archive_bytes = bytes;
    }
    let peak_kib = memory_kib("self", "VmHWM")?;
    ensure!(
        archive_bytes > seeded.bytes,
        "the archive is smaller than its files"
    );
    Ok(Measured {
        bytes: seeded.bytes,
        archive_bytes,
        cat: median(cats),
        export: median(exports),
        rss_before_kib,
        peak_kib,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let (applications, rounds) = (args.applications, args.rounds);
    match main_inner(args).await {
        Ok(m) => {
            let mib = |bytes: u64| bytes as f64 / MIB as f64;
            println!(
                "data export: 1 candidate, {applications} applications, {:.0} MiB of files, archive {:.1} MiB; median of {rounds} rounds",
                mib(m.bytes),
                mib(m.archive_bytes)
            );
            println!("| side | seconds | MiB/s |");
            println!("|---|---|---|");
            for (side, seconds) in [("cat > /dev/null", m.cat), ("export", m.export)] {
                println!("| {side} | {seconds:.3} | {:.0} |", mib(m.bytes) / seconds);
            }
            println!("ratio export/cat (time): {:.2}", m.export / m.cat);
            println!(
                "peak RSS during the exports: {:.1} MiB ({:.1} MiB before them, +{:.1} MiB)",
                m.peak_kib as f64 / 1024.0,
                m.rss_before_kib as f64 / 1024.0,
                m.peak_kib.saturating_sub(m.rss_before_kib) as f64 / 1024.0
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("export-bench failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}
