//! Application and job statuses.

use poem_openapi::Enum;

/// Where an application stands in the recruitment procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ApplicationStatus {
    New,
    Screening,
    Interview,
    Offer,
    Hired,
    Rejected,
    Withdrawn,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Screening => "screening",
            Self::Interview => "interview",
            Self::Offer => "offer",
            Self::Hired => "hired",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        use ApplicationStatus::*;
        [New, Screening, Interview, Offer, Hired, Rejected, Withdrawn]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// Whether a job takes applications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum JobStatus {
    Open,
    Closed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Open, Self::Closed]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
