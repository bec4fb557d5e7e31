//! `[privacy]`: the candidates' self-service pages and the subject requests
//! the employer answers.

use anyhow::bail;
use serde::Deserialize;

use super::HumanDuration;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// How long a sign-in link from `/privacy/requests` stays valid.
    pub link_ttl: HumanDuration,
    /// How long a candidate's session on the privacy pages lasts.
    pub session_ttl: HumanDuration,
    /// Sign-in links one email address may be sent per hour.
    pub links_per_hour_per_email: u32,
    /// Sign-in requests one client address may make per minute.
    pub requests_per_minute_per_client: u32,
    /// Who is mailed before a subject request falls due (empty: nobody).
    pub officer_email: String,
    /// How long before its due date the officer is reminded of a request.
    pub officer_reminder_before: HumanDuration,
    /// Who receives the candidates' data on the employer's behalf (the mail
    /// provider, the hosting company…), listed on the candidate's page.
    pub processors: Vec<String>,
}

impl PrivacySettings {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.links_per_hour_per_email == 0 || self.requests_per_minute_per_client == 0 {
            bail!(
                "privacy.links_per_hour_per_email and requests_per_minute_per_client must be positive"
            );
        }
        if !self.officer_email.is_empty()
            && self
                .officer_email
                .parse::<lettre::message::Mailbox>()
                .is_err()
        {
            bail!("privacy.officer_email: not an email address");
        }
        Ok(())
    }

    pub(super) fn positive_durations(&self) -> [(&'static str, HumanDuration); 3] {
        [
            ("privacy.link_ttl", self.link_ttl),
            ("privacy.session_ttl", self.session_ttl),
            (
                "privacy.officer_reminder_before",
                self.officer_reminder_before,
            ),
        ]
    }
}
