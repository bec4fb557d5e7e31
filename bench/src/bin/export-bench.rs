//! Data-export benchmark over HTTP: the service binary holds one candidate
//! with 20 applications whose CVs and pictures total 200 MiB, uploaded
//! through its intake; an admin downloads the candidate's archive for a
//! request received by letter (`GET /v1/subject-requests/{id}/export`),
//! against `cat` of the stored files into /dev/null, in the same run and
//! on the same warm page cache. The peak RSS reported is the server's
//! (`VmHWM` of its process, reset after seeding).

use std::{
    path::{Path, PathBuf},
    process::{ExitCode, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use applicant_vault_bench::{
    load::create_job,
    server::{Server, service_binary, target_dir},
};
use bytes::{Bytes, BytesMut};
use clap::Parser;
use reqwest::{
    StatusCode,
    multipart::{Form, Part},
};
use serde_json::{Value, json};
use tokio::process::Command;

const MIB: usize = 1024 * 1024;
const EMAIL: &str = "bench.candidate@example.test";

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

/// A file of exactly `size` bytes that starts like a PDF, or like a PNG.
fn synthetic(picture: bool, size: usize) -> Bytes {
    let pdf = applicant_vault_bench::pdf::synthetic_pdf(size);
    if !picture {
        return pdf;
    }
    let mut png = BytesMut::from(&b"\x89PNG\r\n\x1A\n"[..]);
    png.extend_from_slice(&pdf[png.len()..]);
    png.freeze()
}

/// Uploads `applications` applications of one person through the intake,
/// then records their access request received by letter: its id.
async fn seed(http: &reqwest::Client, server: &Server, args: &Args) -> Result<String> {
    let job_id = create_job(http, server).await?;
    let per_application = args.total_mib * MIB / args.applications;
    let cv = synthetic(false, per_application * 7 / 10);
    let picture = synthetic(true, per_application - cv.len());
    for n in 0..args.applications {
        let part = |bytes: &Bytes, name: &'static str, media_type: &str| {
            Part::stream(bytes.clone())
                .file_name(name)
                .mime_str(media_type)
        };
        let form = Form::new()
            .text("job_id", job_id.clone())
            .text("full_name", "Bench Candidate")
            .text("email", EMAIL)
            .text("privacy_notice_version", "2026-01")
            .part("cv", part(&cv, "cv.pdf", "application/pdf")?)
            .part("picture", part(&picture, "me.png", "image/png")?);
        let answer = http
            .post(format!("{}/v1/applications", server.base_url))
            .bearer_auth(&server.api_key)
            .multipart(form)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .with_context(|| format!("uploading application {n}"))?;
        if answer.status() != StatusCode::CREATED {
            bail!(
                "POST /v1/applications answered {}: {}",
                answer.status(),
                answer.text().await.unwrap_or_default()
            );
        }
    }
    let answer = http
        .post(format!("{}/v1/subject-requests", server.base_url))
        .bearer_auth(&server.api_key)
        .json(
            &json!({ "channel": "letter", "kind": "access", "email": EMAIL,
                       "identity_evidence": "Signed letter" }),
        )
        .send()
        .await?;
    ensure!(
        answer.status() == StatusCode::CREATED,
        "POST /v1/subject-requests answered {}",
        answer.status()
    );
    let request: Value = answer.json().await?;
    request["id"]
        .as_str()
        .map(str::to_owned)
        .context("a request id")
}

/// Every file under `folder`: the objects the service stored.
fn files_under(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                folders.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    Ok(files)
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

/// One download of the archive, read as it streams and dropped: seconds
/// and archive bytes.
async fn export_once(http: &reqwest::Client, server: &Server, request: &str) -> Result<(f64, u64)> {
    let started = Instant::now();
    let answer = http
        .get(format!(
            "{}/v1/subject-requests/{request}/export",
            server.base_url
        ))
        .bearer_auth(&server.api_key)
        .send()
        .await?;
    ensure!(
        answer.status() == StatusCode::OK,
        "the export answered {}",
        answer.status()
    );
    let (mut answer, mut bytes) = (answer, 0);
    while let Some(chunk) = answer.chunk().await? {
        bytes += chunk.len() as u64;
    }
    Ok((started.elapsed().as_secs_f64(), bytes))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Measured {
    bytes: u64,
    archive_bytes: u64,
    cat: f64,
    export: f64,
    rss_before_kib: u64,
    peak_kib: u64,
}

async fn measure(http: &reqwest::Client, server: &Server, args: &Args) -> Result<Measured> {
    eprintln!(
        "uploading {} applications, {} MiB of files",
        args.applications, args.total_mib
    );
    let request = seed(http, server, args).await?;
    let files = files_under(&server.data_dir().join("objects"))?;
    ensure!(
        files.len() == 2 * args.applications,
        "{} files stored, not {}",
        files.len(),
        2 * args.applications
    );
    let bytes = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()))
        .sum::<std::io::Result<u64>>()?;
    Command::new("sync").status().await?;
    // Both sides read from the page cache, warmed by one untimed read.
    cat(&files).await?;
    server.reset_peak_rss()?;
    let rss_before_kib = server.rss_kib()?;
    let (mut cats, mut exports, mut archive_bytes) = (Vec::new(), Vec::new(), 0);
    for round in 1..=args.rounds {
        eprintln!("round {round} of {}", args.rounds);
        cats.push(cat(&files).await?);
        let (seconds, size) = export_once(http, server, &request).await?;
        exports.push(seconds);
        archive_bytes = size;
    }
    let peak_kib = server.peak_rss_kib()?;
    ensure!(
        archive_bytes > bytes,
        "the archive is smaller than its files"
    );
    Ok(Measured {
        bytes,
        archive_bytes,
        cat: median(cats),
        export: median(exports),
        rss_before_kib,
        peak_kib,
    })
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
    let bin = service_binary()?;
    let http = reqwest::Client::new();
    let server = Server::start_service(&bin, &work_dir, &http, None).await?;
    let measured = measure(&http, &server, &args).await;
    server.stop().await?;
    measured
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let (applications, rounds) = (args.applications, args.rounds);
    match main_inner(args).await {
        Ok(m) => {
            let mib = |bytes: u64| bytes as f64 / MIB as f64;
            println!(
                "data export over HTTP: 1 candidate, {applications} applications, {:.0} MiB of files, archive {:.1} MiB; median of {rounds} rounds",
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
                "server peak RSS during the exports: {:.1} MiB ({:.1} MiB before them, +{:.1} MiB)",
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
