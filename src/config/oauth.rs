//! `[oauth]` ("Apply with LinkedIn / Indeed") and `[indeed_apply]`.

use anyhow::{Context, bail};
use serde::Deserialize;

use super::{HumanDuration, SecretText, server::validate_origins};

/// Where candidates may be sent back to, how long a sign-in and an import
/// last, and each provider.
#[derive(Clone, Debug, Deserialize)]
pub struct OAuthSettings {
    /// Origins (`scheme://host[:port]`) of the pages a sign-in may return to.
    pub return_origins: Vec<String>,
    /// How long a started sign-in may take to come back.
    pub state_ttl: HumanDuration,
    /// How long an import waits, unused, before it is deleted.
    pub import_ttl: HumanDuration,
    /// How often expired sign-ins and imports are deleted.
    pub sweep_interval: HumanDuration,
    /// How long one call to a provider may take.
    pub timeout: HumanDuration,
    pub linkedin: ProviderSettings,
    pub indeed: ProviderSettings,
}

/// One OAuth provider; without a `client_id` it is off.
#[derive(Clone, Debug, Deserialize)]
pub struct ProviderSettings {
    pub client_id: String,
    pub client_secret: SecretText,
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
#[derive(Clone, Debug, Deserialize)]
pub struct IndeedApplySettings {
    pub api_secret: SecretText,
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

    pub(super) fn validate(&self) -> anyhow::Result<()> {
        validate_origins("oauth.return_origins", &self.return_origins)?;
        self.linkedin.validate("linkedin")?;
        self.indeed.validate("indeed")
    }
}

impl IndeedApplySettings {
    pub fn enabled(&self) -> bool {
        !self.api_secret.is_empty()
    }

    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.enabled() {
            crate::domain::fields::required_text(
                "indeed_apply.privacy_notice_version",
                &self.privacy_notice_version,
                100,
            )
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        }
        Ok(())
    }
}
