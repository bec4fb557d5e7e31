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
    retention::{
        holds::{LiftHold, PlaceHold, RecordConsent},
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
    /// When the hold ends by itself; absent or null: until it is lifted.
    #[oai(nullable)]
    until: Option<DateTime<Utc>>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct LegalHold {
    application_id: Uuid,
    reason: String,
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
                until: body.0.until,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("application"))?;
        tracing::info!(application_id = %id.0, "legal hold placed");
        Ok(Json(LegalHold {
            application_id: hold.application_id,
            reason: hold.reason,
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
