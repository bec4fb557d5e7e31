//! Email communication with the candidate: mails sent through the outbox,
//! and replies received elsewhere, in one log.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi, param::Path, payload::Json, types::MaybeUndefined,
};
use uuid::Uuid;

use super::{
    ApiTags,
    applications::existing,
    auth::{Auth, Recruiters},
    not_null,
    text::Text,
};
use crate::{
    app::AppState,
    domain::{
        fields,
        message::{MessageDirection, MessageStatus},
    },
    error::{ApiError, ApiResult},
    store::{
        self,
        audit::Access,
        entity::message,
        messages::{NewMessage, RecordMessage},
    },
};

/// The longest subject and body, in characters.
pub const MAX_SUBJECT: usize = crate::domain::fields::limits::NAME;
pub const MAX_BODY: usize = crate::domain::fields::limits::LONG_TEXT;

pub struct MessagesApi;

/// A mail to the candidate, or (with `direction: inbound`) a reply received
/// elsewhere, to record.
#[derive(Object)]
struct MessageDraft {
    /// One line.
    subject: Text,
    /// Plain text; line breaks are kept.
    body: Text,
    /// `outbound` (the default) emails the candidate; `inbound` records a reply.
    direction: MaybeUndefined<MessageDirection>,
    /// When an inbound message arrived (default: now); not used for outbound ones.
    received_at: MaybeUndefined<DateTime<Utc>>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct Message {
    id: Uuid,
    application_id: Uuid,
    direction: MessageDirection,
    /// `recruiter`, `inbound`, or the system mail it is (`acknowledgment`).
    origin: String,
    subject: String,
    body: String,
    status: MessageStatus,
    /// The RFC 5322 Message-ID the mail carries.
    message_id: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    api_key_id: Option<Uuid>,
    /// The person it was written for (`On-Behalf-Of`).
    actor: Option<String>,
}

impl From<message::Model> for Message {
    fn from(model: message::Model) -> Self {
        Self {
            id: model.id,
            application_id: model.application_id,
            direction: model.direction,
            origin: model.origin,
            subject: model.subject,
            body: model.body,
            status: model.status,
            message_id: model.message_id,
            created_at: model.created_at,
            sent_at: model.sent_at,
            received_at: model.received_at,
            api_key_id: model.api_key_id,
            actor: model.actor,
        }
    }
}

#[derive(Object)]
struct Messages {
    items: Vec<Message>,
}

#[derive(ApiResponse)]
enum MessageCreated {
    /// Recorded; an outbound mail is `queued` and goes out through the outbox.
    #[oai(status = 201)]
    Created(Json<Message>),
}

/// The host part of the Message-IDs this service makes.
pub fn message_domain(state: &AppState) -> String {
    crate::mail::message_domain(&state.settings.server.public_url)
}

#[OpenApi(tag = "ApiTags::Applications")]
impl MessagesApi {
    /// The emails of an application, sent and received, oldest first.
    /// Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/messages",
        method = "get",
        operation_id = "list_messages"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Messages>> {
        let caller = auth.0;
        existing(&state.db, id.0).await?;
        let messages = store::messages::list(&state.db, id.0).await?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "message.listed",
                application_id: Some(id.0),
                subject_id: None,
            })
            .await?;
        Ok(Json(Messages {
            items: messages.into_iter().map(Message::from).collect(),
        }))
    }

    /// Email the candidate (queued, then delivered by the outbox with
    /// retries), or record a reply received elsewhere. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/messages",
        method = "post",
        operation_id = "create_message"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<MessageDraft>,
    ) -> ApiResult<MessageCreated> {
        let caller = auth.0;
        let draft = body.0;
        let subject = fields::required_text("subject", &draft.subject, MAX_SUBJECT)?;
        let text = fields::required_long_text("body", &draft.body, MAX_BODY)?;
        let direction = not_null("direction", draft.direction)?.unwrap_or_default();
        let received_at =
            not_null("received_at", draft.received_at)?.unwrap_or_else(|| state.now());
        let new = NewMessage {
            application_id: id.0,
            origin: match direction {
                MessageDirection::Outbound => "recruiter".into(),
                MessageDirection::Inbound => "inbound".into(),
            },
            subject,
            body: text,
            domain: message_domain(&state),
        };
        let message = state
            .writer
            .run(RecordMessage {
                new,
                direction,
                received_at,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        if direction == MessageDirection::Outbound {
            state.mail_queued.notify_one();
        }
        tracing::info!(application_id = %id.0, message_id = %message.id, direction = direction.as_str(), "message created");
        Ok(MessageCreated::Created(Json(message.into())))
    }
}
