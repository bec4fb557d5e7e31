//! Interviews: their kinds and statuses.

use poem_openapi::Enum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum InterviewKind {
    Phone,
    Video,
    Onsite,
}

stored_as_text!(InterviewKind {
    Phone => "phone",
    Video => "video",
    Onsite => "onsite",
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum InterviewStatus {
    #[default]
    Scheduled,
    Done,
    Cancelled,
}

stored_as_text!(InterviewStatus {
    Scheduled => "scheduled",
    Done => "done",
    Cancelled => "cancelled",
});
