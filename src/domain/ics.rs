//! iCalendar (RFC 5545) invitations for interviews: one VEVENT, times in UTC,
//! text escaped (§3.3.11) and lines folded at 75 octets (§3.1), CRLF endings.

use std::fmt::Write;

use chrono::{DateTime, Utc};

/// What an invitation says. Attendees are addresses; people known only by
/// name are listed in the description.
pub struct Invitation<'a> {
    /// Globally unique and stable across updates, so calendars replace the event.
    pub uid: String,
    pub sequence: i32,
    pub stamp: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: &'a str,
    pub description: &'a str,
    pub location: Option<&'a str>,
    pub url: Option<&'a str>,
    pub cancelled: bool,
    pub organizer: Option<&'a str>,
    /// (display name, address)
    pub attendees: Vec<(Option<&'a str>, &'a str)>,
}

impl Invitation<'_> {
    /// The METHOD the calendar object carries: a request, or its cancellation.
    pub fn method(&self) -> &'static str {
        if self.cancelled { "CANCEL" } else { "REQUEST" }
    }

    pub fn to_ics(&self) -> String {
        let mut out = String::new();
        let mut line = |content: String| fold_into(&mut out, &content);
        line("BEGIN:VCALENDAR".into());
        line("VERSION:2.0".into());
        line(format!(
            "PRODID:-//applicant-vault//{}//EN",
            env!("CARGO_PKG_VERSION")
        ));
        line("CALSCALE:GREGORIAN".into());
        line(format!("METHOD:{}", self.method()));
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", escape(&self.uid)));
        line(format!("SEQUENCE:{}", self.sequence));
        line(format!("DTSTAMP:{}", utc(self.stamp)));
        line(format!("DTSTART:{}", utc(self.starts_at)));
        line(format!("DTEND:{}", utc(self.ends_at)));
        line(format!("SUMMARY:{}", escape(self.summary)));
        if !self.description.is_empty() {
            line(format!("DESCRIPTION:{}", escape(self.description)));
        }
        if let Some(location) = self.location {
            line(format!("LOCATION:{}", escape(location)));
        }
        if let Some(url) = self.url {
            line(format!("URL:{url}"));
        }
        line(format!(
            "STATUS:{}",
            if self.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            }
        ));
        if let Some(organizer) = self.organizer {
            line(format!("ORGANIZER:mailto:{organizer}"));
        }
        for (name, address) in &self.attendees {
            let name = name
                .map(|n| format!(";CN={}", param(n)))
                .unwrap_or_default();
            line(format!(
                "ATTENDEE{name};ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{address}"
            ));
        }
        line("END:VEVENT".into());
        line("END:VCALENDAR".into());
        out
    }
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT values: backslash, semicolon, comma and line breaks escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted, without the characters a quoted value cannot hold.
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// Appends a content line folded into lines of at most 75 octets, never
/// splitting a character, each continuation starting with a space.
fn fold_into(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation() -> Invitation<'static> {
        Invitation {
            uid: "0192f0c4-0000-7000-8000-000000000001@vault.example".into(),
            sequence: 2,
            stamp: "2026-11-25T10:00:00Z".parse().unwrap(),
            starts_at: "2026-12-01T09:00:00Z".parse().unwrap(),
            ends_at: "2026-12-01T10:00:00Z".parse().unwrap(),
            summary: "Interview: Data engineer, Berlin; team B",
            description: "Interviewers: Ana, Bo\nBring \\ nothing",
            location: Some("Room 4, Hauptstraße 1"),
            url: None,
            cancelled: false,
            organizer: Some("jobs@vault.example"),
            attendees: vec![(Some("Ada \"the\" Lovelace"), "ada@example.com")],
        }
    }

    #[test]
    fn text_is_escaped_and_lines_end_in_crlf() {
        let ics = invitation().to_ics();
        assert!(ics.contains("SUMMARY:Interview: Data engineer\\, Berlin\\; team B\r\n"));
        assert!(ics.contains("DESCRIPTION:Interviewers: Ana\\, Bo\\nBring \\\\ nothing\r\n"));
        assert!(ics.contains("DTSTART:20261201T090000Z\r\n"));
        assert!(ics.contains("ATTENDEE;CN=\"Ada the Lovelace\";ROLE=REQ-PARTICIPANT"));
        assert!(ics.contains("METHOD:REQUEST\r\n") && ics.contains("STATUS:CONFIRMED\r\n"));
        assert!(
            ics.split("\r\n")
                .all(|l| !l.contains('\n') && !l.contains('\r'))
        );
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let summary = "Entretien d'embauche: ingénieur·e données ".repeat(6);
        let ics = Invitation {
            summary: Box::leak(summary.clone().into_boxed_str()),
            ..invitation()
        }
        .to_ics();
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", escape(&summary))));
    }

    #[test]
    fn a_cancelled_interview_is_a_cancellation() {
        let ics = Invitation {
            cancelled: true,
            ..invitation()
        }
        .to_ics();
        assert!(ics.contains("METHOD:CANCEL\r\n") && ics.contains("STATUS:CANCELLED\r\n"));
    }
}
