//! The retention contract as pure functions of an application's facts, the
//! policy and the time: when its data must go, and why.

use chrono::{DateTime, TimeDelta, Utc};
use poem_openapi::Enum;

use crate::domain::status::ApplicationStatus;

/// What a consent says about keeping an application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
pub enum ConsentKind {
    /// Keep it `consent.extension` longer (never past `consent.max_total`).
    #[default]
    Extension,
    /// Delete it now.
    Erasure,
    /// Consent withdrawn (or the talent pool objected to): the extensions
    /// and the talent-pool consent given before it no longer count.
    Withdrawal,
}

stored_as_text!(ConsentKind {
    Extension => "extension",
    Erasure => "erasure",
    Withdrawal => "withdrawal",
});

/// Parses a duration in human form: a whole number and a unit, `s`, `m`,
/// `h`, `d` or `w` (`180d`, `26w`, `2s`).
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit (s, m, h, d or w)"))?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h, d or w")),
    };
    number
        .checked_mul(seconds)
        .and_then(TimeDelta::try_seconds)
        .filter(|d| *d <= TimeDelta::days(100 * 365))
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// An override of the default period: the most specific match wins (job
/// country and outcome, then outcome alone, then country alone; the first
/// listed among equals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub country: Option<String>,
    pub outcome: Option<ApplicationStatus>,
    pub after: TimeDelta,
}

impl Rule {
    fn specificity(&self) -> u8 {
        match (&self.country, &self.outcome) {
            (Some(_), Some(_)) => 3,
            (None, Some(_)) => 2,
            (Some(_), None) => 1,
            (None, None) => 0,
        }
    }

    fn matches(&self, country: &str, outcome: Option<ApplicationStatus>) -> bool {
        self.country.as_deref().is_none_or(|c| c == country)
            && self.outcome.is_none_or(|o| Some(o) == outcome)
    }

    /// How the rule is named on an application and in receipts.
    pub fn name(&self, index: usize) -> String {
        let mut parts = Vec::new();
        if let Some(country) = &self.country {
            parts.push(format!("country={country}"));
        }
        if let Some(outcome) = self.outcome {
            parts.push(format!("outcome={}", outcome.as_str()));
        }
        format!("rules[{index}]({})", parts.join(","))
    }
}

/// Which part of the policy decides an application's purge date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetentionRule {
    /// `retention.after_decision` from the end of the procedure.
    AfterDecision,
    /// `retention.after_inactivity` from the last activity, while it runs.
    AfterInactivity,
    /// One of `retention.rules`, by its name (see [`Rule::name`]).
    Configured(String),
    /// A consent keeps it longer.
    Consent,
    /// The candidate asked for it to go.
    Erasure,
}

impl RetentionRule {
    /// As applications, previews and receipts show it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AfterDecision => "after_decision",
            Self::AfterInactivity => "after_inactivity",
            Self::Configured(name) => name,
            Self::Consent => "consent",
            Self::Erasure => "erasure",
        }
    }
}

impl std::fmt::Display for RetentionRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RetentionRule {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub after_decision: TimeDelta,
    pub after_inactivity: TimeDelta,
    pub rules: Vec<Rule>,
    pub extension: TimeDelta,
    pub max_total: TimeDelta,
    pub reminder_before: TimeDelta,
}

/// What the retention of one application depends on.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub status: Option<ApplicationStatus>,
    pub decided_at: Option<DateTime<Utc>>,
    pub job_country: String,
    pub job_closed_at: Option<DateTime<Utc>>,
    /// The last move out of rejected or withdrawn.
    pub reopened_at: Option<DateTime<Utc>>,
    pub last_activity: DateTime<Utc>,
    pub talent_pool_consent: bool,
    /// When the candidate (or a recruiter for them) extended consent; only
    /// the latest counts, since every extension runs from its grant.
    pub extensions: Vec<DateTime<Utc>>,
    /// When the candidate asked to be deleted now.
    pub erase_requested_at: Option<DateTime<Utc>>,
    /// When the candidate last withdrew their consent.
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub hold: Option<Hold>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    pub until: Option<DateTime<Utc>>,
}

/// When an application's data goes, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    pub rule: RetentionRule,
    /// When the procedure ended for it; none while it runs.
    pub clock_start: Option<DateTime<Utc>>,
    pub period: TimeDelta,
    /// Until when consent keeps it, if it does.
    pub extended_until: Option<DateTime<Utc>>,
    pub purge_after: DateTime<Utc>,
    /// A legal hold stops the purge while it lasts.
    pub held: bool,
}

impl Retention {
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        !self.held && self.purge_after <= now
    }

    /// Whether the candidate should be reminded now: within `reminder_before`
    /// of the purge, not held, and not yet reminded of this date.
    pub fn wants_reminder(
        &self,
        policy: &Policy,
        now: DateTime<Utc>,
        reminded_for: Option<DateTime<Utc>>,
    ) -> bool {
        !self.held
            && self.rule != RetentionRule::Erasure
            && now < self.purge_after
            && self.purge_after - policy.reminder_before <= now
            && reminded_for != Some(self.purge_after)
    }
}

impl Policy {
    /// Names this policy: purge dates computed under another one are stale.
    ///
    /// Over an encoding of its own, versioned, in seconds: a new release of a
    /// dependency cannot change it (which would recompute every purge date).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(self.canonical().as_bytes())[..8])
    }

    fn canonical(&self) -> String {
        let rules: Vec<String> = self
            .rules
            .iter()
            .map(|rule| {
                format!(
                    "{}/{}/{}",
                    rule.country.as_deref().unwrap_or("*"),
                    rule.outcome.map_or("*", |o| o.as_str()),
                    rule.after.num_seconds()
                )
            })
            .collect();
        format!(
            "policy-v1;after_decision={};after_inactivity={};extension={};max_total={};reminder_before={};rules=[{}]",
            self.after_decision.num_seconds(),
            self.after_inactivity.num_seconds(),
            self.extension.num_seconds(),
            self.max_total.num_seconds(),
            self.reminder_before.num_seconds(),
            rules.join(",")
        )
    }

    /// The purge date an extension granted at `at` would give.
    pub fn extended_at(&self, facts: &Facts, at: DateTime<Utc>) -> DateTime<Utc> {
        let mut extended = facts.clone();
        extended.extensions.push(at);
        self.retention(&extended, at).purge_after
    }

    pub fn retention(&self, facts: &Facts, now: DateTime<Utc>) -> Retention {
        let clock_start = clock_start(facts);
        let (rule, period, base) = match clock_start {
            Some(start) => {
                let outcome = facts.status.filter(|s| s.is_final());
                let chosen = self
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, rule)| rule.matches(&facts.job_country, outcome))
                    // max_by_key keeps the last of equals; reversed, the first listed.
                    .rev()
                    .max_by_key(|(_, rule)| rule.specificity());
                match chosen {
                    Some((index, rule)) => (
                        RetentionRule::Configured(rule.name(index)),
                        rule.after,
                        start + rule.after,
                    ),
                    None => (
                        RetentionRule::AfterDecision,
                        self.after_decision,
                        start + self.after_decision,
                    ),
                }
            }
            None => (
                RetentionRule::AfterInactivity,
                self.after_inactivity,
                facts.last_activity + self.after_inactivity,
            ),
        };
        let reference = clock_start.unwrap_or(facts.last_activity);
        let cap = reference + self.max_total;
        // An erasure request beats every consent given before it, the
        // talent-pool consent of the form included (given at intake, so
        // always before): only an extension recorded after it counts again.
        // A withdrawal does the same to the consents before it, and puts
        // the application back on its schedule.
        let erase = facts.erase_requested_at;
        let revoked = erase.max(facts.withdrawn_at);
        let grants: Vec<DateTime<Utc>> = match revoked {
            Some(revoked) => facts
                .extensions
                .iter()
                .copied()
                .filter(|at| *at > revoked)
                .collect(),
            None => facts
                .extensions
                .iter()
                .copied()
                .chain(clock_start.filter(|_| facts.talent_pool_consent))
                .collect(),
        };
        let extended_until = grants
            .iter()
            .map(|at| (*at + self.extension).min(cap))
            .max();
        let (rule, purge_after) = match (erase, extended_until) {
            (Some(erase), None) => (RetentionRule::Erasure, erase),
            (_, Some(until)) if until > base => (RetentionRule::Consent, until),
            _ => (rule, base),
        };
        let held = facts
            .hold
            .as_ref()
            .is_some_and(|hold| hold.until.is_none_or(|until| until > now));
        Retention {
            rule,
            clock_start,
            period,
            extended_until,
            purge_after,
            held,
        }
    }
}

/// The procedure ends at the final status or the job's closing, whichever
/// comes first; a reopening stops the clock (a closing before it no longer
/// counts).
fn clock_start(facts: &Facts) -> Option<DateTime<Utc>> {
    let after_reopening = |at: &DateTime<Utc>| facts.reopened_at.is_none_or(|r| *at > r);
    let decided = facts
        .decided_at
        .filter(|_| facts.status.is_some_and(|s| s.is_final()));
    let closed = facts.job_closed_at.filter(after_reopening);
    decided.into_iter().chain(closed).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationStatus::*;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::days(day)
    }

    fn policy() -> Policy {
        Policy {
            after_decision: TimeDelta::days(180),
            after_inactivity: TimeDelta::days(365),
            rules: vec![
                Rule {
                    country: Some("DE".into()),
                    outcome: None,
                    after: TimeDelta::days(90),
                },
                Rule {
                    country: None,
                    outcome: Some(Rejected),
                    after: TimeDelta::days(120),
                },
                Rule {
                    country: Some("DE".into()),
                    outcome: Some(Rejected),
                    after: TimeDelta::days(30),
                },
                Rule {
                    country: None,
                    outcome: Some(Rejected),
                    after: TimeDelta::days(999),
                },
            ],
            extension: TimeDelta::days(365),
            max_total: TimeDelta::days(730),
            reminder_before: TimeDelta::days(14),
        }
    }

    fn decided(status: ApplicationStatus, day: i64, country: &str) -> Facts {
        Facts {
            status: Some(status),
            decided_at: Some(at(day)),
            job_country: country.into(),
            last_activity: at(day),
            ..Facts::default()
        }
    }

    #[test]
    fn durations_read_in_human_form() {
        assert_eq!(parse_duration("180d"), Ok(TimeDelta::days(180)));
        assert_eq!(parse_duration("26w"), Ok(TimeDelta::weeks(26)));
        assert_eq!(parse_duration("2s"), Ok(TimeDelta::seconds(2)));
        assert_eq!(parse_duration(" 1h "), Ok(TimeDelta::hours(1)));
        assert_eq!(parse_duration("30m"), Ok(TimeDelta::minutes(30)));
        for bad in ["", "d", "10", "1.5d", "-3d", "3y", "99999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_most_specific_rule_wins_and_the_first_listed_among_equals() {
        let p = policy();
        let de_rejected = p.retention(&decided(Rejected, 0, "DE"), at(0));
        assert_eq!(de_rejected.purge_after, at(30));
        assert_eq!(de_rejected.rule, "rules[2](country=DE,outcome=rejected)");
        let fr_rejected = p.retention(&decided(Rejected, 0, "FR"), at(0));
        assert_eq!(
            (fr_rejected.purge_after, fr_rejected.rule.as_str()),
            (at(120), "rules[1](outcome=rejected)")
        );
        let de_hired = p.retention(&decided(Hired, 0, "DE"), at(0));
        assert_eq!(
            (de_hired.purge_after, de_hired.rule.as_str()),
            (at(90), "rules[0](country=DE)")
        );
        let fr_hired = p.retention(&decided(Hired, 0, "FR"), at(0));
        assert_eq!(
            (fr_hired.purge_after, fr_hired.rule.as_str()),
            (at(180), "after_decision")
        );
        assert_eq!(fr_hired.clock_start, Some(at(0)));
        assert_eq!(fr_hired.period, TimeDelta::days(180));
    }

    #[test]
    fn the_clock_starts_at_the_decision_or_the_job_closing_whichever_comes_first() {
        let p = policy();
        let mut facts = decided(Withdrawn, 10, "FR");
        facts.job_closed_at = Some(at(4));
        assert_eq!(p.retention(&facts, at(10)).clock_start, Some(at(4)));
        let open = Facts {
            status: Some(Screening),
            job_country: "FR".into(),
            job_closed_at: Some(at(4)),
            last_activity: at(2),
            ..Facts::default()
        };
        let retention = p.retention(&open, at(5));
        assert_eq!(
            (retention.clock_start, retention.purge_after),
            (Some(at(4)), at(184))
        );
    }

    #[test]
    fn without_a_decision_the_inactivity_period_applies_and_reopening_stops_the_clock() {
        let p = policy();
        let running = Facts {
            status: Some(Interview),
            job_country: "FR".into(),
            last_activity: at(3),
            ..Facts::default()
        };
        let retention = p.retention(&running, at(3));
        assert_eq!(
            (
                retention.rule.as_str(),
                retention.purge_after,
                retention.clock_start
            ),
            ("after_inactivity", at(368), None)
        );
        let reopened = Facts {
            status: Some(Screening),
            decided_at: None,
            job_closed_at: Some(at(1)),
            reopened_at: Some(at(2)),
            ..running
        };
        assert_eq!(
            p.retention(&reopened, at(3)).clock_start,
            None,
            "the closing came before the reopening"
        );
    }

    #[test]
    fn consent_extends_from_its_grant_capped_at_max_total_from_the_clock_start() {
        let p = policy();
        let mut facts = decided(Hired, 0, "FR");
        facts.extensions = vec![at(170)];
        let retention = p.retention(&facts, at(170));
        assert_eq!(
            (retention.rule.as_str(), retention.purge_after),
            ("consent", at(535))
        );
        facts.extensions.push(at(500));
        assert_eq!(p.retention(&facts, at(500)).purge_after, at(730), "capped");
        let pool = Facts {
            talent_pool_consent: true,
            ..decided(Hired, 0, "FR")
        };
        assert_eq!(
            p.retention(&pool, at(0)).purge_after,
            at(365),
            "talent pool consent counts once from the clock start"
        );
        let running_pool = Facts {
            status: Some(New),
            talent_pool_consent: true,
            last_activity: at(0),
            ..Facts::default()
        };
        assert_eq!(p.retention(&running_pool, at(0)).rule, "after_inactivity");
    }

    #[test]
    fn erasure_takes_it_now_unless_consent_was_given_again_later() {
        let p = policy();
        let mut facts = decided(Hired, 0, "FR");
        facts.extensions = vec![at(170)];
        facts.erase_requested_at = Some(at(171));
        let retention = p.retention(&facts, at(171));
        assert_eq!(
            (retention.rule.as_str(), retention.purge_after),
            ("erasure", at(171))
        );
        assert!(retention.is_due(at(171)));
        facts.extensions.push(at(172));
        assert_eq!(p.retention(&facts, at(172)).rule, "consent");
    }

    /// What can happen to an application after intake, in any order.
    #[derive(Clone, Copy, Debug)]
    enum Event {
        Extension,
        Erasure,
        Decision,
        Reopening,
        JobClosed,
        JobReopened,
    }

    fn permutations(items: &[Event]) -> Vec<Vec<Event>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut all = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let first = rest.remove(i);
            for mut tail in permutations(&rest) {
                tail.insert(0, first);
                all.push(tail);
            }
        }
        all
    }

    #[test]
    fn an_erasure_beats_every_earlier_consent_in_every_order_of_events() {
        use Event::*;
        let p = policy();
        let events = [
            Extension,
            Erasure,
            Decision,
            Reopening,
            JobClosed,
            JobReopened,
        ];
        let mut checked = 0;
        for order in permutations(&events) {
            // Also with the extension left out, and with an extension both
            // before and after the erasure.
            for extensions_after in [false, true] {
                for talent_pool_consent in [false, true] {
                    let mut facts = Facts {
                        status: Some(New),
                        job_country: "FR".into(),
                        last_activity: at(0),
                        talent_pool_consent,
                        ..Facts::default()
                    };
                    for (i, event) in order.iter().enumerate() {
                        let t = at(10 * (i as i64 + 1));
                        match event {
                            Extension => facts.extensions = vec![t],
                            Erasure => facts.erase_requested_at = Some(t),
                            Decision if !facts.status.unwrap().is_final() => {
                                facts.status = Some(Rejected);
                                facts.decided_at = Some(t);
                            }
                            Reopening if facts.status.unwrap().is_final() => {
                                facts.status = Some(Screening);
                                facts.decided_at = None;
                                facts.reopened_at = Some(t);
                            }
                            JobClosed => facts.job_closed_at = Some(t),
                            JobReopened => facts.job_closed_at = None,
                            _ => {}
                        }
                        facts.last_activity = t;
                    }
                    let end = at(100);
                    if extensions_after {
                        facts.extensions.push(end);
                    }
                    let erase = facts.erase_requested_at.unwrap();
                    let retention = p.retention(&facts, end);
                    let later_consent = facts.extensions.iter().any(|g| *g > erase);
                    if later_consent {
                        assert_ne!(retention.rule, "erasure", "{order:?} {facts:?}");
                    } else {
                        assert_eq!(
                            (retention.rule.as_str(), retention.purge_after),
                            ("erasure", erase),
                            "{order:?} pool={talent_pool_consent}"
                        );
                        assert!(retention.is_due(end));
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 720 * 4);
    }

    #[test]
    fn a_hold_stops_the_purge_until_it_is_lifted_or_runs_out() {
        let p = policy();
        let mut facts = decided(Rejected, 0, "DE");
        facts.hold = Some(Hold { until: None });
        assert!(!p.retention(&facts, at(100)).is_due(at(100)));
        facts.hold = Some(Hold {
            until: Some(at(50)),
        });
        assert!(!p.retention(&facts, at(49)).is_due(at(49)));
        assert!(p.retention(&facts, at(50)).is_due(at(50)));
        facts.hold = None;
        assert!(p.retention(&facts, at(30)).is_due(at(30)));
        assert!(!p.retention(&facts, at(29)).is_due(at(29)));
    }

    #[test]
    fn one_reminder_per_purge_date_within_the_window() {
        let p = policy();
        let retention = p.retention(&decided(Rejected, 0, "DE"), at(0));
        assert!(!retention.wants_reminder(&p, at(15), None));
        assert!(retention.wants_reminder(&p, at(16), None));
        assert!(!retention.wants_reminder(&p, at(16), Some(at(30))));
        assert!(
            retention.wants_reminder(&p, at(16), Some(at(20))),
            "a new date, a new reminder"
        );
        assert!(
            !retention.wants_reminder(&p, at(30), None),
            "due, not reminded"
        );
        let held = Retention {
            held: true,
            ..retention
        };
        assert!(!held.wants_reminder(&p, at(16), None));
    }

    #[test]
    fn an_extension_offered_now_is_what_granting_it_gives() {
        let policy = policy();
        let facts = decided(Hired, 0, "FR");
        // Within the cap: a year from the grant.
        assert_eq!(policy.extended_at(&facts, at(170)), at(170 + 365));
        // Near the cap: never past two years from the clock start.
        assert_eq!(policy.extended_at(&facts, at(600)), at(730));
        let mut granted = facts.clone();
        granted.extensions.push(at(170));
        assert_eq!(policy.retention(&granted, at(171)).purge_after, at(535));
    }

    #[test]
    fn the_fingerprint_changes_with_the_policy() {
        let mut other = policy();
        assert_eq!(policy().fingerprint(), other.fingerprint());
        other.after_decision = TimeDelta::days(181);
        assert_ne!(policy().fingerprint(), other.fingerprint());
        assert_eq!(policy().fingerprint().len(), 16);
        other = policy();
        other.rules[0].after += TimeDelta::seconds(1);
        assert_ne!(policy().fingerprint(), other.fingerprint());
    }

    /// The encoding is the project's own: this value may only change with a
    /// new version prefix, knowing that every purge date is then recomputed.
    #[test]
    fn the_fingerprint_is_stable() {
        let policy = Policy {
            after_decision: TimeDelta::days(180),
            after_inactivity: TimeDelta::days(365),
            rules: vec![Rule {
                country: Some("DE".into()),
                outcome: Some(ApplicationStatus::Rejected),
                after: TimeDelta::days(90),
            }],
            extension: TimeDelta::days(365),
            max_total: TimeDelta::days(730),
            reminder_before: TimeDelta::days(14),
        };
        assert_eq!(
            policy.canonical(),
            "policy-v1;after_decision=15552000;after_inactivity=31536000;extension=31536000;max_total=63072000;reminder_before=1209600;rules=[DE/rejected/7776000]"
        );
        assert_eq!(policy.fingerprint(), "9f1b426e1897d607");
    }
}
