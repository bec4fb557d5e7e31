//! Structured logs through tracing. Log lines carry ids, never personal data.

use tracing_subscriber::{EnvFilter, fmt};

/// Logs to stderr (stdout is for command output such as a new key's secret).
/// `RUST_LOG` sets the level; the default is `info`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
