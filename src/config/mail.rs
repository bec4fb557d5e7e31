//! `[mail]`: how candidate mail leaves.

use anyhow::{Context, bail};
use serde::Deserialize;

use super::{HumanDuration, SecretText};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Each mail becomes an `.eml` file in `mail.dir`.
    File,
    /// Through the SMTP relay at `mail.smtp_url`.
    Smtp,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub dir: String,
    /// `smtp://host:port` (plain, for a local relay), `smtp://…?tls=required`
    /// (STARTTLS) or `smtps://host:port`, with `user:password@` where needed.
    pub smtp_url: SecretText,
    pub from: String,
    pub acknowledge_applications: bool,
    /// How long one delivery to the relay may take.
    pub timeout: HumanDuration,
    /// The first retry waits this long; each next one twice as long, up to `retry_max`.
    pub retry_initial: HumanDuration,
    pub retry_max: HumanDuration,
    /// After this many failed attempts a message is marked failed.
    pub max_attempts: u32,
    /// How often the deliverer looks for retries that came due.
    pub poll_interval: HumanDuration,
}

impl MailSettings {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        self.from
            .parse::<lettre::message::Mailbox>()
            .context("mail.from is not an address")?;
        if self.transport == MailTransport::Smtp {
            let url = url::Url::parse(self.smtp_url.expose())
                .ok()
                .filter(|url| matches!(url.scheme(), "smtp" | "smtps") && url.host_str().is_some());
            if url.is_none() {
                bail!("mail.smtp_url must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
            }
        }
        if self.max_attempts == 0 {
            bail!("mail.max_attempts must be positive");
        }
        Ok(())
    }
}
