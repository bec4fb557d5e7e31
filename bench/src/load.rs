//! The load generator: a closed loop of concurrent clients, bounded in count
//! and time, and the intake's use of it (multipart applications, plus the one
//! setup call, creating a job).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use tokio::task::JoinSet;

use crate::server::Server;
use crate::stats::Summary;

/// How many error messages a phase keeps to show in the report.
const KEPT_ERRORS: usize = 5;

/// Where applications go and what they refer to.
pub struct Target {
    url: String,
    api_key: String,
    job_id: String,
    /// Numbers applicants so every request has a unique name and email.
    next_applicant: AtomicUsize,
}

impl Target {
    /// Prepares to post applications for `job_id` to `server`.
    pub fn new(server: &Server, job_id: String) -> Self {
        Self {
            url: format!("{}/v1/applications", server.base_url),
            api_key: server.api_key.clone(),
            job_id,
            next_applicant: AtomicUsize::new(1),
        }
    }

    /// Posts one application with `pdf` as the CV; returns the latency of a
    /// 201 answer, or a description of what went wrong.
    async fn apply(
        &self,
        http: &reqwest::Client,
        pdf: &Bytes,
        timeout: Duration,
    ) -> Result<Duration, String> {
        let n = self.next_applicant.fetch_add(1, Ordering::Relaxed);
        // `Part::stream` over `Bytes` shares the buffer: no copy per request.
        let cv = Part::stream(pdf.clone())
            .file_name("cv.pdf")
            .mime_str("application/pdf")
            .map_err(|err| err.to_string())?;
        let form = Form::new()
            .text("job_id", self.job_id.clone())
            .text("full_name", format!("Bench Candidate {n}"))
            .text("email", format!("bench{n}@example.test"))
            .text("privacy_notice_version", "2026-01")
            .part("cv", cv);

        let request = http
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .multipart(form)
            .timeout(timeout);
        timed(request, StatusCode::CREATED).await
    }
}

/// Sends `request` and reads the whole answer: the latency when it has the
/// `expected` status, else what went wrong.
pub async fn timed(
    request: reqwest::RequestBuilder,
    expected: StatusCode,
) -> Result<Duration, String> {
    let start = Instant::now();
    let resp = request
        .send()
        .await
        .map_err(|err| format!("request failed: {}", chain(&err)))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|err| format!("reading the answer failed: {}", chain(&err)))?;
    let latency = start.elapsed();
    if status == expected {
        Ok(latency)
    } else {
        let text = String::from_utf8_lossy(&body);
        Err(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        ))
    }
}

/// An error with its causes ("error sending request: ...: connection reset").
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Creates the job the benchmark's applications are for; returns its id.
pub async fn create_job(http: &reqwest::Client, server: &Server) -> Result<String> {
    let resp = http
        .post(format!("{}/v1/jobs", server.base_url))
        .bearer_auth(&server.api_key)
        .json(&serde_json::json!({ "title": "Bench engineer", "country": "DE" }))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .context("POST /v1/jobs failed")?;
    let status = resp.status();
    if status != StatusCode::CREATED {
        bail!(
            "POST /v1/jobs answered {status}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    let job: serde_json::Value = resp
        .json()
        .await
        .context("POST /v1/jobs answered no JSON")?;
    job["id"]
        .as_str()
        .map(str::to_owned)
        .context("POST /v1/jobs answered no \"id\"")
}

/// The outcome of one phase: statistics plus a few sample errors.
pub struct PhaseResult {
    pub summary: Summary,
    /// Requests not sent because the phase ran out of time.
    pub not_sent: usize,
    pub sample_errors: Vec<String>,
}

impl PhaseResult {
    /// Whether anything went wrong in this phase.
    pub fn failed(&self) -> bool {
        self.summary.errors > 0 || self.not_sent > 0
    }
}

/// What one client task saw.
#[derive(Default)]
struct ClientLog {
    latencies: Vec<Duration>,
    errors: usize,
    sample_errors: Vec<String>,
}

impl ClientLog {
    fn record(&mut self, outcome: Result<Duration, String>) {
        match outcome {
            Ok(latency) => self.latencies.push(latency),
            Err(err) => {
                self.errors += 1;
                if self.sample_errors.len() < KEPT_ERRORS {
                    self.sample_errors.push(err);
                }
            }
        }
    }
}

/// Sends `requests` applications from `clients` concurrent clients, each
/// sending back to back, stopping early at `time_limit`.
pub async fn run_load(
    http: &reqwest::Client,
    target: &Arc<Target>,
    pdf: &Bytes,
    clients: usize,
    requests: usize,
    time_limit: Duration,
) -> Result<PhaseResult> {
    let (http, target, pdf) = (http.clone(), target.clone(), pdf.clone());
    run_closed_loop(clients, requests, time_limit, move |_, timeout| {
        let (http, target, pdf) = (http.clone(), target.clone(), pdf.clone());
        async move { target.apply(&http, &pdf, timeout).await }
    })
    .await
}

/// Issues `requests` requests from `clients` concurrent clients, each issuing
/// its next request as soon as the previous one is answered (a closed loop),
/// stopping early at `time_limit`. `request(n, timeout)` makes request number
/// `n` (0-based, across all clients) and returns its latency or what went
/// wrong.
pub async fn run_closed_loop<F, Fut>(
    clients: usize,
    requests: usize,
    time_limit: Duration,
    request: F,
) -> Result<PhaseResult>
where
    F: Fn(usize, Duration) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Duration, String>> + Send,
{
    let issued = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + time_limit;
    let mut tasks = JoinSet::new();
    for _ in 0..clients.max(1) {
        let (request, issued) = (request.clone(), issued.clone());
        tasks.spawn(async move {
            let mut log = ClientLog::default();
            while Instant::now() < deadline {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                log.record(request(n, left.max(Duration::from_millis(1))).await);
            }
            log
        });
    }
    collect(tasks, requests, start).await
}

/// Sends exactly one application from each of `clients` concurrent clients
/// (the big-upload scenario), each allowed `timeout`.
pub async fn run_burst(
    http: &reqwest::Client,
    target: &Arc<Target>,
    pdf: &Bytes,
    clients: usize,
    timeout: Duration,
) -> Result<PhaseResult> {
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let (http, target, pdf) = (http.clone(), target.clone(), pdf.clone());
        tasks.spawn(async move {
            let mut log = ClientLog::default();
            log.record(target.apply(&http, &pdf, timeout).await);
            log
        });
    }
    collect(tasks, clients, start).await
}

/// Waits for every client of a phase and merges what they saw.
async fn collect(
    mut tasks: JoinSet<ClientLog>,
    planned: usize,
    start: Instant,
) -> Result<PhaseResult> {
    let mut all = ClientLog::default();
    while let Some(joined) = tasks.join_next().await {
        let log = joined.context("a client task panicked")?;
        all.latencies.extend(log.latencies);
        all.errors += log.errors;
        let room = KEPT_ERRORS.saturating_sub(all.sample_errors.len());
        all.sample_errors
            .extend(log.sample_errors.into_iter().take(room));
    }
    let elapsed = start.elapsed();
    let done = all.latencies.len() + all.errors;
    Ok(PhaseResult {
        summary: Summary::new(all.latencies, all.errors, elapsed),
        not_sent: planned.saturating_sub(done),
        sample_errors: all.sample_errors,
    })
}
