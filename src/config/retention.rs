//! `[retention]` and `[consent]`: the settings the retention policy is made of.

use anyhow::{Context, bail};
use serde::Deserialize;

use super::{HumanDuration, Settings};
use crate::{
    domain::status::ApplicationStatus,
    retention::policy::{Policy, Rule},
};

#[derive(Clone, Debug, Deserialize)]
pub struct RetentionSettings {
    pub after_decision: HumanDuration,
    pub after_inactivity: HumanDuration,
    pub purge_interval: HumanDuration,
    /// Applications one purge transaction takes.
    pub purge_batch: u64,
    #[serde(default, deserialize_with = "indexed_rules")]
    pub rules: Vec<RuleSettings>,
}

/// The rules, each error naming its rule by index (`retention.rules[2].after`).
fn indexed_rules<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<RuleSettings>, D::Error> {
    use serde::de::Error;
    let raw = Vec::<toml::Value>::deserialize(deserializer)?;
    raw.into_iter()
        .enumerate()
        .map(|(i, value)| {
            if let Some(after) = value.get("after").and_then(toml::Value::as_str) {
                crate::retention::policy::parse_duration(after).map_err(|err| {
                    D::Error::custom(format!("retention.rules[{i}].after: {err}"))
                })?;
            }
            value
                .try_into()
                .map_err(|err| D::Error::custom(format!("retention.rules[{i}]: {err}")))
        })
        .collect()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    pub country: Option<String>,
    pub outcome: Option<String>,
    pub after: HumanDuration,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ConsentSettings {
    pub extension: HumanDuration,
    pub max_total: HumanDuration,
    pub reminder_before: HumanDuration,
    /// How long a candidate link works.
    pub link_ttl: HumanDuration,
}

impl RuleSettings {
    fn rule(&self, i: usize) -> anyhow::Result<Rule> {
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(text) => Some(
                ApplicationStatus::parse(text)
                    .filter(|s| s.is_final())
                    .with_context(|| {
                        format!(
                            "retention.rules[{i}].outcome: {text:?} is not hired, rejected or withdrawn"
                        )
                    })?,
            ),
        };
        let country = match self.country.as_deref() {
            None => None,
            Some(code) => Some(
                crate::domain::fields::country("country", code).map_err(|_| {
                    anyhow::anyhow!(
                        "retention.rules[{i}].country: {code:?} is not an ISO 3166-1 alpha-2 code"
                    )
                })?,
            ),
        };
        Ok(Rule {
            country,
            outcome,
            after: self.after.0,
        })
    }
}

impl Settings {
    /// The retention policy, checked: each error names its key.
    pub fn policy(&self) -> anyhow::Result<Policy> {
        let rules = self
            .retention
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| rule.rule(i))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let consent = &self.consent;
        let policy = Policy {
            after_decision: self.retention.after_decision.0,
            after_inactivity: self.retention.after_inactivity.0,
            rules,
            extension: consent.extension.0,
            max_total: consent.max_total.0,
            reminder_before: consent.reminder_before.0,
        };
        if policy.extension > policy.max_total {
            bail!(
                "consent.extension ({}s) is beyond consent.max_total ({}s)",
                policy.extension.num_seconds(),
                policy.max_total.num_seconds()
            );
        }
        Ok(policy)
    }
}
