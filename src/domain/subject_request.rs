//! Data-subject requests (GDPR articles 12 and 15 to 21): what a person asks
//! of their data, how it reached us, where it stands, and the deadline the
//! employer answers by. Article 12(3): within one month of receipt,
//! extendable once by up to two further months when the person is told why
//! within the first month.

use chrono::{DateTime, Months, Utc};
use poem_openapi::Enum;

/// What the person asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
pub enum SubjectRequestKind {
    /// A copy of their data (article 15).
    Access,
    /// A correction (article 16).
    Rectification,
    /// Deletion (article 17).
    Erasure,
    /// Keeping the data but no longer using it (article 18).
    Restriction,
    /// An objection to a use of their data (article 21).
    Objection,
    /// A withdrawal of consent (article 7(3)).
    Withdrawal,
}

stored_as_text!(SubjectRequestKind {
    Access => "access",
    Rectification => "rectification",
    Erasure => "erasure",
    Restriction => "restriction",
    Objection => "objection",
    Withdrawal => "withdrawal",
});

/// How the request reached us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "snake_case")]
pub enum SubjectRequestChannel {
    /// On the candidate pages, signed in by a link to their address.
    SelfService,
    /// By email, recorded by an admin.
    Email,
    /// By post, recorded by an admin.
    Letter,
}

stored_as_text!(SubjectRequestChannel {
    SelfService => "self_service",
    Email => "email",
    Letter => "letter",
});

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
pub enum SubjectRequestStatus {
    /// Received, being worked on.
    Open,
    /// Waiting on something outside our hands (the person's proof of
    /// identity, a legal hold); the deadline still runs.
    Waiting,
    /// Answered.
    Done,
    /// Refused, with the reason the person was given.
    Refused,
}

stored_as_text!(SubjectRequestStatus {
    Open => "open",
    Waiting => "waiting",
    Done => "done",
    Refused => "refused",
});

impl SubjectRequestStatus {
    /// Done and refused requests are answered: they never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Refused)
    }

    /// The statuses of requests still to answer.
    pub const PENDING: [SubjectRequestStatus; 2] = [Self::Open, Self::Waiting];
}

/// The most calendar months a deadline may be extended by.
pub const MAX_EXTENSION_MONTHS: u32 = 2;

/// `at` plus `months` calendar months: the same day and time, or the last
/// day of the month when it has fewer days (31 January → 28 or 29 February).
fn add_months(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    at.checked_add_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When a request received at `received_at` must be answered: one calendar month on.
pub fn due_at(received_at: DateTime<Utc>) -> DateTime<Utc> {
    add_months(received_at, 1)
}

/// A change to a request, its texts already checked for form.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub status: Option<SubjectRequestStatus>,
    pub refusal_reason: Option<String>,
    /// `Some(None)` clears the details.
    pub details: Option<Option<String>>,
    pub extension: Option<Extension>,
}

/// More time to answer, and why (the person is told both).
#[derive(Clone, Debug)]
pub struct Extension {
    pub months: u32,
    pub reason: String,
}

/// Why a change cannot be made.
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeRefused {
    /// The change contradicts itself (a 422).
    Invalid(String),
    /// The request's state does not allow it (a 409).
    Conflict(String),
}

/// What the rules need to know of a stored request.
#[derive(Clone, Copy, Debug)]
pub struct Standing {
    pub status: SubjectRequestStatus,
    pub due_at: DateTime<Utc>,
    pub extended_until: Option<DateTime<Utc>>,
}

impl Standing {
    /// The deadline that holds: the extended one, else one month from receipt.
    pub fn deadline(&self) -> DateTime<Utc> {
        self.extended_until.unwrap_or(self.due_at)
    }

    /// Still to answer, and its deadline has passed.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        !self.status.is_final() && self.deadline() < now
    }

    /// Checks a change at `now`; the new deadline when it extends. Open and
    /// waiting requests may move to any status; done and refused are final.
    pub fn check(
        &self,
        change: &Change,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, ChangeRefused> {
        use ChangeRefused::{Conflict, Invalid};
        if self.status.is_final() {
            return Err(Conflict(format!(
                "the request is {}, which is final: it cannot change",
                self.status
            )));
        }
        let refusing = change.status == Some(SubjectRequestStatus::Refused);
        match (refusing, &change.refusal_reason) {
            (true, None) => {
                return Err(Invalid(
                    "refusal_reason: required to refuse a request".into(),
                ));
            }
            (false, Some(_)) => {
                return Err(Invalid("refusal_reason: only with status refused".into()));
            }
            _ => {}
        }
        let Some(extension) = &change.extension else {
            return Ok(None);
        };
        if change.status.is_some_and(SubjectRequestStatus::is_final) {
            return Err(Invalid(
                "extend_months: a request is extended or closed, not both at once".into(),
            ));
        }
        if !(1..=MAX_EXTENSION_MONTHS).contains(&extension.months) {
            return Err(Invalid(format!(
                "extend_months: 1 to {MAX_EXTENSION_MONTHS} months"
            )));
        }
        if let Some(until) = self.extended_until {
            return Err(Conflict(format!(
                "the deadline was already extended, to {}; it can be extended only once",
                until.to_rfc3339()
            )));
        }
        if now >= self.due_at {
            return Err(Conflict(format!(
                "the deadline can be extended only before the original due date, {}, has passed",
                self.due_at.to_rfc3339()
            )));
        }
        Ok(Some(add_months(self.due_at, extension.months)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubjectRequestStatus::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn open_since(received: &str) -> Standing {
        Standing {
            status: Open,
            due_at: due_at(at(received)),
            extended_until: None,
        }
    }

    fn extend(months: u32) -> Change {
        Change {
            extension: Some(Extension {
                months,
                reason: "many documents".into(),
            }),
            ..Change::default()
        }
    }

    #[test]
    fn a_request_is_due_one_calendar_month_after_receipt_the_months_last_day_at_most() {
        for (received, due) in [
            ("2027-01-31T09:30:00Z", "2027-02-28T09:30:00Z"),
            ("2028-01-31T09:30:00Z", "2028-02-29T09:30:00Z"),
            ("2027-03-31T00:00:00Z", "2027-04-30T00:00:00Z"),
            ("2027-01-15T23:59:59Z", "2027-02-15T23:59:59Z"),
            ("2026-12-03T10:00:00Z", "2027-01-03T10:00:00Z"),
            ("2027-02-28T12:00:00Z", "2027-03-28T12:00:00Z"),
        ] {
            assert_eq!(due_at(at(received)), at(due), "received {received}");
        }
    }

    #[test]
    fn an_extension_adds_calendar_months_to_the_due_date_once_and_before_it() {
        let standing = open_since("2027-01-31T09:30:00Z");
        let before_due = at("2027-02-20T00:00:00Z");
        assert_eq!(
            standing.check(&extend(1), before_due),
            Ok(Some(at("2027-03-28T09:30:00Z"))),
            "from the due date (28 February), not from receipt"
        );
        assert_eq!(
            standing.check(&extend(2), before_due),
            Ok(Some(at("2027-04-28T09:30:00Z")))
        );
        for months in [0, 3] {
            assert!(matches!(
                standing.check(&extend(months), before_due),
                Err(ChangeRefused::Invalid(_))
            ));
        }
        let on_due = standing.due_at;
        assert!(matches!(
            standing.check(&extend(1), on_due),
            Err(ChangeRefused::Conflict(m)) if m.contains("before the original due date")
        ));
        let extended = Standing {
            extended_until: Some(at("2027-03-28T09:30:00Z")),
            ..standing
        };
        assert!(matches!(
            extended.check(&extend(1), before_due),
            Err(ChangeRefused::Conflict(m)) if m.contains("only once")
        ));
        assert_eq!(extended.deadline(), at("2027-03-28T09:30:00Z"));
    }

    #[test]
    fn open_and_waiting_requests_move_anywhere_and_answered_ones_never() {
        let now = at("2027-01-05T00:00:00Z");
        for from in SubjectRequestStatus::ALL {
            for to in SubjectRequestStatus::ALL {
                let standing = Standing {
                    status: *from,
                    ..open_since("2027-01-01T00:00:00Z")
                };
                let change = Change {
                    status: Some(*to),
                    refusal_reason: (*to == Refused).then(|| "manifestly unfounded".into()),
                    ..Change::default()
                };
                let verdict = standing.check(&change, now);
                assert_eq!(verdict.is_ok(), !from.is_final(), "{from} -> {to}");
                if from.is_final() {
                    assert!(matches!(verdict, Err(ChangeRefused::Conflict(_))));
                }
            }
        }
        let done = Standing {
            status: Done,
            ..open_since("2027-01-01T00:00:00Z")
        };
        assert!(
            done.check(&Change::default(), now).is_err(),
            "not even details"
        );
    }

    #[test]
    fn a_refusal_needs_its_reason_and_a_reason_needs_a_refusal() {
        let standing = open_since("2027-01-01T00:00:00Z");
        let now = at("2027-01-05T00:00:00Z");
        let refuse = |reason: Option<&str>, status| Change {
            status: Some(status),
            refusal_reason: reason.map(str::to_owned),
            ..Change::default()
        };
        assert!(matches!(
            standing.check(&refuse(None, Refused), now),
            Err(ChangeRefused::Invalid(m)) if m.starts_with("refusal_reason")
        ));
        assert!(standing.check(&refuse(Some("why"), Done), now).is_err());
        assert!(standing.check(&refuse(Some("why"), Refused), now).is_ok());
        let closing_and_extending = Change {
            status: Some(Done),
            ..extend(1)
        };
        assert!(matches!(
            standing.check(&closing_and_extending, now),
            Err(ChangeRefused::Invalid(_))
        ));
    }

    #[test]
    fn only_a_request_still_to_answer_is_overdue() {
        let standing = open_since("2027-01-01T00:00:00Z");
        let after = at("2027-02-01T00:00:01Z");
        assert!(!standing.is_overdue(at("2027-02-01T00:00:00Z")));
        assert!(standing.is_overdue(after));
        let done = Standing {
            status: Done,
            ..standing
        };
        assert!(!done.is_overdue(after));
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(
            SubjectRequestChannel::parse("self_service"),
            Some(SubjectRequestChannel::SelfService)
        );
        assert_eq!(
            SubjectRequestKind::parse("withdrawal"),
            Some(SubjectRequestKind::Withdrawal)
        );
        assert_eq!(SubjectRequestStatus::parse("closed"), None);
    }
}
