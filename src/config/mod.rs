//! Typed settings, layered: the embedded `config/default.toml`, an optional file
//! given with `--config`, then `APPLICANT_VAULT__SECTION__KEY` environment variables.
//!
//! One file per group of sections; every duration is a [`HumanDuration`]
//! (`30s`, `12h`, `180d`) and every secret a [`SecretText`]. The integer
//! `*_secs` keys of earlier releases are still read, with a warning naming
//! the key to write instead (see [`RENAMED`]).

mod mail;
mod oauth;
mod privacy;
mod retention;
mod server;
mod stats;
mod store;
mod values;

use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;
use toml::{Table, Value};

pub use self::{
    mail::{MailSettings, MailTransport},
    oauth::{IndeedApplySettings, OAuthSettings, ProviderSettings},
    privacy::PrivacySettings,
    retention::{ConsentSettings, RetentionSettings, RuleSettings},
    server::{CareersSettings, IntakeSettings, ServerSettings, UploadSettings},
    stats::StatsSettings,
    store::{DatabaseSettings, StorageSettings},
    values::{HumanDuration, SecretText},
};

const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
const ENV_PREFIX: &str = "APPLICANT_VAULT__";

#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub uploads: UploadSettings,
    pub careers: CareersSettings,
    pub mail: MailSettings,
    pub retention: RetentionSettings,
    pub consent: ConsentSettings,
    pub oauth: OAuthSettings,
    pub indeed_apply: IndeedApplySettings,
    pub intake: IntakeSettings,
    pub stats: StatsSettings,
    pub privacy: PrivacySettings,
    /// What the loaded layers said in a form that is going away.
    #[serde(skip)]
    pub deprecations: Vec<String>,
}

/// Keys of earlier releases, in whole seconds, and the duration each became:
/// `(section, old key, new key)`.
pub const RENAMED: &[(&str, &str, &str)] = &[
    ("server", "shutdown_timeout_secs", "shutdown_timeout"),
    ("database", "acquire_timeout_secs", "acquire_timeout"),
    ("storage", "orphan_grace_secs", "orphan_grace"),
    ("storage", "sweep_interval_secs", "sweep_interval"),
    ("mail", "timeout_secs", "timeout"),
    ("mail", "retry_initial_secs", "retry_initial"),
    ("mail", "retry_max_secs", "retry_max"),
    ("mail", "poll_interval_secs", "poll_interval"),
    ("oauth", "state_ttl_secs", "state_ttl"),
    ("oauth", "import_ttl_secs", "import_ttl"),
    ("oauth", "sweep_interval_secs", "sweep_interval"),
    ("oauth", "timeout_secs", "timeout"),
];

/// Rewrites the old `*_secs` keys into their durations; what was rewritten.
fn migrate_renamed(table: &mut Table) -> anyhow::Result<Vec<String>> {
    let mut said = Vec::new();
    for (section, old, new) in RENAMED {
        let Some(Value::Table(inner)) = table.get_mut(*section) else {
            continue;
        };
        let Some(value) = inner.remove(*old) else {
            continue;
        };
        let seconds = match &value {
            Value::Integer(n) if *n >= 0 => *n,
            Value::String(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .with_context(|| format!("{section}.{old} must be a whole number of seconds"))?,
            _ => bail!("{section}.{old} must be a whole number of seconds"),
        };
        inner.insert((*new).to_owned(), Value::String(format!("{seconds}s")));
        said.push(format!(
            "{section}.{old} is deprecated: write {section}.{new} = \"{seconds}s\""
        ));
    }
    Ok(said)
}

impl Settings {
    /// Loads the layered settings from the real process environment; warns
    /// of every deprecated key it read.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let overlay = match file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?,
            ),
            None => None,
        };
        let settings = Self::from_layers(overlay.as_deref(), std::env::vars())?;
        for deprecation in &settings.deprecations {
            tracing::warn!("{deprecation}");
        }
        Ok(settings)
    }

    /// The embedded default alone, as tests and the `openapi` command use it.
    pub fn embedded_default() -> Self {
        Self::from_layers(None, std::iter::empty()).expect("config/default.toml is valid")
    }

    pub fn from_layers(
        overlay: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut table: Table = DEFAULT_TOML
            .parse()
            .context("parsing config/default.toml")?;
        if let Some(text) = overlay {
            let file: Table = text.parse().context("parsing the config file")?;
            merge(&mut table, file);
        }
        for (name, raw) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            set_path(&mut table, &keys, &raw).with_context(|| format!("in variable {name}"))?;
        }
        let deprecations = migrate_renamed(&mut table)?;
        let mut settings: Settings = Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        settings.deprecations = deprecations;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.uploads.max_cv_bytes == 0 || self.uploads.max_picture_bytes == 0 {
            bail!("uploads.max_cv_bytes and uploads.max_picture_bytes must be positive");
        }
        if self.database.max_connections == 0 {
            bail!("database.max_connections must be positive");
        }
        if self.retention.purge_batch == 0 {
            bail!("retention.purge_batch must be positive");
        }
        self.server.validate()?;
        self.mail.validate()?;
        self.oauth.validate()?;
        self.careers.validate()?;
        self.indeed_apply.validate()?;
        self.stats.validate()?;
        self.privacy.validate()?;
        self.policy()?;
        for (key, duration) in self
            .positive_durations()
            .into_iter()
            .chain(self.privacy.positive_durations())
        {
            if !duration.is_positive() {
                bail!("{key} must be longer than zero");
            }
        }
        Ok(())
    }

    /// The durations that must be longer than zero, by key.
    fn positive_durations(&self) -> [(&'static str, HumanDuration); 17] {
        [
            ("server.shutdown_timeout", self.server.shutdown_timeout),
            ("server.header_timeout", self.server.header_timeout),
            ("server.body_idle_timeout", self.server.body_idle_timeout),
            ("database.acquire_timeout", self.database.acquire_timeout),
            ("storage.sweep_interval", self.storage.sweep_interval),
            ("mail.timeout", self.mail.timeout),
            ("mail.retry_initial", self.mail.retry_initial),
            ("mail.retry_max", self.mail.retry_max),
            ("mail.poll_interval", self.mail.poll_interval),
            ("retention.purge_interval", self.retention.purge_interval),
            ("consent.link_ttl", self.consent.link_ttl),
            ("oauth.state_ttl", self.oauth.state_ttl),
            ("oauth.import_ttl", self.oauth.import_ttl),
            ("oauth.sweep_interval", self.oauth.sweep_interval),
            ("oauth.timeout", self.oauth.timeout),
            ("intake.idempotency_ttl", self.intake.idempotency_ttl),
            ("intake.tombstone_ttl", self.intake.tombstone_ttl),
        ]
    }
}

fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(inner)), Value::Table(over)) => merge(inner, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets `keys` to `raw`, typed like the value it replaces (a number stays a
/// number, a list is written as TOML `["a", "b"]` or comma-separated), else a string.
fn set_path(table: &mut Table, keys: &[String], raw: &str) -> anyhow::Result<()> {
    let (last, parents) = keys.split_last().context("empty variable name")?;
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        current = match entry {
            Value::Table(inner) => inner,
            _ => bail!("{key} is not a section"),
        };
    }
    let value = match current.get(last) {
        Some(Value::Integer(_)) => Value::Integer(raw.trim().parse().context("expected a number")?),
        Some(Value::Boolean(_)) => Value::Boolean(raw.trim().parse().context("expected a bool")?),
        Some(Value::Float(_)) => Value::Float(raw.trim().parse().context("expected a number")?),
        Some(Value::Array(_)) => parse_list(raw)?,
        _ => Value::String(raw.to_owned()),
    };
    current.insert(last.clone(), value);
    Ok(())
}

fn parse_list(raw: &str) -> anyhow::Result<Value> {
    let trimmed = raw.trim();
    if trimmed.starts_with('[') {
        let wrapped: Table = format!("v = {trimmed}")
            .parse()
            .context("expected a list")?;
        return Ok(wrapped["v"].clone());
    }
    Ok(Value::Array(
        trimmed
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| Value::String(item.to_owned()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    use crate::domain::status::ApplicationStatus;

    #[test]
    fn the_retention_policy_reads_rules_from_a_file() {
        let file = r#"
            [retention]
            after_decision = "26w"
            [[retention.rules]]
            country = "DE"
            outcome = "rejected"
            after = "120d"
        "#;
        let settings = Settings::from_layers(Some(file), std::iter::empty()).unwrap();
        let policy = settings.policy().unwrap();
        assert_eq!(policy.after_decision, chrono::TimeDelta::weeks(26));
        assert_eq!(policy.rules.len(), 1);
        assert_eq!(policy.rules[0].outcome, Some(ApplicationStatus::Rejected));
        assert_eq!(
            settings.retention.purge_interval.to_std(),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn an_invalid_policy_is_refused_naming_the_key() {
        let cases = [
            (
                "[retention]\nafter_decision = \"soon\"",
                "retention.after_decision",
            ),
            (
                "[[retention.rules]]\noutcome = \"screening\"\nafter = \"1d\"",
                "retention.rules[0].outcome",
            ),
            (
                "[[retention.rules]]\ncountry = \"XX\"\nafter = \"1d\"",
                "retention.rules[0].country",
            ),
            (
                "[[retention.rules]]\nafter = \"3y\"",
                "retention.rules[0].after",
            ),
            ("[consent]\nextension = \"800d\"", "consent.extension"),
            (
                "[retention]\npurge_interval = \"0s\"",
                "retention.purge_interval",
            ),
        ];
        for (file, key) in cases {
            let err = Settings::from_layers(Some(file), std::iter::empty()).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{file}: {err:#}");
        }
        let env = [(
            "APPLICANT_VAULT__CONSENT__MAX_TOTAL".to_owned(),
            "10d".to_owned(),
        )];
        let err = Settings::from_layers(None, env).unwrap_err();
        assert!(format!("{err:#}").contains("consent.max_total"));
    }

    #[test]
    fn the_production_example_is_valid() {
        let example = include_str!("../../config/production.example.toml");
        let settings = Settings::from_layers(Some(example), std::iter::empty()).unwrap();
        assert_eq!(settings.mail.transport, MailTransport::Smtp);
        assert!(
            !format!("{:?}", settings.mail).contains("CHANGE-ME"),
            "passwords stay hidden"
        );
    }

    #[test]
    fn a_bad_mail_setting_is_named() {
        let bad = [
            ("APPLICANT_VAULT__MAIL__FROM", "not an address"),
            ("APPLICANT_VAULT__MAIL__TRANSPORT", "pigeon"),
        ];
        for (name, value) in bad {
            let err =
                Settings::from_layers(None, [(name.to_owned(), value.to_owned())]).unwrap_err();
            let text = format!("{err:#}");
            assert!(
                text.contains("mail") || text.contains("transport"),
                "{text}"
            );
        }
        let smtp_without_url = [
            (
                "APPLICANT_VAULT__MAIL__TRANSPORT".to_owned(),
                "smtp".to_owned(),
            ),
            (
                "APPLICANT_VAULT__MAIL__SMTP_URL".to_owned(),
                "http://relay".to_owned(),
            ),
        ];
        assert!(Settings::from_layers(None, smtp_without_url).is_err());
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_embedded_default_listens_locally_and_stores_under_data() {
        let settings = Settings::embedded_default();
        assert_eq!(settings.server.listen, "127.0.0.1:8080");
        assert!(settings.database.url.expose().starts_with("sqlite://data/"));
        assert_eq!(settings.storage.url, "file://data/objects");
        assert_eq!(settings.uploads.max_cv_bytes, 10 * 1024 * 1024);
        assert_eq!(settings.uploads.max_picture_bytes, 5 * 1024 * 1024);
    }

    #[test]
    fn a_file_overrides_the_default_and_the_environment_overrides_the_file() {
        let file = "[server]\nlisten = \"0.0.0.0:1\"\npublic_url = \"https://a.example\"\n";
        let settings = Settings::from_layers(
            Some(file),
            env(&[
                ("APPLICANT_VAULT__SERVER__LISTEN", "127.0.0.1:9"),
                ("APPLICANT_VAULT__UPLOADS__MAX_CV_BYTES", "1234"),
                (
                    "APPLICANT_VAULT__CAREERS__ORIGINS",
                    "https://a.test, https://b.test",
                ),
                ("APPLICANT_VAULT__STORAGE__OPTIONS__AWS_REGION", "eu-west-1"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:9");
        assert_eq!(settings.server.public_url, "https://a.example");
        assert_eq!(settings.uploads.max_cv_bytes, 1234);
        assert_eq!(
            settings.careers.origins,
            ["https://a.test", "https://b.test"]
        );
        assert_eq!(settings.storage.options["aws_region"].expose(), "eu-west-1");
    }

    #[test]
    fn a_malformed_number_names_the_variable() {
        let err = Settings::from_layers(
            None,
            env(&[("APPLICANT_VAULT__UPLOADS__MAX_CV_BYTES", "lots")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("APPLICANT_VAULT__UPLOADS__MAX_CV_BYTES"));
    }

    #[test]
    fn providers_are_off_without_a_client_id_and_checked_with_one() {
        let settings = Settings::embedded_default();
        assert!(!settings.oauth.linkedin.enabled());
        assert!(!settings.oauth.indeed.enabled());
        assert!(!settings.indeed_apply.enabled());
        assert!(!settings.oauth.linkedin.pkce);
        assert!(settings.oauth.indeed.pkce);
        let cases = [
            (
                "[oauth.linkedin]\nclient_id = \"x\"",
                "oauth.linkedin.client_secret",
            ),
            (
                "[oauth.indeed]\nclient_id = \"x\"\nclient_secret = \"y\"\ntoken_url = \"ftp://x\"",
                "oauth.indeed.token_url",
            ),
            (
                "[oauth]\nreturn_origins = [\"https://careers.example.com/apply\"]",
                "oauth.return_origins[0]",
            ),
            (
                "[oauth]\nreturn_origins = [\"https://user@careers.example.com\"]",
                "oauth.return_origins[0]",
            ),
            ("[oauth]\nstate_ttl = \"0s\"", "oauth.state_ttl"),
        ];
        for (file, key) in cases {
            let err = Settings::from_layers(Some(file), std::iter::empty()).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{file}: {err:#}");
        }
    }

    #[test]
    fn debug_output_hides_provider_and_indeed_secrets() {
        let settings = Settings::from_layers(
            None,
            env(&[
                ("APPLICANT_VAULT__OAUTH__LINKEDIN__CLIENT_ID", "id"),
                ("APPLICANT_VAULT__OAUTH__LINKEDIN__CLIENT_SECRET", "hunter2"),
                ("APPLICANT_VAULT__INDEED_APPLY__API_SECRET", "hunter3"),
            ]),
        )
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("hunter3"),
            "{shown}"
        );
    }

    #[test]
    fn debug_output_hides_database_passwords() {
        let settings = Settings::from_layers(
            None,
            env(&[(
                "APPLICANT_VAULT__DATABASE__URL",
                "postgres://u:hunter2@db/x",
            )]),
        )
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn the_old_seconds_keys_still_work_and_say_what_to_write_instead() {
        let file = "[mail]\npoll_interval_secs = 7\n[oauth]\ntimeout_secs = 3\n";
        let settings = Settings::from_layers(
            Some(file),
            env(&[("APPLICANT_VAULT__STORAGE__ORPHAN_GRACE_SECS", "0")]),
        )
        .unwrap();
        assert_eq!(settings.mail.poll_interval.to_std(), Duration::from_secs(7));
        assert_eq!(settings.oauth.timeout.to_std(), Duration::from_secs(3));
        assert_eq!(settings.storage.orphan_grace.to_std(), Duration::ZERO);
        assert_eq!(
            settings.deprecations.len(),
            3,
            "{:?}",
            settings.deprecations
        );
        assert!(
            settings
                .deprecations
                .iter()
                .any(|said| said.contains("mail.poll_interval = \"7s\"")),
            "{:?}",
            settings.deprecations
        );
        assert!(Settings::embedded_default().deprecations.is_empty());

        let err =
            Settings::from_layers(Some("[mail]\ntimeout_secs = \"soon\""), env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("mail.timeout_secs"), "{err:#}");
        let err = Settings::from_layers(Some("[mail]\ntimeout = 30"), env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("mail.timeout"), "{err:#}");
    }

    #[test]
    fn every_duration_must_be_longer_than_zero_where_zero_means_nothing() {
        let settings = Settings::embedded_default();
        for (key, _) in settings.positive_durations() {
            let (section, name) = key.split_once('.').unwrap();
            let file = format!("[{section}]\n{name} = \"0s\"");
            let err = Settings::from_layers(Some(&file), env(&[])).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{key}: {err:#}");
        }
    }
}
