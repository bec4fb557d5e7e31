//! The printed report: a table per server, service/baseline ratios, the
//! big-upload memory line and the PASS/FAIL verdict on the targets.

use std::fmt::Write as _;

use crate::cost::Cost;
use crate::load::PhaseResult;
use crate::stats::ms;

/// Service throughput must be at least this share of the baseline's.
pub const MIN_THROUGHPUT_RATIO: f64 = 1.0;
/// Service p99 latency must stay under this multiple of the baseline's.
pub const MAX_P99_RATIO: f64 = 1.2;
/// Service peak RSS in the big-upload scenario must stay under this (MiB).
pub const MAX_RSS_MIB: f64 = 150.0;

/// One phase against one server, with the server's peak RSS afterwards.
pub struct Measured {
    pub phase: PhaseResult,
    pub peak_rss_kib: u64,
    /// What the server spent on the phase (the load phase only).
    pub cost: Option<Cost>,
}

impl Measured {
    fn rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// Everything measured in one benchmark run.
pub struct Report {
    pub clients: usize,
    pub requests: usize,
    pub cv_bytes: usize,
    pub big_clients: usize,
    pub big_bytes: usize,
    pub baseline: Option<Measured>,
    pub service: Option<Measured>,
    pub baseline_big: Option<Measured>,
    pub service_big: Option<Measured>,
}

impl Report {
    /// Whether any phase had failed or unsent requests.
    pub fn has_errors(&self) -> bool {
        self.phases().any(|(_, m)| m.phase.failed())
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let kib = self.cv_bytes / 1024;
        let _ = writeln!(
            out,
            "intake, {} clients, {} requests, {kib} KiB PDF",
            self.clients, self.requests
        );
        let _ = writeln!(
            out,
            "{:<10} {:>9} {:>8} {:>8} {:>14} {:>8}",
            "", "apps/s", "p50 ms", "p99 ms", "peak RSS MiB", "errors"
        );
        for (name, m) in [("baseline", &self.baseline), ("service", &self.service)] {
            if let Some(m) = m {
                let s = &m.phase.summary;
                let errors = s.errors + m.phase.not_sent;
                let _ = writeln!(
                    out,
                    "{name:<10} {:>9.1} {:>8.1} {:>8.1} {:>14.1} {errors:>8}",
                    s.throughput(),
                    ms(s.p50),
                    ms(s.p99),
                    m.rss_mib()
                );
            }
        }
        if let Some((throughput, p99)) = self.ratios() {
            let _ = writeln!(
                out,
                "ratio service/baseline: throughput {throughput:.2}, p99 {p99:.2}"
            );
        }
        self.render_costs(&mut out);
        self.render_big(&mut out);
        self.render_targets(&mut out);
        self.render_errors(&mut out);
        out
    }

    /// Service/baseline throughput and p99 ratios, when both ran.
    fn ratios(&self) -> Option<(f64, f64)> {
        let (b, s) = (
            &self.baseline.as_ref()?.phase.summary,
            &self.service.as_ref()?.phase.summary,
        );
        let throughput = s.throughput() / b.throughput().max(f64::MIN_POSITIVE);
        let p99 = ms(s.p99) / ms(b.p99).max(f64::MIN_POSITIVE);
        Some((throughput, p99))
    }

    /// Per application: CPU time and syncs of each server, and their
    /// ratio; figures this machine's noise does not blur.
    fn render_costs(&self, out: &mut String) {
        let cost = |m: &Option<Measured>| m.as_ref().and_then(|m| m.cost);
        for (name, c) in [
            ("baseline", cost(&self.baseline)),
            ("service", cost(&self.service)),
        ] {
            if let Some(c) = c {
                let _ = writeln!(out, "{name} cost per application: {}", c.per_request());
            }
        }
        if let (Some(b), Some(s)) = (cost(&self.baseline), cost(&self.service)) {
            let syncs = match (b.syncs_per_request(), s.syncs_per_request()) {
                (Some(b), Some(s)) if b > 0.0 => format!(", fsyncs {:.2}", s / b),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "cost ratio service/baseline: CPU {:.2}{syncs}",
                s.cpu_ms_per_request() / b.cpu_ms_per_request().max(f64::MIN_POSITIVE)
            );
        }
    }

    fn render_big(&self, out: &mut String) {
        let mut parts = Vec::new();
        if let Some(m) = &self.service_big {
            parts.push(format!(
                "service peak RSS {:.0} MiB (target < {MAX_RSS_MIB:.0})",
                m.rss_mib()
            ));
        }
        if let Some(m) = &self.baseline_big {
            parts.push(format!("baseline {:.0} MiB", m.rss_mib()));
        }
        if !parts.is_empty() {
            let mib = self.big_bytes / (1024 * 1024);
            let _ = writeln!(
                out,
                "{} concurrent {mib} MiB uploads: {}",
                self.big_clients,
                parts.join(", ")
            );
        }
    }

    fn render_targets(&self, out: &mut String) {
        let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
        let mut checks = Vec::new();
        if let Some((throughput, _)) = self.ratios() {
            checks.push(format!(
                "throughput >= {MIN_THROUGHPUT_RATIO}x baseline: {}",
                verdict(throughput >= MIN_THROUGHPUT_RATIO)
            ));
        }
        if let Some((_, p99)) = self.ratios() {
            checks.push(format!(
                "p99 <= {MAX_P99_RATIO}x baseline: {}",
                verdict(p99 <= MAX_P99_RATIO)
            ));
        }
        if let Some(m) = &self.service_big {
            checks.push(format!(
                "RSS < {MAX_RSS_MIB:.0} MiB: {}",
                verdict(m.rss_mib() < MAX_RSS_MIB)
            ));
        }
        if checks.is_empty() {
            let _ = writeln!(out, "targets: not checked (the service did not run)");
        } else {
            let _ = writeln!(out, "targets: {}", checks.join("; "));
        }
    }

    fn render_errors(&self, out: &mut String) {
        for (label, m) in self.phases().filter(|(_, m)| m.phase.failed()) {
            let p = &m.phase;
            let _ = writeln!(
                out,
                "!!! ERRORS in {label}: {} failed, {} not sent (time limit); results above are not valid",
                p.summary.errors, p.not_sent
            );
            for err in &p.sample_errors {
                let _ = writeln!(out, "!!!   {err}");
            }
        }
    }

    /// Every phase that ran, with a label.
    fn phases(&self) -> impl Iterator<Item = (&'static str, &Measured)> {
        [
            ("baseline load", &self.baseline),
            ("service load", &self.service),
            ("baseline big uploads", &self.baseline_big),
            ("service big uploads", &self.service_big),
        ]
        .into_iter()
        .filter_map(|(label, m)| m.as_ref().map(|m| (label, m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Summary;
    use std::time::Duration;

    fn measured(ok: u64, p99_ms: u64, errors: usize, rss_mib: u64) -> Measured {
        let latencies = (0..ok).map(|_| Duration::from_millis(p99_ms)).collect();
        let summary = Summary::new(latencies, errors, Duration::from_secs(1));
        let phase = PhaseResult {
            summary,
            not_sent: 0,
            sample_errors: vec!["HTTP 500: boom".into()],
        };
        Measured {
            phase,
            peak_rss_kib: rss_mib * 1024,
            cost: None,
        }
    }

    fn report() -> Report {
        Report {
            clients: 32,
            requests: 100,
            cv_bytes: 200 * 1024,
            big_clients: 64,
            big_bytes: 10 * 1024 * 1024,
            baseline: Some(measured(100, 20, 0, 30)),
            service: Some(measured(110, 22, 0, 60)),
            baseline_big: Some(measured(64, 900, 0, 40)),
            service_big: Some(measured(64, 900, 0, 80)),
        }
    }

    #[test]
    fn passing_run() {
        let text = report().render();
        assert!(
            text.contains("ratio service/baseline: throughput 1.10, p99 1.10"),
            "{text}"
        );
        assert!(text.contains(
            "64 concurrent 10 MiB uploads: service peak RSS 80 MiB (target < 150), baseline 40 MiB"
        ));
        assert!(text.contains(
            "targets: throughput >= 1x baseline: PASS; p99 <= 1.2x baseline: PASS; RSS < 150 MiB: PASS"
        ));
        assert!(!text.contains("!!!"));
    }

    #[test]
    fn errors_are_loud() {
        let mut r = report();
        r.service = Some(measured(50, 80, 3, 60));
        assert!(r.has_errors());
        let text = r.render();
        assert!(
            text.contains("throughput >= 1x baseline: FAIL; p99 <= 1.2x baseline: FAIL"),
            "{text}"
        );
        assert!(text.contains("!!! ERRORS in service load: 3 failed"));
        assert!(text.contains("!!!   HTTP 500: boom"));
    }

    #[test]
    fn costs_per_application_and_their_ratio() {
        let mut r = report();
        let cost = |cpu_seconds, syncs| {
            Some(Cost {
                cpu_seconds,
                syncs,
                requests: 100,
            })
        };
        r.baseline.as_mut().unwrap().cost = cost(0.2, Some(200));
        r.service.as_mut().unwrap().cost = cost(0.5, Some(100));
        let text = r.render();
        assert!(
            text.contains("baseline cost per application: 2.00 ms CPU, 2.00 fsyncs"),
            "{text}"
        );
        assert!(text.contains("service cost per application: 5.00 ms CPU, 1.00 fsyncs"));
        assert!(text.contains("cost ratio service/baseline: CPU 2.50, fsyncs 0.50"));
        r.service.as_mut().unwrap().cost = cost(0.5, None);
        let text = r.render();
        assert!(text.contains("service cost per application: 5.00 ms CPU, n/a fsyncs"));
        assert!(
            text.contains("cost ratio service/baseline: CPU 2.50\n"),
            "{text}"
        );
    }

    #[test]
    fn baseline_only_skips_targets() {
        let mut r = report();
        (r.service, r.service_big) = (None, None);
        let text = r.render();
        assert!(text.contains("targets: not checked"));
        assert!(!text.contains("ratio"));
    }
}
