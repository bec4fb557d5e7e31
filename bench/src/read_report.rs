//! The read benchmark's printed report: per scenario the baseline's and the
//! service's latencies, their p99 ratio and the PASS/FAIL verdict, then what
//! a request cost each side.

use std::fmt::Write as _;

use crate::load::PhaseResult;
use crate::stats::ms;

/// Service p99 may be at most this multiple of the baseline's p99.
pub const MAX_P99_RATIO: f64 = 1.5;

/// What one side's measured requests cost, per request.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadCost {
    /// CPU milliseconds of PostgreSQL's processes.
    pub postgres_ms: f64,
    /// CPU milliseconds of the service's process (0 for the baseline).
    pub service_ms: f64,
    /// PostgreSQL's WAL syncs (`pg_stat_wal.wal_sync`).
    pub wal_syncs: f64,
}

impl ReadCost {
    fn total_ms(&self) -> f64 {
        self.postgres_ms + self.service_ms
    }
}

/// One scenario measured straight on PostgreSQL and through the service.
pub struct ScenarioResult {
    pub name: &'static str,
    /// Which filter and targets it used, for the reader.
    pub detail: String,
    pub baseline: PhaseResult,
    pub service: PhaseResult,
    pub baseline_cost: ReadCost,
    pub service_cost: ReadCost,
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
            "{:<24} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}  {:<9}",
            "scenario",
            "base p50",
            "base p99",
            "svc p50",
            "svc p99",
            "p99 ratio",
            "svc req/s",
            format!("ratio<={MAX_P99_RATIO}"),
        );
        let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
        for s in &self.scenarios {
            let (b, v) = (&s.baseline.summary, &s.service.summary);
            let ratio = s.p99_ratio();
            let _ = writeln!(
                out,
                "{:<24} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>9.0}  {:<9}",
                s.name,
                ms(b.p50),
                ms(b.p99),
                ms(v.p50),
                ms(v.p99),
                ratio,
                v.throughput(),
                verdict(ratio <= MAX_P99_RATIO),
            );
        }
        let _ = writeln!(
            out,
            "cost per request: CPU ms of PostgreSQL (PG) and of the service, PostgreSQL's WAL syncs"
        );
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>9}",
            "scenario",
            "base PG",
            "svc PG",
            "svc",
            "svc total",
            "cost ratio",
            "base syncs",
            "svc syncs",
        );
        for s in &self.scenarios {
            let (b, v) = (&s.baseline_cost, &s.service_cost);
            let _ = writeln!(
                out,
                "{:<24} {:>8.3} {:>8.3} {:>8.3} {:>9.3} {:>10.2} {:>10.3} {:>9.3}",
                s.name,
                b.postgres_ms,
                v.postgres_ms,
                v.service_ms,
                v.total_ms(),
                v.total_ms() / b.total_ms().max(f64::MIN_POSITIVE),
                b.wal_syncs,
                v.wal_syncs,
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
                baseline_cost: ReadCost {
                    postgres_ms: 0.5,
                    service_ms: 0.0,
                    wal_syncs: 0.0,
                },
                service_cost: ReadCost {
                    postgres_ms: 0.75,
                    service_ms: 0.5,
                    wal_syncs: 0.25,
                },
            }],
        }
    }

    #[test]
    fn verdicts_follow_the_targets() {
        let text = report(6, 0).render();
        assert!(text.contains("1.50"), "{text}");
        assert!(text.contains("PASS"), "{text}");
        let text = report(7, 0).render();
        assert!(text.contains("1.75"), "{text}");
        assert!(text.contains("FAIL") && !text.contains("PASS"), "{text}");
    }

    #[test]
    fn the_cost_of_a_request_is_the_service_and_its_database() {
        let text = report(6, 0).render();
        let row = text
            .lines()
            .filter(|line| line.starts_with("get by id"))
            .nth(1)
            .expect("a cost row");
        let figures: Vec<&str> = row.split_whitespace().skip(3).collect();
        assert_eq!(
            figures,
            ["0.500", "0.750", "0.500", "1.250", "2.50", "0.000", "0.250"],
            "{text}"
        );
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
