//! Interview planning, and each interview as an iCalendar invitation.

use chrono::{DateTime, FixedOffset, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::Path,
    payload::{Json, PlainText},
    types::MaybeUndefined,
};
use uuid::Uuid;

use super::{
    ApiTags,
    applications::existing,
    auth::{Auth, Recruiters},
    messages::message_domain,
    not_null,
    text::Text,
};
use crate::{
    app::AppState,
    domain::{
        fields::{self, FieldError},
        ics::Invitation,
        interview::{InterviewKind, InterviewStatus},
    },
    error::{ApiError, ApiResult},
    store::{
        self,
        audit::Access,
        entity::interview,
        interviews::{CreateInterview, InterviewPlan, UpdateInterview},
    },
};

pub struct InterviewsApi;

/// The longest interviewer name or address, in characters.
pub const MAX_INTERVIEWER: usize = crate::domain::fields::limits::INTERVIEWER;

/// A new interview. Times are RFC 3339 with an offset; `ends_at` must be
/// after `starts_at` (else 422).
#[derive(Object)]
struct NewInterview {
    starts_at: DateTime<FixedOffset>,
    ends_at: DateTime<FixedOffset>,
    kind: InterviewKind,
    /// Where an onsite interview takes place.
    #[oai(nullable, validator(max_length = 500))]
    location: Option<Text>,
    /// The link of a video call (http or https).
    #[oai(nullable, validator(max_length = 2000))]
    meeting_url: Option<Text>,
    /// Names or email addresses; addresses are invited in the `.ics`. None by default.
    #[oai(validator(max_items = 20))]
    interviewers: MaybeUndefined<Vec<Text>>,
    /// `scheduled` by default.
    status: MaybeUndefined<InterviewStatus>,
    #[oai(nullable, validator(max_length = 10000))]
    feedback: Option<Text>,
}

/// Changes to an interview: absent fields stay; an empty string clears
/// `location`, `meeting_url` or `feedback`.
#[derive(Object)]
struct InterviewPatch {
    starts_at: MaybeUndefined<DateTime<FixedOffset>>,
    ends_at: MaybeUndefined<DateTime<FixedOffset>>,
    kind: MaybeUndefined<InterviewKind>,
    #[oai(nullable, validator(max_length = 500))]
    location: Option<Text>,
    #[oai(nullable, validator(max_length = 2000))]
    meeting_url: Option<Text>,
    #[oai(validator(max_items = 20))]
    interviewers: MaybeUndefined<Vec<Text>>,
    status: MaybeUndefined<InterviewStatus>,
    #[oai(nullable, validator(max_length = 10000))]
    feedback: Option<Text>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct Interview {
    id: Uuid,
    application_id: Uuid,
    /// In the offset it was given in.
    starts_at: DateTime<FixedOffset>,
    ends_at: DateTime<FixedOffset>,
    kind: InterviewKind,
    location: Option<String>,
    meeting_url: Option<String>,
    interviewers: Vec<String>,
    status: InterviewStatus,
    feedback: Option<String>,
    /// Bumped by every change; the `.ics` carries it as SEQUENCE.
    sequence: i32,
    /// The key that planned it.
    api_key_id: Option<Uuid>,
    /// The person it was planned for (`On-Behalf-Of`).
    actor: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<interview::Model> for Interview {
    fn from(model: interview::Model) -> Self {
        let plan = InterviewPlan::of(&model);
        Self {
            id: model.id,
            application_id: model.application_id,
            starts_at: plan.starts_at,
            ends_at: plan.ends_at,
            kind: plan.kind,
            location: plan.location,
            meeting_url: plan.meeting_url,
            interviewers: plan.interviewers,
            status: plan.status,
            feedback: plan.feedback,
            sequence: model.sequence,
            api_key_id: model.api_key_id,
            actor: model.actor,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

#[derive(Object)]
struct Interviews {
    items: Vec<Interview>,
}

#[derive(ApiResponse)]
enum InterviewCreated {
    #[oai(status = 201)]
    Created(Json<Interview>),
}

#[derive(ApiResponse)]
enum IcsResponse {
    /// An iCalendar (RFC 5545) invitation: METHOD:REQUEST, or CANCEL for a
    /// cancelled interview.
    #[oai(status = 200, content_type = "text/calendar; charset=utf-8")]
    Calendar(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// Checks a plan: the end after the start, texts and addresses well formed.
fn checked(plan: InterviewPlan) -> Result<InterviewPlan, FieldError> {
    if plan.ends_at <= plan.starts_at {
        return Err(FieldError::new("ends_at", "must be after starts_at"));
    }
    let interviewers = plan
        .interviewers
        .iter()
        .map(|name| fields::required_text("interviewers", name, MAX_INTERVIEWER))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(InterviewPlan {
        location: fields::optional_text("location", plan.location.as_deref(), 500)?,
        meeting_url: fields::web_url("meeting_url", plan.meeting_url.as_deref())?,
        feedback: fields::long_text("feedback", plan.feedback.as_deref(), 10_000)?,
        interviewers,
        ..plan
    })
}

fn texts(values: Vec<Text>) -> Vec<String> {
    values.into_iter().map(|t| t.0).collect()
}

/// The fields a PATCH sets; `None` leaves a field as it is. For the
/// optional texts, `Some("")` clears them ([`checked`] turns blanks into none).
#[derive(Clone)]
struct PlanChanges {
    starts_at: Option<DateTime<FixedOffset>>,
    ends_at: Option<DateTime<FixedOffset>>,
    kind: Option<InterviewKind>,
    location: Option<String>,
    meeting_url: Option<String>,
    interviewers: Option<Vec<String>>,
    status: Option<InterviewStatus>,
    feedback: Option<String>,
}

impl InterviewPatch {
    fn changes(self) -> ApiResult<PlanChanges> {
        Ok(PlanChanges {
            starts_at: not_null("starts_at", self.starts_at)?,
            ends_at: not_null("ends_at", self.ends_at)?,
            kind: not_null("kind", self.kind)?,
            location: self.location.map(|t| t.0),
            meeting_url: self.meeting_url.map(|t| t.0),
            interviewers: not_null("interviewers", self.interviewers)?.map(texts),
            status: not_null("status", self.status)?,
            feedback: self.feedback.map(|t| t.0),
        })
    }
}

impl PlanChanges {
    /// The plan after these changes, checked.
    fn onto(self, current: InterviewPlan) -> Result<InterviewPlan, FieldError> {
        checked(InterviewPlan {
            starts_at: self.starts_at.unwrap_or(current.starts_at),
            ends_at: self.ends_at.unwrap_or(current.ends_at),
            kind: self.kind.unwrap_or(current.kind),
            location: self.location.or(current.location),
            meeting_url: self.meeting_url.or(current.meeting_url),
            interviewers: self.interviewers.unwrap_or(current.interviewers),
            status: self.status.unwrap_or(current.status),
            feedback: self.feedback.or(current.feedback),
        })
    }
}

#[OpenApi(tag = "ApiTags::Applications")]
impl InterviewsApi {
    /// An application's interviews, earliest first. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/interviews",
        method = "get",
        operation_id = "list_interviews"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Interviews>> {
        let caller = auth.0;
        existing(&state.db, id.0).await?;
        let interviews = store::interviews::list(&state.db, id.0).await?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "interview.listed",
                application_id: Some(id.0),
                subject_id: None,
            })
            .await?;
        Ok(Json(Interviews {
            items: interviews.into_iter().map(Interview::from).collect(),
        }))
    }

    /// Plan an interview. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/interviews",
        method = "post",
        operation_id = "create_interview"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<NewInterview>,
    ) -> ApiResult<InterviewCreated> {
        let caller = auth.0;
        let body = body.0;
        let plan = checked(InterviewPlan {
            starts_at: body.starts_at,
            ends_at: body.ends_at,
            kind: body.kind,
            location: body.location.map(|t| t.0),
            meeting_url: body.meeting_url.map(|t| t.0),
            interviewers: not_null("interviewers", body.interviewers)?
                .map(texts)
                .unwrap_or_default(),
            status: not_null("status", body.status)?.unwrap_or_default(),
            feedback: body.feedback.map(|t| t.0),
        })?;
        let interview = state
            .writer
            .run(CreateInterview {
                application_id: id.0,
                plan,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, interview_id = %interview.id, "interview planned");
        Ok(InterviewCreated::Created(Json(interview.into())))
    }

    /// Change an interview: reschedule, record that it took place with
    /// feedback, or cancel it. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/interviews/:interview_id",
        method = "patch",
        operation_id = "update_interview"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        interview_id: Path<Uuid>,
        body: Json<InterviewPatch>,
    ) -> ApiResult<Json<Interview>> {
        let caller = auth.0;
        let changes = body.0.changes()?;
        let updated = state
            .writer
            .run(UpdateInterview {
                application_id: id.0,
                interview_id: interview_id.0,
                merge: move |current| changes.clone().onto(current),
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("interview"))??;
        Ok(Json(updated.into()))
    }

    /// The interview as an iCalendar (RFC 5545) invitation for the candidate,
    /// to send or import. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/interviews/:interview_id/ics",
        method = "get",
        operation_id = "interview_ics"
    )]
    async fn ics(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        interview_id: Path<Uuid>,
    ) -> ApiResult<IcsResponse> {
        let caller = auth.0;
        let interview = store::interviews::find(&state.db, id.0, interview_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("interview"))?;
        let addressee = store::applications::addressee(&state.db, id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        let plan = InterviewPlan::of(&interview);
        let host = message_domain(&state);
        let organizer = state
            .settings
            .mail
            .from
            .parse::<lettre::message::Mailbox>()
            .ok()
            .map(|mailbox| mailbox.email.to_string());
        let (addresses, names): (Vec<&String>, Vec<&String>) = plan
            .interviewers
            .iter()
            .partition(|who| fields::Email::parse("interviewers", who).is_ok());
        let mut description = format!("Interview ({}).", plan.kind.as_str());
        if !names.is_empty() {
            let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
            description.push_str(&format!("\nInterviewers: {}", names.join(", ")));
        }
        if let Some(url) = &plan.meeting_url {
            description.push_str(&format!("\nJoin: {url}"));
        }
        let mut attendees = vec![(Some(addressee.full_name.as_str()), addressee.email.as_str())];
        attendees.extend(addresses.iter().map(|a| (None, a.as_str())));
        let invitation = Invitation {
            uid: format!("{}@{host}", interview.id),
            sequence: interview.sequence,
            stamp: interview.updated_at,
            starts_at: interview.starts_at,
            ends_at: interview.ends_at,
            summary: &format!("Interview: {}", addressee.job_title),
            description: &description,
            location: plan.location.as_deref().or(plan.meeting_url.as_deref()),
            url: plan.meeting_url.as_deref(),
            cancelled: plan.status == InterviewStatus::Cancelled,
            organizer: organizer.as_deref(),
            attendees,
        };
        let ics = invitation.to_ics();
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "interview.exported",
                application_id: Some(id.0),
                subject_id: Some(interview.id),
            })
            .await?;
        Ok(IcsResponse::Calendar(
            PlainText(ics),
            format!("attachment; filename=\"interview-{}.ics\"", interview.id),
        ))
    }
}
