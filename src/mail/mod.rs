//! Outgoing mail: templates for the mails the service writes itself, and the
//! transports that hand a mail over (an `.eml` file per mail, or SMTP).

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use uuid::Uuid;

use crate::{
    config::{MailSettings, MailTransport},
    domain::lang::Lang,
};

/// A system mail's template: `Subject: …` on the first line, a blank line,
/// then the body; `{{name}}` placeholders are filled in.
#[derive(Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    text: &'static str,
}

/// A mail to candidates, in each of their languages (`Lang` order), from
/// `templates/NAME.LANG.txt`; all four take the same placeholders.
#[derive(Clone, Copy)]
pub struct Localized {
    pub name: &'static str,
    texts: [&'static str; 4],
}

impl Localized {
    pub fn of(&self, lang: Lang) -> Template {
        Template {
            name: self.name,
            text: self.texts[lang as usize],
        }
    }
}

macro_rules! localized {
    ($name:literal) => {
        Localized {
            name: $name,
            texts: [
                include_str!(concat!("templates/", $name, ".en.txt")),
                include_str!(concat!("templates/", $name, ".nl.txt")),
                include_str!(concat!("templates/", $name, ".fr.txt")),
                include_str!(concat!("templates/", $name, ".de.txt")),
            ],
        }
    };
}

pub const ACKNOWLEDGMENT: Localized = localized!("acknowledgment");

pub const RETENTION_REMINDER: Localized = localized!("retention_reminder");

/// The sign-in link of the privacy pages.
pub const PRIVACY_LINK: Localized = localized!("privacy_link");

/// To the candidate when their subject request needs more time: the new
/// deadline and why (GDPR article 12(3)).
pub const SUBJECT_REQUEST_EXTENDED: Localized = localized!("subject_request_extended");

/// To the candidate before the employer lifts their restriction (GDPR
/// article 18(3)): the restriction goes once this mail is sent.
pub const RESTRICTION_LIFTED: Localized = localized!("restriction_lifted");

/// To the new address a candidate gave: the link that confirms it.
pub const EMAIL_CHANGE: Localized = localized!("email_change");

pub const CANDIDATE_MAILS: &[Localized] = &[
    ACKNOWLEDGMENT,
    RETENTION_REMINDER,
    PRIVACY_LINK,
    SUBJECT_REQUEST_EXTENDED,
    RESTRICTION_LIFTED,
    EMAIL_CHANGE,
];

/// To the privacy officer: the requests whose deadline nears, by id, kind
/// and deadline only.
pub const OFFICER_REMINDER: Template = Template {
    name: "officer_reminder",
    text: include_str!("templates/officer_reminder.txt"),
};

/// Where a reminder's link goes: the token is made when the mail is sent,
/// so the stored copy of the mail keeps this placeholder, never the token.
pub const CONSENT_URL: &str = "{{consent_url}}";

/// Where a sign-in link goes: made when the mail is sent, as for reminders.
pub const PRIVACY_URL: &str = "{{privacy_url}}";

/// Where an email change is confirmed: made when the mail is sent.
pub const EMAIL_CHANGE_URL: &str = "{{email_change_url}}";

/// The mails in one language.
pub const TEMPLATES: &[Template] = &[OFFICER_REMINDER];

/// The host part of the Message-IDs this service makes: its public host.
pub fn message_domain(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into())
}

/// The file the file transport writes a message to.
fn mail_file(dir: &std::path::Path, message_id: Uuid) -> PathBuf {
    dir.join(format!("{message_id}.eml"))
}

/// Deletes the mail files of these messages from the file transport's
/// folder (missing ones are fine) and syncs the folder, so that the
/// deletion lasts; for purged applications, whatever the transport is now.
pub async fn delete_files(
    dir: impl AsRef<std::path::Path>,
    message_ids: Vec<Uuid>,
) -> std::io::Result<()> {
    let dir = dir.as_ref().to_owned();
    if message_ids.is_empty() {
        return Ok(());
    }
    tokio::task::spawn_blocking(move || {
        if !dir.is_dir() {
            return Ok(());
        }
        for id in message_ids {
            match std::fs::remove_file(mail_file(&dir, id)) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
        }
        std::fs::File::open(&dir)?.sync_all()
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A rendered mail: subject and plain-text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

impl Template {
    pub fn render(&self, values: &[(&str, &str)]) -> Rendered {
        let mut text = self.text.to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{{{name}}}}}"), value);
        }
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let subject = head.strip_prefix("Subject: ").unwrap_or(head);
        Rendered {
            // A name may not break the subject line.
            subject: subject.replace(['\r', '\n'], " ").trim().to_owned(),
            body: body.to_owned(),
        }
    }
}

/// Why a mail was not handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later (the relay is down, busy or slow), with a
    /// short code for the record.
    Transient(&'static str),
    /// Trying again would not help (the relay refused it, the address is invalid).
    Permanent(&'static str),
}

impl SendError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Transient(code) | Self::Permanent(code) => code,
        }
    }
}

/// What a mail says and who it goes to.
pub struct Outgoing<'a> {
    pub id: Uuid,
    /// With its angle brackets.
    pub message_id: &'a str,
    pub to_name: &'a str,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub date: chrono::DateTime<chrono::Utc>,
}

pub enum Mailer {
    /// One `<message id>.eml` file per mail; writing it again replaces it.
    Files(PathBuf),
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        timeout: Duration,
    },
}

impl Mailer {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        Ok(match settings.transport {
            MailTransport::File => Self::Files(PathBuf::from(&settings.dir)),
            MailTransport::Smtp => {
                let timeout = settings.timeout.to_std();
                let transport =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp_url.expose())
                        .context("mail.smtp_url")?
                        .timeout(Some(timeout))
                        .build();
                Self::Smtp { transport, timeout }
            }
        })
    }

    pub async fn send(&self, from: &Mailbox, mail: &Outgoing<'_>) -> Result<(), SendError> {
        let message = build(from, mail)?;
        match self {
            Self::Files(dir) => write_file(dir, mail.id, &message.formatted()).await,
            Self::Smtp { transport, timeout } => {
                // lettre's timeout covers each command; this bounds the whole exchange.
                match tokio::time::timeout(*timeout * 2, transport.send(message)).await {
                    Err(_) => Err(SendError::Transient("smtp_timeout")),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) if err.is_permanent() => {
                        Err(SendError::Permanent("smtp_rejected"))
                    }
                    Ok(Err(err)) if err.is_timeout() => Err(SendError::Transient("smtp_timeout")),
                    Ok(Err(err)) if err.is_transient() => {
                        Err(SendError::Transient("smtp_deferred"))
                    }
                    Ok(Err(_)) => Err(SendError::Transient("smtp_unavailable")),
                }
            }
        }
    }
}

impl Mailer {
    /// Makes the mails handed over so far durable, before they are recorded
    /// as sent: for the folder transport, one sync of the folder for the
    /// whole batch (SMTP relays take responsibility as they accept).
    pub async fn commit(&self) -> Result<(), SendError> {
        let Self::Files(dir) = self else {
            return Ok(());
        };
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
            .await
            .map_err(|_| SendError::Transient("file_write"))?
            .map_err(|_| SendError::Transient("file_write"))
    }
}

fn build(from: &Mailbox, mail: &Outgoing<'_>) -> Result<Message, SendError> {
    let address = mail
        .to_address
        .parse()
        .map_err(|_| SendError::Permanent("invalid_address"))?;
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(Some(mail.to_name.to_owned()), address))
        .subject(mail.subject)
        .message_id(Some(mail.message_id.to_owned()))
        .date(mail.date.into())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.to_owned())
        .map_err(|_| SendError::Permanent("invalid_message"))
}

/// Writes the mail: a temporary file, synced, renamed into place. The
/// folder itself is synced by [`Mailer::commit`], once for a batch.
async fn write_file(dir: &std::path::Path, id: Uuid, bytes: &[u8]) -> Result<(), SendError> {
    let (dir, bytes) = (dir.to_owned(), bytes.to_owned());
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&dir)?;
        file.write_all(&bytes)?;
        file.as_file().sync_all()?;
        file.persist(mail_file(&dir, id))?;
        Ok(())
    })
    .await
    .map_err(|_| SendError::Transient("file_write"))?
    .map_err(|_| SendError::Transient("file_write"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_a_subject_and_fills_every_placeholder() {
        let localized = CANDIDATE_MAILS
            .iter()
            .flat_map(|mail| Lang::ALL.iter().map(|lang| mail.of(*lang)));
        for template in TEMPLATES.iter().copied().chain(localized) {
            let rendered = template.render(&[
                ("full_name", "Ada"),
                ("job_title", "Engineer"),
                ("purge_date", "1 June 2027"),
                ("extended_until", "1 June 2028"),
                ("link_expires", "1 July 2027"),
                ("consent_url", "https://a.example/consent/t"),
                ("privacy_url", "https://a.example/privacy/verify/t"),
                ("email_change_url", "https://a.example/privacy/email/t"),
                ("privacy_page", "https://a.example/privacy/requests"),
                ("link_minutes", "30"),
                ("new_deadline", "3 March 2027"),
                ("reason", "Many documents to gather."),
                ("count", "1"),
                ("by", "2027-03-10 10:00 UTC"),
                ("requests", "- 0193… access, due 2027-03-03 10:00 UTC"),
            ]);
            assert!(!rendered.subject.is_empty(), "{}", template.name);
            assert!(!rendered.body.trim().is_empty(), "{}", template.name);
            for text in [&rendered.subject, &rendered.body] {
                assert!(!text.contains("{{"), "{}: {text}", template.name);
            }
        }
    }

    #[test]
    fn every_language_of_a_mail_takes_the_same_placeholders() {
        let placeholders = |text: &str| -> std::collections::BTreeSet<String> {
            text.split("{{")
                .skip(1)
                .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.to_owned()))
                .collect()
        };
        for mail in CANDIDATE_MAILS {
            let english = placeholders(mail.of(Lang::En).text);
            assert!(!english.is_empty(), "{}", mail.name);
            for lang in Lang::ALL {
                assert_eq!(
                    placeholders(mail.of(*lang).text),
                    english,
                    "{} in {lang}",
                    mail.name
                );
            }
        }
    }

    #[test]
    fn a_value_cannot_break_the_subject_line() {
        let rendered = ACKNOWLEDGMENT.of(Lang::En).render(&[
            ("full_name", "Ada"),
            ("job_title", "Engineer\r\nBcc: someone@example.com"),
        ]);
        assert!(!rendered.subject.contains('\n') && !rendered.subject.contains('\r'));
        assert!(rendered.subject.contains("Engineer"));
    }

    #[tokio::test]
    async fn a_mail_file_is_written_once_per_message_and_rewriting_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::Files(dir.path().to_owned());
        let id = Uuid::now_v7();
        let message_id = format!("<{id}@vault.example>");
        let mail = Outgoing {
            id,
            message_id: &message_id,
            to_name: "Ada Lovelace",
            to_address: "ada@example.com",
            subject: "Hello",
            body: "Ünïcode body\n",
            date: chrono::Utc::now(),
        };
        let from: Mailbox = "Jobs <jobs@vault.example>".parse().unwrap();
        mailer.send(&from, &mail).await.unwrap();
        mailer.send(&from, &mail).await.unwrap();
        mailer.commit().await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(dir.path().join(format!("{id}.eml"))).unwrap();
        assert!(text.contains(&format!("Message-ID: {message_id}")));
        assert!(
            text.contains("To: \"Ada Lovelace\" <ada@example.com>"),
            "{text}"
        );
        let bad = Outgoing {
            to_address: "not an address",
            ..mail
        };
        assert_eq!(
            mailer.send(&from, &bad).await,
            Err(SendError::Permanent("invalid_address"))
        );
    }
}
