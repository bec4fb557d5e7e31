//! The value types settings are made of: durations in human form and
//! secrets that never show in logs.

use std::{fmt, time::Duration};

use serde::Deserialize;

use crate::retention::policy::parse_duration;

/// A duration in human form (`180d`, `26w`, `12h`, `2s`): a whole number and
/// a unit, s, m, h, d or w. Every duration setting has this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub chrono::TimeDelta);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl HumanDuration {
    pub fn to_std(self) -> Duration {
        self.0.to_std().unwrap_or_default()
    }

    pub fn is_positive(self) -> bool {
        self.0 > chrono::TimeDelta::zero()
    }
}

/// A secret setting (a password, an API secret, a URL with credentials):
/// `Debug` shows only whether it is set, and reading it takes
/// [`SecretText::expose`], so a secret never reaches a log by accident.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "[hidden]"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shows_only_whether_it_is_set() {
        assert_eq!(format!("{:?}", SecretText::from("hunter2")), "[hidden]");
        assert_eq!(format!("{:?}", SecretText::default()), "\"\"");
        assert_eq!(SecretText::from("hunter2").expose(), "hunter2");
    }

    #[test]
    fn a_duration_reads_its_human_form_only() {
        let read = |raw: &str| -> Result<HumanDuration, toml::de::Error> {
            #[derive(Deserialize)]
            struct Holder {
                d: HumanDuration,
            }
            toml::from_str::<Holder>(&format!("d = {raw}")).map(|h| h.d)
        };
        assert_eq!(read("\"90s\"").unwrap().to_std(), Duration::from_secs(90));
        assert_eq!(read("\"2w\"").unwrap().0, chrono::TimeDelta::weeks(2));
        assert!(read("\"soon\"").is_err());
        assert!(read("30").is_err(), "a bare number has no unit");
    }
}
