//! Delivers queued mail: claims due outbox rows, hands each mail to the
//! transport, and records the outcome. A mail whose transport is down stays
//! queued and is retried with exponential backoff; the mail survives restarts
//! because the outbox is a table. A message leaves the outbox in the
//! transaction that marks it sent, so it is sent once; only a crash between
//! the relay accepting it and that commit can send it again, with the same
//! Message-ID.

use std::time::Duration;

use lettre::message::Mailbox;

use crate::{
    config::MailSettings,
    domain::keys::{hash_secret, random_token},
    mail::{self, Mailer, Outgoing, SendError},
    retention::links::CreateLink,
    services::Services,
    store::{
        self,
        entity::outbox,
        messages::{ClaimDue, MakeAllDue, Outcome, Settle},
    },
};

/// Rows claimed per round.
const BATCH: u64 = 64;

/// What one run delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

pub struct Deliverer {
    mailer: Mailer,
    from: Mailbox,
    settings: MailSettings,
    ignore_backoff: bool,
}

impl Deliverer {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        Ok(Self {
            mailer: Mailer::from_settings(settings)?,
            from: settings.from.parse()?,
            settings: settings.clone(),
            ignore_backoff: false,
        })
    }

    /// Treat every queued mail as due, however long its backoff still runs.
    pub fn ignore_backoff(&mut self, ignore: bool) {
        self.ignore_backoff = ignore;
    }

    /// The wait before attempt `attempts + 1`, doubling from the initial one.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let initial = self.settings.retry_initial.to_std();
        let doubled = initial.saturating_mul(1 << attempts.saturating_sub(1).min(30));
        doubled.min(self.settings.retry_max.to_std())
    }

    /// Delivers the mail due now, round after round, until none is left or
    /// `stop` says to stop (checked between mails).
    pub async fn deliver_due(
        &self,
        state: &Services,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> anyhow::Result<Delivered> {
        let mut delivered = Delivered::default();
        let lease = self.settings.timeout.to_std() * 2 + Duration::from_secs(30);
        // Each run tries the mail due when it starts, each mail once.
        let started = state.now();
        if self.ignore_backoff {
            state.writer.run(MakeAllDue { at: started }).await?;
        }
        while !stop() {
            let now = state.now();
            let lease_until = now + lease;
            let claimed = state
                .writer
                .run(ClaimDue {
                    now,
                    due_by: started,
                    lease_until,
                    limit: BATCH,
                })
                .await?;
            if claimed.is_empty() {
                break;
            }
            let mut settled = Vec::with_capacity(claimed.len());
            for row in claimed {
                let outcome = if stop() {
                    Outcome::Released
                } else {
                    // A failed read must not abandon the batch: mails already
                    // sent in it still have to be recorded as sent.
                    self.attempt(state, &row).await.unwrap_or_else(|err| {
                        tracing::warn!(message_id = %row.message_id, error = format!("{err:#}"), "reading a queued mail failed");
                        Outcome::Released
                    })
                };
                match &outcome {
                    Outcome::Sent { .. } => delivered.sent += 1,
                    Outcome::Retry { .. } => delivered.retried += 1,
                    Outcome::Failed { .. } => delivered.failed += 1,
                    _ => {}
                }
                settled.push((row, outcome));
            }
            if let Err(err) = self.mailer.commit().await {
                // Not durably handed over: try those mails again.
                for (row, outcome) in &mut settled {
                    if let Outcome::Sent { .. } = outcome {
                        delivered.sent -= 1;
                        delivered.retried += 1;
                        *outcome = Outcome::Retry {
                            at: state.now()
                                + self.backoff(u32::try_from(row.attempts).unwrap_or(0) + 1),
                            error: err.code(),
                        };
                    }
                }
            }
            self.settle(state, settled).await?;
        }
        Ok(delivered)
    }

    async fn attempt(&self, state: &Services, row: &outbox::Model) -> anyhow::Result<Outcome> {
        let Some(message) = store::messages::get(&state.db, row.message_id).await? else {
            return Ok(Outcome::Gone);
        };
        let Some(to) = store::applications::addressee(&state.db, message.application_id).await?
        else {
            return Ok(Outcome::Gone);
        };
        // A new address gets the link that confirms it; every other mail
        // goes to the application's address.
        let to_address = if message.origin == mail::EMAIL_CHANGE.name {
            match crate::privacy::email::pending_address(&state.db, message.id).await? {
                Some(address) => address,
                None => return Ok(Outcome::Gone),
            }
        } else {
            to.email.clone()
        };
        let origin = message.origin.as_str();
        let body = if origin == mail::RETENTION_REMINDER.name
            && message.body.contains(mail::CONSENT_URL)
        {
            let url = mint_link(state, message.application_id, Link::Consent).await?;
            message.body.replace(mail::CONSENT_URL, &url)
        } else if origin == mail::PRIVACY_LINK.name && message.body.contains(mail::PRIVACY_URL) {
            let url = mint_link(state, message.application_id, Link::SignIn).await?;
            message.body.replace(mail::PRIVACY_URL, &url)
        } else if origin == mail::EMAIL_CHANGE.name && message.body.contains(mail::EMAIL_CHANGE_URL)
        {
            let url = mint_link(state, message.id, Link::EmailChange).await?;
            message.body.replace(mail::EMAIL_CHANGE_URL, &url)
        } else {
            message.body.clone()
        };
        let lifts_restriction = (origin == mail::RESTRICTION_LIFTED.name)
            .then_some((message.application_id, message.created_at));
        let mail = Outgoing {
            id: message.id,
            message_id: &message.message_id,
            to_name: &to.full_name,
            to_address: &to_address,
            subject: &message.subject,
            body: &body,
            date: message.created_at,
        };
        let attempts = u32::try_from(row.attempts).unwrap_or(0) + 1;
        let outcome = match self.mailer.send(&self.from, &mail).await {
            Ok(()) => Outcome::Sent {
                at: state.now(),
                lifts_restriction,
            },
            Err(SendError::Transient(error)) if attempts < self.settings.max_attempts => {
                Outcome::Retry {
                    at: state.now() + self.backoff(attempts),
                    error,
                }
            }
            Err(err) => Outcome::Failed { error: err.code() },
        };
        match &outcome {
            Outcome::Sent { .. } => {
                tracing::info!(message_id = %message.id, application_id = %message.application_id, "mail sent")
            }
            Outcome::Retry { error, at } => {
                tracing::warn!(message_id = %message.id, attempts, error, retry_at = %at, "mail not sent; will retry")
            }
            Outcome::Failed { error } => {
                tracing::warn!(message_id = %message.id, attempts, error, "mail failed")
            }
            Outcome::Gone | Outcome::Released => {}
        }
        Ok(outcome)
    }

    /// Records the outcomes in one transaction; retried a few times, since a
    /// mail that went out but is not recorded as sent would go out again once
    /// its claim expires.
    async fn settle(
        &self,
        state: &Services,
        settled: Vec<(outbox::Model, Outcome)>,
    ) -> anyhow::Result<()> {
        let mut tries = 0;
        loop {
            match state.writer.run(Settle(settled.clone())).await {
                Ok(gone) => {
                    // Purged while its mail was out: the copy just written goes too.
                    if let Mailer::Files(dir) = &self.mailer
                        && let Err(err) = mail::delete_files(dir, gone).await
                    {
                        tracing::warn!(error = %err, "removing mail files of purged messages failed; the sweep will");
                    }
                    return Ok(());
                }
                Err(err) if tries < 3 => {
                    tries += 1;
                    tracing::warn!(error = %err, tries, "recording mail outcomes failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
}

/// Which link a mail being sent carries.
enum Link {
    /// A retention reminder's consent page.
    Consent,
    /// The privacy pages' sign-in.
    SignIn,
    /// The confirmation of a new address (keyed by the mail's id).
    EmailChange,
}

/// Makes the link of a mail being sent: the token goes into the mail, only
/// its hash into the database. `id` is the mail's application, or for an
/// email change the mail itself.
async fn mint_link(state: &Services, id: uuid::Uuid, link: Link) -> anyhow::Result<String> {
    let token = random_token();
    let token_hash = hash_secret(&token);
    let settings = &state.settings;
    let base = settings.server.public_url.trim_end_matches('/');
    match link {
        Link::Consent => {
            let expires_at = state.now() + settings.consent.link_ttl.0;
            let unit = CreateLink {
                token_hash,
                application_id: id,
                expires_at,
            };
            state.writer.run(unit).await?;
            Ok(format!("{base}/consent/{token}"))
        }
        Link::SignIn => {
            let expires_at = state.now() + settings.privacy.link_ttl.0;
            let unit = crate::privacy::session::CreateLink {
                token_hash,
                application_id: id,
                expires_at,
            };
            state.writer.run(unit).await?;
            Ok(format!("{base}/privacy/verify/{token}"))
        }
        Link::EmailChange => {
            let unit = crate::privacy::email::ArmEmailChange {
                message_id: id,
                token_hash,
                ttl: settings.privacy.link_ttl.0,
            };
            state.writer.run(unit).await?;
            Ok(format!("{base}/privacy/email/{token}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn retries_back_off_doubling_up_to_the_cap() {
        let mut settings = Settings::embedded_default().mail;
        settings.retry_initial = crate::config::HumanDuration(chrono::TimeDelta::seconds(30));
        settings.retry_max = crate::config::HumanDuration(chrono::TimeDelta::hours(1));
        let deliverer = Deliverer::new(&settings).unwrap();
        let waits: Vec<u64> = (1..=10).map(|n| deliverer.backoff(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(deliverer.backoff(200).as_secs(), 3600);
    }
}
