//! Typed settings, layered: the embedded `config/default.toml`, an optional file
//! given with `--config`, then `APPLICANT_VAULT__SECTION__KEY` environment variables.

use std::{collections::BTreeMap, fmt, path::Path, time::Duration};

use anyhow::{Context, bail};
use serde::Deserialize;
use toml::{Table, Value};

use crate::{
    domain::status::ApplicationStatus,
    retention::policy::{self as retention, Policy, Rule},
};

const DEFAULT_TOML: &str = include_str!("../config/default.toml");
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
}

/// A duration in human form (`180d`, `26w`, `12h`, `2s`): a whole number and
/// a unit, s, m, h, d or w.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub chrono::TimeDelta);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        retention::parse_duration(&text)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl HumanDuration {
    pub fn to_std(self) -> Duration {
        self.0.to_std().unwrap_or_default()
    }
}

/// How submissions are recognised again.
#[derive(Clone, Debug, Deserialize)]
pub struct IntakeSettings {
    /// How long an `Idempotency-Key` is bound to its request.
    pub idempotency_ttl: HumanDuration,
    /// How long an erased Indeed Apply delivery is still recognised (so that
    /// a redelivery stores nothing).
    pub tombstone_ttl: HumanDuration,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ServerSettings {
    pub listen: String,
    pub public_url: String,
    pub shutdown_timeout_secs: u64,
    /// A request's headers must arrive within this; a keep-alive connection
    /// idle this long is closed.
    pub header_timeout: HumanDuration,
    /// A body that makes no progress this long ends its request (408).
    pub body_idle_timeout: HumanDuration,
    /// Connections served at once; one more is answered 503.
    pub max_connections: usize,
    /// The largest JSON body (and body of any route without its own limit).
    pub max_json_bytes: u64,
    /// The largest form a candidate page posts.
    pub max_form_bytes: u64,
}

#[derive(Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

#[derive(Clone, Deserialize)]
pub struct StorageSettings {
    pub url: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub orphan_grace_secs: u64,
    pub sweep_interval_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct UploadSettings {
    pub max_cv_bytes: u64,
    pub max_picture_bytes: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CareersSettings {
    /// Origins (`scheme://host[:port]`) whose pages may call the careers
    /// operations from the browser; empty: none.
    pub origins: Vec<String>,
    pub rate_limit_per_minute: u32,
    /// The header a proxy puts the client's address in (`X-Forwarded-For`).
    #[serde(default)]
    pub client_ip_header: String,
    /// The proxies (CIDR ranges) whose forwarding header is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

impl CareersSettings {
    /// The allowed origins as browsers send them.
    pub fn origins(&self) -> Vec<String> {
        self.origins
            .iter()
            .filter_map(|o| url::Url::parse(o).ok())
            .map(|u| u.origin().ascii_serialization())
            .collect()
    }

    pub fn trusted_proxies(&self) -> Vec<crate::domain::net::Cidr> {
        self.trusted_proxies
            .iter()
            .filter_map(|range| range.parse().ok())
            .collect()
    }

    fn validate(&self) -> anyhow::Result<()> {
        validate_origins("careers.origins", &self.origins)?;
        for (i, range) in self.trusted_proxies.iter().enumerate() {
            range
                .parse::<crate::domain::net::Cidr>()
                .map_err(|err| anyhow::anyhow!("careers.trusted_proxies[{i}]: {err}"))?;
        }
        if !self.trusted_proxies.is_empty() && self.client_ip_header.trim().is_empty() {
            bail!("careers.client_ip_header must name the header careers.trusted_proxies set");
        }
        if !self.client_ip_header.is_empty()
            && poem::http::HeaderName::from_bytes(self.client_ip_header.as_bytes()).is_err()
        {
            bail!("careers.client_ip_header is not a header name");
        }
        Ok(())
    }
}

/// Each entry must be an origin: `http(s)://host[:port]`, nothing more.
fn validate_origins(key: &str, origins: &[String]) -> anyhow::Result<()> {
    for (i, origin) in origins.iter().enumerate() {
        let url = url::Url::parse(origin).with_context(|| format!("{key}[{i}] is not a URL"))?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
            || !bare
        {
            bail!("{key}[{i}] must be an origin like https://careers.example.com");
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Each mail becomes an `.eml` file in `mail.dir`.
    File,
    /// Through the SMTP relay at `mail.smtp_url`.
    Smtp,
}

#[derive(Clone, Deserialize)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub dir: String,
    /// `smtp://host:port` (plain, for a local relay), `smtp://…?tls=required`
    /// (STARTTLS) or `smtps://host:port`, with `user:password@` where needed.
    pub smtp_url: String,
    pub from: String,
    pub acknowledge_applications: bool,
    pub timeout_secs: u64,
    /// The first retry waits this long; each next one twice as long, up to `retry_max_secs`.
    pub retry_initial_secs: u64,
    pub retry_max_secs: u64,
    /// After this many failed attempts a message is marked failed.
    pub max_attempts: u32,
    /// How often the deliverer looks for retries that came due.
    pub poll_interval_secs: u64,
}

/// Durations in human form (`180d`, `26w`, `2s`); see `retention::policy`.
#[derive(Clone, Debug, Deserialize)]
pub struct RetentionSettings {
    pub after_decision: String,
    pub after_inactivity: String,
    pub purge_interval: String,
    /// Applications one purge transaction takes.
    pub purge_batch: u64,
    #[serde(default)]
    pub rules: Vec<RuleSettings>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    pub country: Option<String>,
    pub outcome: Option<String>,
    pub after: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ConsentSettings {
    pub extension: String,
    pub max_total: String,
    pub reminder_before: String,
    pub link_ttl: String,
}

/// "Apply with LinkedIn / Indeed": where candidates may be sent back to, how
/// long a sign-in and an import last, and each provider.
#[derive(Clone, Debug, Deserialize)]
pub struct OAuthSettings {
    /// Origins (`scheme://host[:port]`) of the pages a sign-in may return to.
    pub return_origins: Vec<String>,
    /// How long a started sign-in may take to come back.
    pub state_ttl_secs: u64,
    /// How long an import waits, unused, before it is deleted.
    pub import_ttl_secs: u64,
    /// How often expired sign-ins and imports are deleted.
    pub sweep_interval_secs: u64,
    /// How long one call to a provider may take.
    pub timeout_secs: u64,
    pub linkedin: ProviderSettings,
    pub indeed: ProviderSettings,
}

/// One OAuth provider; without a `client_id` it is off.
#[derive(Clone, Deserialize)]
pub struct ProviderSettings {
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub scopes: Vec<String>,
    /// Send a PKCE challenge and verifier (LinkedIn refuses them).
    pub pkce: bool,
    /// Client credentials in the token request's form body, else HTTP basic auth.
    pub credentials_in_body: bool,
    /// The only hosts a profile picture may be fetched from.
    pub picture_hosts: Vec<String>,
}

/// Indeed Apply posts applications signed with this secret; empty: off.
#[derive(Clone, Deserialize)]
pub struct IndeedApplySettings {
    pub api_secret: String,
    /// Recorded as the privacy notice the candidate accepted (Indeed shows
    /// the employer's notice with the job).
    pub privacy_notice_version: String,
}

impl ProviderSettings {
    pub fn enabled(&self) -> bool {
        !self.client_id.trim().is_empty()
    }

    fn validate(&self, name: &str) -> anyhow::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        if self.client_secret.is_empty() {
            bail!("oauth.{name}.client_secret must be set when oauth.{name}.client_id is");
        }
        for (key, value) in [
            ("authorize_url", &self.authorize_url),
            ("token_url", &self.token_url),
            ("userinfo_url", &self.userinfo_url),
        ] {
            let url = url::Url::parse(value)
                .with_context(|| format!("oauth.{name}.{key} is not a URL"))?;
            if !matches!(url.scheme(), "http" | "https") {
                bail!("oauth.{name}.{key} must be an http or https URL");
            }
        }
        if self.scopes.is_empty() {
            bail!("oauth.{name}.scopes must name at least one scope");
        }
        Ok(())
    }
}

impl OAuthSettings {
    /// The origins a sign-in may return to, parsed.
    pub fn return_origins(&self) -> Vec<url::Origin> {
        self.return_origins
            .iter()
            .filter_map(|o| url::Url::parse(o).ok())
            .map(|u| u.origin())
            .collect()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    fn validate(&self) -> anyhow::Result<()> {
        validate_origins("oauth.return_origins", &self.return_origins)?;
        if self.state_ttl_secs == 0
            || self.import_ttl_secs == 0
            || self.sweep_interval_secs == 0
            || self.timeout_secs == 0
        {
            bail!(
                "oauth.state_ttl_secs, oauth.import_ttl_secs, oauth.sweep_interval_secs and oauth.timeout_secs must be positive"
            );
        }
        self.linkedin.validate("linkedin")?;
        self.indeed.validate("indeed")
    }
}

impl IndeedApplySettings {
    pub fn enabled(&self) -> bool {
        !self.api_secret.is_empty()
    }
}

impl Settings {
    /// The retention policy, checked: each error names its key.
    pub fn policy(&self) -> anyhow::Result<Policy> {
        let duration = |key: &str, text: &str| {
            retention::parse_duration(text).map_err(|err| anyhow::anyhow!("{key}: {err}"))
        };
        let rules = self
            .retention
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let outcome = match rule.outcome.as_deref() {
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
                let country = match rule.country.as_deref() {
                    None => None,
                    Some(code) => Some(
                        crate::domain::fields::country("country", code)
                            .map_err(|_| anyhow::anyhow!("retention.rules[{i}].country: {code:?} is not an ISO 3166-1 alpha-2 code"))?,
                    ),
                };
                Ok(Rule {
                    country,
                    outcome,
                    after: duration(&format!("retention.rules[{i}].after"), &rule.after)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let policy = Policy {
            after_decision: duration("retention.after_decision", &self.retention.after_decision)?,
            after_inactivity: duration(
                "retention.after_inactivity",
                &self.retention.after_inactivity,
            )?,
            rules,
            extension: duration("consent.extension", &self.consent.extension)?,
            max_total: duration("consent.max_total", &self.consent.max_total)?,
            reminder_before: duration("consent.reminder_before", &self.consent.reminder_before)?,
        };
        if policy.extension > policy.max_total {
            bail!(
                "consent.extension ({}) is beyond consent.max_total ({})",
                self.consent.extension,
                self.consent.max_total
            );
        }
        Ok(policy)
    }

    /// How long a candidate link works (checked positive by `validate`).
    pub fn link_ttl(&self) -> chrono::TimeDelta {
        retention::parse_duration(&self.consent.link_ttl).unwrap_or(chrono::TimeDelta::days(30))
    }

    pub fn purge_interval(&self) -> Duration {
        retention::parse_duration(&self.retention.purge_interval)
            .ok()
            .and_then(|d| d.to_std().ok())
            .unwrap_or(Duration::from_secs(3600))
    }

    /// Loads the layered settings from the real process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let overlay = match file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?,
            ),
            None => None,
        };
        Self::from_layers(overlay.as_deref(), std::env::vars())
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
        let settings: Settings = Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        url::Url::parse(&self.server.public_url).context("server.public_url is not a URL")?;
        if self.uploads.max_cv_bytes == 0 || self.uploads.max_picture_bytes == 0 {
            bail!("uploads.max_cv_bytes and uploads.max_picture_bytes must be positive");
        }
        if self.database.max_connections == 0 {
            bail!("database.max_connections must be positive");
        }
        self.mail.validate()?;
        self.oauth.validate()?;
        self.careers.validate()?;
        if self.server.max_connections == 0
            || self.server.max_json_bytes == 0
            || self.server.max_form_bytes == 0
        {
            bail!(
                "server.max_connections, server.max_json_bytes and server.max_form_bytes must be positive"
            );
        }
        for (key, duration) in [
            ("server.header_timeout", self.server.header_timeout),
            ("server.body_idle_timeout", self.server.body_idle_timeout),
        ] {
            if duration.0 <= chrono::TimeDelta::zero() {
                bail!("{key} must be longer than zero");
            }
        }
        if self.indeed_apply.enabled() {
            crate::domain::fields::required_text(
                "indeed_apply.privacy_notice_version",
                &self.indeed_apply.privacy_notice_version,
                100,
            )
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        }
        self.policy()?;
        let positive = |key: &str, text: &str| match retention::parse_duration(text) {
            Ok(d) if d > chrono::TimeDelta::zero() => Ok(()),
            Ok(_) => bail!("{key} must be longer than zero"),
            Err(err) => bail!("{key}: {err}"),
        };
        positive("retention.purge_interval", &self.retention.purge_interval)?;
        for (key, duration) in [
            ("intake.idempotency_ttl", self.intake.idempotency_ttl),
            ("intake.tombstone_ttl", self.intake.tombstone_ttl),
        ] {
            if duration.0 <= chrono::TimeDelta::zero() {
                bail!("{key} must be longer than zero");
            }
        }
        if self.retention.purge_batch == 0 {
            bail!("retention.purge_batch must be positive");
        }
        positive("consent.link_ttl", &self.consent.link_ttl)
    }
}

impl MailSettings {
    fn validate(&self) -> anyhow::Result<()> {
        self.from
            .parse::<lettre::message::Mailbox>()
            .context("mail.from is not an address")?;
        if self.transport == MailTransport::Smtp {
            let url = url::Url::parse(&self.smtp_url).context("mail.smtp_url is not a URL")?;
            if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
                bail!("mail.smtp_url must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
            }
        }
        if self.max_attempts == 0 || self.poll_interval_secs == 0 || self.timeout_secs == 0 {
            bail!(
                "mail.max_attempts, mail.poll_interval_secs and mail.timeout_secs must be positive"
            );
        }
        Ok(())
    }
}

impl ServerSettings {
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

impl DatabaseSettings {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.acquire_timeout_secs)
    }
}

// Connection strings and store credentials may hold passwords: Debug shows neither.
impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageSettings")
            .field("url", &self.url)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("transport", &self.transport)
            .field("dir", &self.dir)
            .field("smtp_url", &redact_url(&self.smtp_url))
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("client_id", &self.client_id)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("pkce", &self.pkce)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for IndeedApplySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndeedApplySettings")
            .field("enabled", &self.enabled())
            .finish_non_exhaustive()
    }
}

fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
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
    use super::*;

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
        assert_eq!(settings.purge_interval(), Duration::from_secs(3600));
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
        let example = include_str!("../config/production.example.toml");
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
        assert!(settings.database.url.starts_with("sqlite://data/"));
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
        assert_eq!(settings.storage.options["aws_region"], "eu-west-1");
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
            ("[oauth]\nstate_ttl_secs = 0", "oauth.state_ttl_secs"),
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
}
