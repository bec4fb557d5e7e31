//! `[server]`, `[careers]`, `[uploads]` and `[intake]`: the HTTP edge and
//! what the careers site may send.

use anyhow::{Context, bail};
use serde::Deserialize;

use super::HumanDuration;

#[derive(Clone, Debug, Deserialize)]
pub struct ServerSettings {
    pub listen: String,
    /// Where `/metrics` is served (never on `listen`); empty: nowhere.
    pub admin_listen: String,
    pub public_url: String,
    /// In-flight requests may finish within this after a shutdown signal.
    pub shutdown_timeout: HumanDuration,
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

impl ServerSettings {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        url::Url::parse(&self.public_url).context("server.public_url is not a URL")?;
        // Port 0 (any free port) is the one address both may name.
        let admin = self.admin_listen.trim();
        if !admin.is_empty() && admin == self.listen.trim() && !admin.ends_with(":0") {
            bail!(
                "server.admin_listen must not be server.listen: metrics stay off the public port"
            );
        }
        if self.max_connections == 0 || self.max_json_bytes == 0 || self.max_form_bytes == 0 {
            bail!(
                "server.max_connections, server.max_json_bytes and server.max_form_bytes must be positive"
            );
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct UploadSettings {
    pub max_cv_bytes: u64,
    pub max_picture_bytes: u64,
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

    pub(super) fn validate(&self) -> anyhow::Result<()> {
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
pub(super) fn validate_origins(key: &str, origins: &[String]) -> anyhow::Result<()> {
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
