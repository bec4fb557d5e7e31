//! The read benchmark's printed report: per scenario the baseline's and the
//! service's latencies, their p99 ratio and the PASS/FAIL verdicts.

use std::fmt::Write as _;

use crate::load::PhaseResult;
use crate::stats::ms;

/// Service p99 latency must stay under this many milliseconds.
pub const MAX_P99_MS: f64 = 15.0;
/// Service p99 may be at most this multiple of the baseline's p99.
pub const MAX_P99_RATIO: f64 = 2.0;

/// One scenario measured straight on PostgreSQL and through the service.
pub struct ScenarioResult {
    pub name: &'static str,
    /// Which filter and targets it used, for the reader.
    pub detail: String,
    pub baseline: PhaseResult,
    pub service: PhaseResult,
}

impl ScenarioResult {
    fn p99_ratio(&self) -> f64 {
        ms(self.service.summary.p99) / ms(self.baseline.summary.p99).max(f64::MIN_POSITIVE)
    }
}

/// Everything measured in one run.
pub struct ReadReport {
    /// What the database holds, one line.
    pub dataset: String,
    pub clients: usize,
    pub requests: usize,
    pub scenarios: Vec<ScenarioResult>,
}

impl ReadReport {
    /// Whether any phase had failed or unsent requests.
    pub fn has_errors(&self) -> bool {
        self.scenarios
            .iter()
            .any(|s| s.baseline.failed() || s.service.failed())
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.dataset);
        let _ = writeln!(
            out,
            "{} clients, {} requests per scenario and side; latencies in ms",
            self.clients, self.requests
        );
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}  {:<9} {:<9}",
            "scenario",
            "base p50",
            "base p99",
            "svc p50",
            "svc p99",
            "p99 ratio",
            "svc req/s",
            format!("p99<{MAX_P99_MS:.0}"),
            format!("ratio<={MAX_P99_RATIO:.0}"),
        );
        let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
        for s in &self.scenarios {
            let (b, v) = (&s.baseline.summary, &s.service.summary);
            let ratio = s.p99_ratio();
            let _ = writeln!(
                out,
                "{:<24} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>9.0}  {:<9} {:<9}",
                s.name,
                ms(b.p50),
                ms(b.p99),
                ms(v.p50),
                ms(v.p99),
                ratio,
                v.throughput(),
                verdict(ms(v.p99) < MAX_P99_MS),
                verdict(ratio <= MAX_P99_RATIO),
            );
        }
        for s in &self.scenarios {
            let _ = writeln!(out, "  {}: {}", s.name, s.detail);
        }
        self.render_errors(&mut out);
        out
    }

    fn render_errors(&self, out: &mut String) {
        for s in &self.scenarios {
            for (side, p) in [("baseline", &s.baseline), ("service", &s.service)] {
                if !p.failed() {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "!!! ERRORS in {} ({side}): {} failed, {} not sent (time limit); results above are not valid",
                    s.name, p.summary.errors, p.not_sent
                );
                for err in &p.sample_errors {
                    let _ = writeln!(out, "!!!   {err}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Summary;
    use std::time::Duration;

    fn phase(p99_ms: u64, errors: usize) -> PhaseResult {
        let latencies = (0..100).map(|_| Duration::from_millis(p99_ms)).collect();
        PhaseResult {
            summary: Summary::new(latencies, errors, Duration::from_secs(1)),
            not_sent: 0,
            sample_errors: if errors > 0 {
                vec!["HTTP 500: boom".into()]
            } else {
                vec![]
            },
        }
    }

    fn report(service_p99_ms: u64, errors: usize) -> ReadReport {
        ReadReport {
            dataset: "1000 applications".into(),
            clients: 16,
            requests: 100,
            scenarios: vec![ScenarioResult {
                name: "get by id",
                detail: "random ids".into(),
                baseline: phase(4, 0),
                service: phase(service_p99_ms, errors),
            }],
        }
    }

    #[test]
    fn verdicts_follow_the_targets() {
        let text = report(8, 0).render();
        assert!(text.contains("2.00"), "{text}");
        assert!(text.contains("PASS      PASS"), "{text}");
        let text = report(20, 0).render();
        assert!(text.contains("FAIL      FAIL"), "{text}");
        let text = report(9, 0).render();
        assert!(text.contains("PASS      FAIL"), "{text}");
    }

    #[test]
    fn errors_are_loud() {
        let r = report(8, 3);
        assert!(r.has_errors());
        let text = r.render();
        assert!(text.contains("!!! ERRORS in get by id (service): 3 failed"));
        assert!(text.contains("!!!   HTTP 500: boom"));
        assert!(!report(8, 0).has_errors());
    }
}
