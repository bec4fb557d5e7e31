//! Structured logs through tracing. Log lines carry ids, never personal data.

use tracing_subscriber::{EnvFilter, fmt};

/// Logs to stderr (stdout is for command output such as a new key's secret).
/// `RUST_LOG` sets the level; the default is `info`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Logs each request by method, path (ids only: query strings may hold
/// names or emails, so they are left out), status and duration.
pub async fn log_request<E: poem::Endpoint>(
    next: E,
    req: poem::Request,
) -> poem::Result<poem::Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let result = next.get_response(req).await;
    let status = result.status();
    tracing::info!(
        %method,
        path,
        status = status.as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(result)
}
