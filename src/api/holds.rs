//! Legal holds and consents recorded by staff: what keeps an application
//! longer, or takes it sooner.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi, param::Path, payload::Json, types::MaybeUndefined,
};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Admins, Auth, Recruiters},
    not_null,
    text::Text,
};
use crate::{
    app::AppState,
    domain::fields,
    error::{ApiError, ApiResult},
    privacy::rights::AnnounceRestrictionLift,
    retention::{
        holds::{HoldCategory, LiftHold, PlaceHold, RecordConsent},
        policy::ConsentKind,
    },
};

/// The longest reason or evidence text, in characters.
pub const MAX_REASON: usize = fields::limits::REASON;

pub struct HoldsApi;

/// A legal hold: why, and optionally until when.
#[derive(Object)]
struct HoldRequest {
    reason: Text,
    /// What kind of obligation keeps it (the candidate is told this);
    /// absent: `other`.
    category: Option<HoldCategory>,
    /// Whether the reason stays from the candidate, who is then told only
    /// the category; absent or null: false.
    #[oai(nullable)]
    confidential: Option<bool>,
    /// When the hold ends by itself; absent or null: until it is lifted.
    #[oai(nullable)]
    until: Option<DateTime<Utc>>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct LegalHold {
    application_id: Uuid,
    reason: String,
    category: HoldCategory,
    confidential: bool,
    until: Option<DateTime<Utc>>,
    placed_at: DateTime<Utc>,
    api_key_id: Option<Uuid>,
    actor: Option<String>,
}

/// A consent the candidate gave another way (by phone, in writing).
#[derive(Object)]
struct ConsentRequest {
    /// How it was given, for the record.
    evidence: Text,
    /// `extension` (the default) keeps the application longer; `erasure` has it deleted now.
    kind: MaybeUndefined<ConsentKind>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct Consent {
    id: Uuid,
    application_id: Uuid,
    kind: ConsentKind,
    evidence: String,
    granted_at: DateTime<Utc>,
    api_key_id: Option<Uuid>,
    actor: Option<String>,
}

#[derive(ApiResponse)]
enum ConsentRecorded {
    #[oai(status = 201)]
    Created(Json<Consent>),
}

/// The mail that tells the candidate their restriction is being lifted.
#[derive(Object)]
struct RestrictionLift {
    application_id: Uuid,
    /// The mail, in the email log; the restriction lifts once it is sent.
    message_id: Uuid,
    /// Since when the application is restricted (until the mail is sent).
    restricted_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum LiftAnnounced {
    /// The candidate's mail is queued (or was already); the restriction
    /// lifts when it is sent.
    #[oai(status = 202)]
    Accepted(Json<RestrictionLift>),
}

#[derive(ApiResponse)]
enum HoldLifted {
    #[oai(status = 204)]
    Lifted,
}

#[OpenApi(tag = "ApiTags::Applications")]
impl HoldsApi {
    /// Place (or replace) a legal hold: while it lasts, the application is
    /// never purged. Role: admin.
    #[oai(
        path = "/v1/applications/:id/legal-hold",
        method = "put",
        operation_id = "place_legal_hold"
    )]
    async fn place(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
        body: Json<HoldRequest>,
    ) -> ApiResult<Json<LegalHold>> {
        let caller = auth.0;
        let reason = fields::required_long_text("reason", &body.0.reason, MAX_REASON)?;
        let hold = state
            .writer
            .run(PlaceHold {
                application_id: id.0,
                reason,
                category: body.0.category.unwrap_or_default(),
                confidential: body.0.confidential.unwrap_or(false),
                until: body.0.until,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, "legal hold placed");
        Ok(Json(LegalHold {
            application_id: hold.application_id,
            reason: hold.reason,
            category: hold.category,
            confidential: hold.confidential,
            until: hold.until,
            placed_at: hold.placed_at,
            api_key_id: hold.api_key_id,
            actor: hold.actor,
        }))
    }

    /// Lift the legal hold: the application is back on its schedule.
    /// Role: admin.
    #[oai(
        path = "/v1/applications/:id/legal-hold",
        method = "delete",
        operation_id = "lift_legal_hold"
    )]
    async fn lift(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
    ) -> ApiResult<HoldLifted> {
        let caller = auth.0;
        let lifted = state
            .writer
            .run(LiftHold {
                application_id: id.0,
                actor: caller.actor(),
            })
            .await?;
        if !lifted {
            return Err(ApiError::not_found("legal hold"));
        }
        tracing::info!(application_id = %id.0, "legal hold lifted");
        Ok(HoldLifted::Lifted)
    }

    /// Lift the restriction the candidate placed on the application's
    /// processing. The candidate is mailed first, in their language: the
    /// restriction lifts when that mail is sent, not before. Asking again
    /// while it waits queues no second mail. Role: admin.
    #[oai(
        path = "/v1/applications/:id/restriction",
        method = "delete",
        operation_id = "lift_restriction"
    )]
    async fn lift_restriction(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
    ) -> ApiResult<LiftAnnounced> {
        let caller = auth.0;
        let announced = state
            .writer
            .run(AnnounceRestrictionLift {
                application_id: id.0,
                actor: caller.actor(),
                public_url: state.settings.server.public_url.clone(),
                domain: super::messages::message_domain(&state),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("restriction"))?;
        tracing::info!(application_id = %id.0, message_id = %announced.message_id, "restriction lift announced");
        Ok(LiftAnnounced::Accepted(Json(RestrictionLift {
            application_id: id.0,
            message_id: announced.message_id,
            restricted_at: announced.restricted_at,
        })))
    }

    /// Record a consent the candidate gave another way, with its evidence:
    /// an extension keeps the application `consent.extension` longer (never
    /// past `consent.max_total` from the clock start); an erasure has it
    /// purged at the next run. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/consents",
        method = "post",
        operation_id = "record_consent"
    )]
    async fn consent(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        body: Json<ConsentRequest>,
    ) -> ApiResult<ConsentRecorded> {
        let caller = auth.0;
        let evidence = fields::required_long_text("evidence", &body.0.evidence, MAX_REASON)?;
        let kind = not_null("kind", body.0.kind)?.unwrap_or_default();
        let consent = state
            .writer
            .run(RecordConsent {
                application_id: id.0,
                kind,
                evidence,
                actor: caller.actor(),
                policy: Arc::clone(&state.policy),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, kind = kind.as_str(), "consent recorded");
        Ok(ConsentRecorded::Created(Json(Consent {
            id: consent.id,
            application_id: consent.application_id,
            kind,
            evidence: consent.evidence,
            granted_at: consent.granted_at,
            api_key_id: consent.api_key_id,
            actor: consent.actor,
        })))
    }
}
