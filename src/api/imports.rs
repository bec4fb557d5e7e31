//! Profile imports as the careers page reads them to prefill its form.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Auth, CareersPage},
};
use crate::{
    app::AppState,
    domain::imports::Provider,
    error::{ApiError, ApiResult},
    store::{self, audit::Access, entity::oauth_import},
};

pub struct ImportsApi;

/// What a provider gave about the candidate, kept until it is used by an
/// application or `expires_at`, whichever comes first.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct ProfileImport {
    id: Uuid,
    provider: Provider,
    /// The job the import was started for; the application must be for it too.
    job_id: Uuid,
    full_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    /// Only an address the provider verified.
    email: Option<String>,
    /// Such as `en-US`.
    locale: Option<String>,
    /// The candidate's public profile page, where the provider gives one.
    profile_url: Option<String>,
    /// Fetched (from the provider's picture hosts only) when the application
    /// is submitted without a picture of its own.
    picture_url: Option<String>,
    expires_at: DateTime<Utc>,
}

impl From<oauth_import::Model> for ProfileImport {
    fn from(import: oauth_import::Model) -> Self {
        Self {
            id: import.id,
            provider: import.provider,
            job_id: import.job_id,
            full_name: import.full_name,
            given_name: import.given_name,
            family_name: import.family_name,
            email: import.email,
            locale: import.locale,
            profile_url: import.profile_url,
            picture_url: import.picture_url,
            expires_at: import.expires_at,
        }
    }
}

#[derive(ApiResponse)]
enum ImportResponse {
    #[oai(status = 200)]
    Ok(Json<ProfileImport>),
}

#[OpenApi(tag = "ApiTags::Imports")]
impl ImportsApi {
    /// Read an import to prefill the application form. 404 once it is used
    /// or expired. Roles: careers-site (publishable keys too), admin.
    #[oai(path = "/v1/imports/:id", method = "get", operation_id = "get_import")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Auth<CareersPage>,
        id: Path<Uuid>,
    ) -> ApiResult<ImportResponse> {
        let caller = auth.0;
        let import = store::imports::find_import(&state.db, id.0, state.now())
            .await?
            .ok_or_else(|| ApiError::not_found("import"))?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "import.read",
                application_id: None,
                subject_id: Some(id.0),
            })
            .await?;
        Ok(ImportResponse::Ok(Json(import.into())))
    }
}
