//! Application and job statuses.

use poem_openapi::Enum;

/// Where an application stands in the recruitment procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType, serde::Serialize)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ApplicationStatus {
    New,
    Screening,
    Interview,
    Offer,
    Hired,
    Rejected,
    Withdrawn,
}

stored_as_text!(ApplicationStatus {
    New => "new",
    Screening => "screening",
    Interview => "interview",
    Offer => "offer",
    Hired => "hired",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

impl ApplicationStatus {
    /// Hired, rejected and withdrawn end the procedure (and start the
    /// retention clock).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Hired | Self::Rejected | Self::Withdrawn)
    }

    /// Where the pipeline lets an application go from here: one step forward,
    /// or out (rejected, withdrawn) while open; a rejected or withdrawn
    /// application may be reopened to screening, with a reason.
    pub fn next(self) -> &'static [ApplicationStatus] {
        use ApplicationStatus::*;
        match self {
            New => &[Screening, Rejected, Withdrawn],
            Screening => &[Interview, Rejected, Withdrawn],
            Interview => &[Offer, Rejected, Withdrawn],
            Offer => &[Hired, Rejected, Withdrawn],
            Rejected | Withdrawn => &[Screening],
            Hired => &[],
        }
    }

    /// Checks a move; the refusal says what is allowed instead.
    pub fn check_move(self, to: Self, reason: Option<&str>) -> Result<(), MoveRefused> {
        if !self.next().contains(&to) {
            let allowed: Vec<&str> = self.next().iter().map(|s| s.as_str()).collect();
            let allowed = if allowed.is_empty() {
                "none: the procedure has ended".to_owned()
            } else {
                allowed.join(", ")
            };
            return Err(MoveRefused(format!(
                "an application cannot move from {} to {}; allowed next: {allowed}",
                self.as_str(),
                to.as_str()
            )));
        }
        let reopening = matches!(self, Self::Rejected | Self::Withdrawn);
        if reopening && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(MoveRefused(format!(
                "reopening a {} application needs a reason",
                self.as_str()
            )));
        }
        Ok(())
    }
}

/// A move the pipeline does not allow, with what it allows.
#[derive(Debug, PartialEq, Eq)]
pub struct MoveRefused(pub String);

/// Whether a job takes applications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
pub enum JobStatus {
    Open,
    Closed,
}

stored_as_text!(JobStatus {
    Open => "open",
    Closed => "closed",
});

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationStatus::*;

    #[test]
    fn the_whole_transition_table() {
        let allowed = [
            (New, Screening),
            (Screening, Interview),
            (Interview, Offer),
            (Offer, Hired),
            (Rejected, Screening),
            (Withdrawn, Screening),
        ];
        for &from in ApplicationStatus::ALL {
            for &to in ApplicationStatus::ALL {
                let out = !from.is_final() && matches!(to, Rejected | Withdrawn);
                let expected = allowed.contains(&(from, to)) || out;
                let verdict = from.check_move(to, Some("a reason"));
                assert_eq!(verdict.is_ok(), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn a_refusal_names_the_allowed_next_statuses() {
        let refused = New.check_move(Hired, None).unwrap_err();
        assert_eq!(
            refused.0,
            "an application cannot move from new to hired; allowed next: screening, rejected, withdrawn"
        );
        assert!(
            Hired
                .check_move(Rejected, None)
                .unwrap_err()
                .0
                .contains("procedure has ended")
        );
    }

    #[test]
    fn reopening_needs_a_reason_and_final_statuses_are_final() {
        assert!(Rejected.check_move(Screening, None).is_err());
        assert!(Withdrawn.check_move(Screening, Some("  ")).is_err());
        assert!(
            Rejected
                .check_move(Screening, Some("new role opened"))
                .is_ok()
        );
        assert!(Screening.check_move(Rejected, None).is_ok());
        let finals: Vec<_> = ApplicationStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, [Hired, Rejected, Withdrawn]);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for name in [
            "new",
            "screening",
            "interview",
            "offer",
            "hired",
            "rejected",
            "withdrawn",
        ] {
            assert_eq!(ApplicationStatus::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(ApplicationStatus::parse("archived"), None);
        assert_eq!(JobStatus::parse("closed"), Some(JobStatus::Closed));
    }
}
