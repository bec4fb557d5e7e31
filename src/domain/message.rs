//! Emails to and from the candidate: their direction and delivery status.

use poem_openapi::Enum;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
pub enum MessageDirection {
    /// Sent by us to the candidate.
    #[default]
    Outbound,
    /// Received from the candidate elsewhere and recorded here.
    Inbound,
}

stored_as_text!(MessageDirection {
    Outbound => "outbound",
    Inbound => "inbound",
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Waiting in the outbox (also while its transport is down).
    Queued,
    Sent,
    /// Given up: refused by the relay, or too many failed attempts.
    Failed,
    /// An inbound message.
    Received,
}

stored_as_text!(MessageStatus {
    Queued => "queued",
    Sent => "sent",
    Failed => "failed",
    Received => "received",
});
