//! Interviews: their kinds and statuses.

use poem_openapi::Enum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
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
