//! The partner statistics table: what it counts, how one candidate's
//! contribution is bounded, and how a month's release is drawn.
//!
//! # The table
//!
//! For each closed month: per source and job country, the applications
//! made that month, and the same applications by outcome (`hired`,
//! `rejected`, `withdrawn`, or `open` while undecided). Sources are the
//! channels (`form`, `linkedin`, `indeed`, `indeed-apply`) and the labels
//! the operator declares (`stats.sources`); anything else is `other`. The
//! rows and columns are fixed before any data is read (the sources from the
//! settings, the countries from the jobs, which hold no personal data), so
//! a cell's presence reveals nothing; every cell is released, zeros too.
//!
//! # The contribution bound
//!
//! Only a candidate's first application of a month counts (decided at
//! intake, see [`crate::store::stats::claim_month`]), so a candidate adds 1
//! to one `applications` cell and 1 to one outcome cell of that month's
//! release: an L1 contribution of [`SENSITIVITY`] = 2. Every cell gets
//! discrete Laplace noise of scale Δ/ε with Δ = 2, which makes the month's
//! whole release ε-differentially private for each candidate. A candidate
//! who applies in several months is in several releases; each release
//! spends its own ε. A candidate is a normalised email: a person with two
//! addresses, or one who had everything erased and applies again, is a new
//! candidate.

use std::{collections::BTreeMap, fmt};

use chrono::{DateTime, Datelike, TimeZone, Utc};

use super::{
    noise::{Epsilon, NoiseStream, noisy_count},
    status::ApplicationStatus,
};

/// The channels every release has a row for, before configured labels.
pub const CHANNELS: [&str; 4] = ["form", "linkedin", "indeed", "indeed-apply"];

/// The row of sources that are neither a channel nor a declared label.
pub const OTHER: &str = "other";

/// Most one candidate adds to a month's release, summed over its cells.
pub const SENSITIVITY: u32 = 2;

/// A calendar month in UTC, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl Month {
    pub fn of(at: DateTime<Utc>) -> Self {
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    /// `YYYY-MM` with a month of 01 to 12 and a year of 2000 to 9999.
    pub fn parse(text: &str) -> Option<Self> {
        if !super::fields::matches(super::fields::patterns::MONTH, text) {
            return None;
        }
        let (year, month) = text.split_once('-')?;
        Some(Self {
            year: year.parse().ok()?,
            month: month.parse().ok()?,
        })
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                month: self.month + 1,
                ..self
            }
        }
    }

    /// The month `n` months before this one.
    pub fn minus(self, n: u32) -> Self {
        let index = self.year * 12 + self.month as i32 - 1 - n as i32;
        Self {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }

    /// How many months from `self` to `later` (0 when the same).
    pub fn until(self, later: Self) -> i64 {
        i64::from(later.year - self.year) * 12 + i64::from(later.month) - i64::from(self.month)
    }

    /// Its first instant.
    pub fn start(self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .expect("the first of a month at midnight UTC exists")
    }

    /// The first instant after it.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What a cell counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    Applications,
    Hired,
    Rejected,
    Withdrawn,
    Open,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::Applications,
        Measure::Hired,
        Measure::Rejected,
        Measure::Withdrawn,
        Measure::Open,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Applications => "applications",
            Measure::Hired => "hired",
            Measure::Rejected => "rejected",
            Measure::Withdrawn => "withdrawn",
            Measure::Open => "open",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The outcome cell an application with this status counts in: its
    /// final status, or `open`.
    pub fn outcome(status: Option<ApplicationStatus>) -> Self {
        match status {
            Some(ApplicationStatus::Hired) => Measure::Hired,
            Some(ApplicationStatus::Rejected) => Measure::Rejected,
            Some(ApplicationStatus::Withdrawn) => Measure::Withdrawn,
            _ => Measure::Open,
        }
    }
}

/// The source an application counts under: a declared label it named, or
/// the channel it came through.
pub fn source_for(channel: &str, label: Option<&str>, declared: &[String]) -> String {
    match label {
        Some(label) if declared.iter().any(|d| d == label) => label.to_owned(),
        _ => channel.to_owned(),
    }
}

/// The rows and countries of a release, fixed before any count is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    sources: Vec<String>,
    countries: Vec<String>,
}

impl Layout {
    /// The channels, then the declared labels, then `other`; the countries
    /// sorted. Duplicates are dropped.
    pub fn new(declared: &[String], countries: impl IntoIterator<Item = String>) -> Self {
        let mut sources: Vec<String> = CHANNELS.iter().map(|c| (*c).to_owned()).collect();
        for label in declared {
            if !sources.contains(label) && label != OTHER {
                sources.push(label.clone());
            }
        }
        sources.push(OTHER.to_owned());
        let mut countries: Vec<String> = countries.into_iter().collect();
        countries.sort();
        countries.dedup();
        Self { sources, countries }
    }

    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    pub fn countries(&self) -> &[String] {
        &self.countries
    }

    /// The row a stored source counts in.
    fn row(&self, source: &str) -> &str {
        self.sources
            .iter()
            .find(|s| s.as_str() == source)
            .map_or(OTHER, String::as_str)
    }
}

/// The true counts of one month, as read from the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Truth {
    cells: BTreeMap<(String, String, Measure), u64>,
}

impl Truth {
    /// `count` counted applications of `source` for a job in `country`
    /// with this outcome: each adds 1 to its `applications` cell and 1 to
    /// its outcome cell. Sources outside the layout count as `other`;
    /// countries outside it are dropped (none are, as the layout's
    /// countries are those of every job).
    pub fn add(
        &mut self,
        layout: &Layout,
        source: &str,
        country: &str,
        outcome: Measure,
        count: u64,
    ) {
        if !layout.countries.iter().any(|c| c == country) || count == 0 {
            return;
        }
        let row = layout.row(source).to_owned();
        for measure in [Measure::Applications, outcome] {
            *self
                .cells
                .entry((row.clone(), country.to_owned(), measure))
                .or_default() += count;
        }
    }

    fn get(&self, source: &str, country: &str, measure: Measure) -> u64 {
        self.cells
            .get(&(source.to_owned(), country.to_owned(), measure))
            .copied()
            .unwrap_or(0)
    }
}

/// One released cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub source: String,
    pub country: String,
    pub measure: Measure,
    pub value: u64,
}

/// How a release is noised.
#[derive(Clone, Copy)]
pub enum Noise<'a> {
    /// Discrete Laplace of scale [`SENSITIVITY`]/ε, from the secret.
    Laplace {
        secret: &'a [u8; 32],
        epsilon: Epsilon,
    },
    /// Exact counts: only for test configurations.
    Off,
}

/// The label of a cell's noise stream: version, table, month, measure and
/// keys, so that no two counts share their noise.
fn label(month: &str, cell: &Cell) -> String {
    format!(
        "stats-v1|applications|{month}|{}|{}|{}",
        cell.measure.as_str(),
        cell.source,
        cell.country
    )
}

/// Every cell of the layout for `month`, noised: sources × countries ×
/// measures, in that order.
pub fn release(month: &str, layout: &Layout, truth: &Truth, noise: Noise<'_>) -> Vec<Cell> {
    release_with(month, layout, truth, noise, SENSITIVITY)
}

fn release_with(
    month: &str,
    layout: &Layout,
    truth: &Truth,
    noise: Noise<'_>,
    sensitivity: u32,
) -> Vec<Cell> {
    let mut cells =
        Vec::with_capacity(layout.sources.len() * layout.countries.len() * Measure::ALL.len());
    for source in &layout.sources {
        for country in &layout.countries {
            for measure in Measure::ALL {
                let cell = Cell {
                    source: source.clone(),
                    country: country.clone(),
                    measure,
                    value: truth.get(source, country, measure),
                };
                cells.push(noised(month, cell, noise, sensitivity));
            }
        }
    }
    cells
}

/// The cell with its true value replaced by the noisy one.
fn noised(month: &str, mut cell: Cell, noise: Noise<'_>, sensitivity: u32) -> Cell {
    if let Noise::Laplace { secret, epsilon } = noise {
        let mut stream = NoiseStream::new(secret, &label(month, &cell));
        cell.value = noisy_count(cell.value, epsilon, sensitivity, &mut stream);
    }
    cell
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn layout() -> Layout {
        Layout::new(&["jobfair".to_owned()], ["NL".to_owned(), "FR".to_owned()])
    }

    #[test]
    fn months_parse_count_and_bound_their_instants() {
        let month = Month::parse("2026-12").unwrap();
        assert_eq!(month.to_string(), "2026-12");
        assert_eq!(month.next().to_string(), "2027-01");
        assert_eq!(month.minus(12).to_string(), "2025-12");
        assert_eq!(month.minus(0), month);
        assert_eq!(
            Month::parse("2026-01").unwrap().minus(1).to_string(),
            "2025-12"
        );
        assert_eq!(month.minus(13).until(month), 13);
        assert_eq!(month.start().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(month.end().to_rfc3339(), "2027-01-01T00:00:00+00:00");
        assert_eq!(
            Month::of(month.end() - chrono::TimeDelta::nanoseconds(1)),
            month
        );
        for bad in [
            "2026-13",
            "2026-00",
            "26-01",
            "2026-1",
            "2026/01",
            "+026-01",
            "2026-01-01",
            "",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_layout_is_fixed_by_settings_and_countries() {
        let layout = layout();
        assert_eq!(
            layout.sources(),
            [
                "form",
                "linkedin",
                "indeed",
                "indeed-apply",
                "jobfair",
                "other"
            ]
        );
        assert_eq!(layout.countries(), ["FR", "NL"]);
        let cells = release("2026-01", &layout, &Truth::default(), Noise::Off);
        assert_eq!(cells.len(), 6 * 2 * 5);
        assert!(cells.iter().all(|c| c.value == 0));
    }

    #[test]
    fn an_application_counts_once_in_applications_and_once_in_its_outcome() {
        let layout = layout();
        let mut truth = Truth::default();
        truth.add(&layout, "linkedin", "NL", Measure::Hired, 2);
        truth.add(&layout, "linkedin", "NL", Measure::Open, 1);
        truth.add(&layout, "flyer", "FR", Measure::Open, 1);
        truth.add(&layout, "form", "US", Measure::Open, 1);
        let cells = release("2026-01", &layout, &truth, Noise::Off);
        let value = |source: &str, country: &str, measure| {
            cells
                .iter()
                .find(|c| c.source == source && c.country == country && c.measure == measure)
                .unwrap()
                .value
        };
        assert_eq!(value("linkedin", "NL", Measure::Applications), 3);
        assert_eq!(value("linkedin", "NL", Measure::Hired), 2);
        assert_eq!(value("linkedin", "NL", Measure::Open), 1);
        assert_eq!(value("other", "FR", Measure::Applications), 1);
        assert_eq!(cells.iter().map(|c| c.value).sum::<u64>(), 2 * 4);
    }

    #[test]
    fn a_declared_label_wins_over_the_channel() {
        let declared = ["jobfair".to_owned()];
        assert_eq!(source_for("form", Some("jobfair"), &declared), "jobfair");
        assert_eq!(source_for("linkedin", Some("flyer"), &declared), "linkedin");
        assert_eq!(source_for("indeed-apply", None, &declared), "indeed-apply");
    }

    #[test]
    fn the_same_secret_gives_the_same_release_and_another_month_other_noise() {
        let layout = layout();
        let mut truth = Truth::default();
        truth.add(&layout, "form", "NL", Measure::Open, 40);
        let noise = Noise::Laplace {
            secret: &[9; 32],
            epsilon: Epsilon::new(1, 1).unwrap(),
        };
        let first = release("2026-01", &layout, &truth, noise);
        assert_eq!(first, release("2026-01", &layout, &truth, noise));
        let other = release("2026-02", &layout, &truth, noise);
        assert_ne!(first, other, "each month draws its own noise");
        assert!(first.iter().any(|c| c.value != 0), "zeros get noise too");
    }

    /// Releases of neighbouring data (one candidate more, hired, in one
    /// cell) under many secrets: how many show each pair of values of the
    /// two cells the candidate changes. Every other cell has the same truth
    /// and its own independent stream in both, so only these pairs can
    /// tell the two apart; they are drawn as [`release`] draws them.
    fn neighbouring_histograms(
        draws: u32,
        sensitivity: u32,
        epsilon: Epsilon,
    ) -> [HashMap<(u64, u64), u32>; 2] {
        let layout = Layout::new(&[], ["NL".to_owned()]);
        let mut without = Truth::default();
        without.add(&layout, "form", "NL", Measure::Hired, 3);
        let mut with = without.clone();
        with.add(&layout, "form", "NL", Measure::Hired, 1);
        let mut histograms = [HashMap::new(), HashMap::new()];
        for (histogram, truth) in histograms.iter_mut().zip([&without, &with]) {
            for i in 0..draws {
                let mut secret = [0u8; 32];
                secret[..4].copy_from_slice(&i.to_be_bytes());
                secret[4] = u8::from(std::ptr::eq(truth, &with));
                let noise = Noise::Laplace {
                    secret: &secret,
                    epsilon,
                };
                let value = |measure| {
                    let cell = Cell {
                        source: "form".to_owned(),
                        country: "NL".to_owned(),
                        measure,
                        value: truth.get("form", "NL", measure),
                    };
                    noised("2026-01", cell, noise, sensitivity).value
                };
                *histogram
                    .entry((value(Measure::Applications), value(Measure::Hired)))
                    .or_default() += 1;
            }
        }
        histograms
    }

    /// The largest ratio between the two histograms over pairs seen at
    /// least `min` times in both, beyond e^ε, in standard errors of the
    /// log ratio (about sqrt(1/a + 1/b)).
    fn worst_excess(histograms: &[HashMap<(u64, u64), u32>; 2], epsilon: f64, min: u32) -> f64 {
        let [a, b] = histograms;
        let mut worst = f64::NEG_INFINITY;
        for (pair, &count_a) in a {
            let Some(&count_b) = b.get(pair) else {
                continue;
            };
            if count_a < min || count_b < min {
                continue;
            }
            let (x, y) = (f64::from(count_a), f64::from(count_b));
            let log_ratio = (x / y).ln().abs();
            let standard_error = (1.0 / x + 1.0 / y).sqrt();
            worst = worst.max((log_ratio - epsilon) / standard_error);
        }
        worst
    }

    /// The empirical check of the guarantee: with Δ = 2 no pair of values
    /// is more than e^ε likelier under one neighbour than the other (beyond
    /// 4 standard errors), while the same releases drawn with Δ = 1, which
    /// ignores that one candidate reaches two cells, exceed e^ε by far.
    /// Fixed seeds (the secrets are 0..draws), so the test is repeatable.
    #[test]
    fn releases_differing_by_one_candidate_are_within_e_to_the_epsilon() {
        let epsilon = Epsilon::new(1, 1).unwrap();
        let draws = 40_000;
        let bounded = neighbouring_histograms(draws, SENSITIVITY, epsilon);
        let excess = worst_excess(&bounded, epsilon.as_f64(), 200);
        assert!(excess < 4.0, "Δ = 2: excess {excess:.2} standard errors");
        let unbounded = neighbouring_histograms(draws, 1, epsilon);
        let excess = worst_excess(&unbounded, epsilon.as_f64(), 200);
        assert!(excess > 8.0, "Δ = 1 should break ε: excess {excess:.2}");
    }
}
