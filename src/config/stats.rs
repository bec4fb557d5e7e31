//! `[stats]`: the partner statistics and their privacy budget.

use anyhow::{Context, bail};
use serde::Deserialize;

use super::HumanDuration;
use crate::domain::{fields, noise::Epsilon, stats};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSettings {
    /// The privacy budget of one month's release, per partner key: an
    /// exact decimal such as `1` or `0.5`.
    epsilon_per_month: String,
    /// `false` releases exact counts: for test configurations only.
    pub noise: bool,
    /// Cells whose noisy count is below this are hidden (0: none are).
    pub min_count: u64,
    /// How long after a month ends its release is made.
    pub publish_delay: HumanDuration,
    /// Source labels the careers site sends that get their own row.
    pub sources: Vec<String>,
}

impl StatsSettings {
    /// ε of a release: `None` when noise is off.
    pub fn epsilon(&self) -> Option<Epsilon> {
        self.noise.then(|| {
            Epsilon::parse(&self.epsilon_per_month)
                .expect("validated when the settings were loaded")
        })
    }

    pub(super) fn validate(&self) -> anyhow::Result<()> {
        Epsilon::parse(&self.epsilon_per_month)
            .map_err(anyhow::Error::msg)
            .context("stats.epsilon_per_month")?;
        for label in &self.sources {
            let parsed = fields::source("stats.sources", Some(label))
                .map_err(|e| anyhow::anyhow!("stats.sources: {label:?} {}", e.message))?;
            if parsed.as_deref() != Some(label.as_str())
                || stats::CHANNELS.contains(&label.as_str())
                || label == stats::OTHER
            {
                bail!(
                    "stats.sources: {label:?} must be a lower-case label, not a channel or `other`"
                );
            }
        }
        Ok(())
    }
}
