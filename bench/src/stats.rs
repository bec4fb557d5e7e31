//! Latency and throughput statistics over one measured load phase.

use std::time::Duration;

/// The summary of one load phase.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Requests answered with the expected status.
    pub ok: usize,
    /// Requests answered with another status or that failed outright.
    pub errors: usize,
    /// Wall-clock time of the whole phase.
    pub elapsed: Duration,
    /// Median latency of successful requests.
    pub p50: Duration,
    /// 99th-percentile latency of successful requests.
    pub p99: Duration,
    /// Slowest successful request.
    pub max: Duration,
}

impl Summary {
    /// Summarises the latencies of successful requests of a phase.
    pub fn new(mut latencies: Vec<Duration>, errors: usize, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        Self {
            ok: latencies.len(),
            errors,
            elapsed,
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }

    /// Successful requests per second of wall-clock time.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }
}

/// The nearest-rank percentile `p` (0–100) of already sorted samples; zero for
/// no samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A duration in milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: impl IntoIterator<Item = u64>) -> Vec<Duration> {
        values.into_iter().map(Duration::from_millis).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted = millis(1..=100);
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&sorted, 0.0), Duration::from_millis(1));
    }

    #[test]
    fn empty_and_single_samples() {
        assert_eq!(percentile(&[], 99.0), Duration::ZERO);
        assert_eq!(percentile(&millis([7]), 50.0), Duration::from_millis(7));
    }

    #[test]
    fn summary_sorts_and_counts() {
        let s = Summary::new(millis([30, 10, 20, 40]), 2, Duration::from_secs(2));
        assert_eq!((s.ok, s.errors), (4, 2));
        assert_eq!(s.p50, Duration::from_millis(20));
        assert_eq!(s.max, Duration::from_millis(40));
        assert!((s.throughput() - 2.0).abs() < f64::EPSILON);
    }
}
