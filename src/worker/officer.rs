//! Reminds the privacy officer of the subject requests whose deadline nears:
//! one mail per run listing each request not yet reminded of its current
//! deadline, by id, kind and deadline only (nothing about the person). The
//! mail is tied to no application, so it goes straight to the transport,
//! not through the candidates' outbox; a request counts as reminded only
//! once the mail is handed over, so a failed send is tried again next run.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use uuid::Uuid;

use crate::{
    mail::{self, Mailer, Outgoing, Rendered},
    services::Services,
    store::{
        entity::subject_request,
        subject_requests::{self, MarkOfficerReminded},
    },
};

/// Mails `privacy.officer_email` (when set) the requests still to answer
/// whose deadline falls within `privacy.officer_reminder_before` of `now`
/// (or has passed) and who were not reminded of it yet; how many it listed.
pub async fn remind_officer(state: &Services, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let privacy = &state.settings.privacy;
    if privacy.officer_email.trim().is_empty() {
        return Ok(0);
    }
    let by = now + privacy.officer_reminder_before.0;
    let due = subject_requests::due_officer_reminder(&state.db, by).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let officer: Mailbox = privacy
        .officer_email
        .trim()
        .parse()
        .context("privacy.officer_email")?;
    let settings = &state.settings.mail;
    let mailer = Mailer::from_settings(settings)?;
    let from: Mailbox = settings.from.parse().context("mail.from")?;
    let reminder = reminder(&due, by, now);
    let id = Uuid::now_v7();
    let message_id = format!(
        "<{id}@{}>",
        mail::message_domain(&state.settings.server.public_url)
    );
    let to_address = officer.email.to_string();
    let outgoing = Outgoing {
        id,
        message_id: &message_id,
        to_name: officer.name.as_deref().unwrap_or_default(),
        to_address: &to_address,
        subject: &reminder.subject,
        body: &reminder.body,
        date: now,
    };
    let handed_over = match mailer.send(&from, &outgoing).await {
        Ok(()) => mailer.commit().await,
        Err(err) => Err(err),
    };
    if let Err(err) = handed_over {
        bail!(
            "the officer's reminder was not sent ({}); the next run tries again",
            err.code()
        );
    }
    let reminded = due
        .iter()
        .map(|request| (request.id, request.extended_until))
        .collect();
    state
        .writer
        .run(MarkOfficerReminded { reminded, at: now })
        .await?;
    tracing::info!(
        requests = due.len(),
        "privacy officer reminded of subject requests"
    );
    Ok(due.len())
}

fn reminder(due: &[subject_request::Model], by: DateTime<Utc>, now: DateTime<Utc>) -> Rendered {
    let time = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let requests: Vec<String> = due
        .iter()
        .map(|request| {
            let standing = request.standing();
            let mut line = format!(
                "- {} ({}): due {}",
                request.id,
                request.kind,
                time(standing.deadline())
            );
            if request.extended_until.is_some() {
                line.push_str(", extended");
            }
            if standing.is_overdue(now) {
                line.push_str(", OVERDUE");
            }
            line
        })
        .collect();
    mail::OFFICER_REMINDER.render(&[
        ("count", &due.len().to_string()),
        ("by", &time(by)),
        ("requests", &requests.join("\n")),
    ])
}
