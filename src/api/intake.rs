//! Application intake from the careers site: multipart form with a CV and an
//! optional picture. Files are checked from their bytes before anything is
//! stored; objects are written (and synced) before the rows commit, and removed
//! again if the rows do not.

use poem_openapi::{ApiResponse, Multipart, payload::Json, types::multipart::Upload};
use sea_orm::{DbErr, TransactionTrait};
use sha2::{Digest, Sha256};
use tokio::io::AsyncSeekExt;
use uuid::Uuid;

use super::{applications::Application, auth::Caller};
use crate::{
    app::AppState,
    blobs::{self, Inspected},
    config::UploadSettings,
    domain::{
        fields::{self, Email},
        keys::Role,
        sniff::DocumentKind,
        status::JobStatus,
    },
    error::{ApiError, ApiResult},
    store::{self, applications::CandidateDetails, audit::Actor},
};

/// An application as the careers site's form posts it.
#[derive(Multipart)]
pub(super) struct ApplicationForm {
    /// The open job applied to.
    job_id: Uuid,
    #[oai(validator(
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    ))]
    full_name: String,
    #[oai(validator(
        max_length = 254,
        pattern = r"^[^\s@\x00-\x1F\x7F-\x9F]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
    ))]
    email: String,
    #[oai(validator(max_length = 40, pattern = r"^$|^[+ ().\/-]*([0-9][+ ().\/-]*){6,}$"))]
    phone: Option<String>,
    /// The cover letter as text.
    #[oai(validator(
        max_length = 20000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    ))]
    cover_letter: Option<String>,
    /// PDF, DOCX, DOC, ODT, RTF or plain text; the type is read from the bytes.
    cv: Upload,
    /// JPEG, PNG or WebP.
    picture: Option<Upload>,
    #[oai(validator(
        max_length = 2000,
        pattern = r"^$|^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\x00-\x1F\x7F-\x9F]*)?$"
    ))]
    linkedin_url: Option<String>,
    #[oai(validator(
        max_length = 2000,
        pattern = r"^$|^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\x00-\x1F\x7F-\x9F]*)?$"
    ))]
    indeed_url: Option<String>,
    /// Where the candidate found us, such as `careers-site` or `linkedin`.
    #[oai(validator(max_length = 40, pattern = r"^[A-Za-z0-9._-]*$"))]
    source: Option<String>,
    /// Which privacy notice the candidate accepted.
    #[oai(validator(
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    ))]
    privacy_notice_version: String,
    /// Whether the candidate agreed to stay in the talent pool.
    talent_pool_consent: Option<bool>,
}

#[derive(ApiResponse)]
pub(super) enum SubmitResponse {
    /// The application is stored durably (a retry with the same
    /// `Idempotency-Key` answers the first application again).
    #[oai(status = 201)]
    Created(Json<Application>),
}

/// The validated text of a form.
struct ValidForm {
    candidate: CandidateDetails,
    new: store::applications::NewApplication,
}

/// A file that passed the checks, still in its temporary spool file.
struct CheckedFile {
    kind: DocumentKind,
    file: tokio::fs::File,
    inspected: Inspected,
}

/// Checks and stores one application; see `ApplicationsApi::submit`.
pub(super) async fn submit(
    state: &AppState,
    caller: Caller,
    form: ApplicationForm,
    idempotency_key: Option<String>,
) -> ApiResult<SubmitResponse> {
    caller.require_from_page(&[Role::CareersSite, Role::Admin])?;
    let job = store::jobs::get(&state.db, form.job_id)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    if job.status != JobStatus::Open.as_str() {
        return Err(ApiError::invalid("job_id: the job is closed"));
    }
    let intake_key =
        idempotency_key.map(|key| hex::encode(Sha256::digest(format!("{}:{key}", caller.key_id))));
    if let Some(key) = &intake_key
        && let Some(existing) = store::applications::find_by_intake_key(&state.db, key).await?
    {
        return answer(state, existing.id).await;
    }

    let limits = &state.settings.uploads;
    let ValidForm { candidate, new } = validate(&form, job.id, intake_key.clone())?;
    let mut files = vec![check_file(DocumentKind::Cv, form.cv, limits).await?];
    if let Some(picture) = form.picture {
        files.push(check_file(DocumentKind::Picture, picture, limits).await?);
    }

    let mut stored: Vec<(String, Inspected, DocumentKind)> = Vec::new();
    for mut checked in files {
        let key = match rewind(&mut checked.file).await {
            Ok(()) => state.blobs.store_document(checked.file).await,
            Err(err) => Err(err),
        };
        match key {
            Ok(key) => stored.push((key, checked.inspected, checked.kind)),
            Err(err) => {
                forget(state, &stored).await;
                return Err(ApiError::from_infrastructure("object store", &err));
            }
        }
    }

    let application_id = new.id;
    let committed = commit(state, &candidate, new, &stored, &caller.actor()).await;
    match committed {
        Ok(()) => {
            tracing::info!(application_id = %application_id, job_id = %job.id, "application received");
            answer(state, application_id).await
        }
        Err(err) => {
            forget(state, &stored).await;
            // A concurrent retry with the same Idempotency-Key won the race.
            if store::is_unique_violation(&err)
                && let Some(key) = &intake_key
                && let Some(existing) =
                    store::applications::find_by_intake_key(&state.db, key).await?
            {
                return answer(state, existing.id).await;
            }
            Err(err.into())
        }
    }
}
fn validate(
    form: &ApplicationForm,
    job_id: Uuid,
    intake_key: Option<String>,
) -> Result<ValidForm, fields::FieldError> {
    let candidate = CandidateDetails {
        full_name: fields::required_text("full_name", &form.full_name, 200)?,
        email: Email::parse("email", &form.email)?,
        phone: fields::phone("phone", form.phone.as_deref())?,
    };
    let new = store::applications::NewApplication {
        id: Uuid::now_v7(),
        job_id,
        candidate_id: Uuid::nil(),
        cover_letter: fields::long_text("cover_letter", form.cover_letter.as_deref(), 20_000)?,
        linkedin_url: fields::web_url("linkedin_url", form.linkedin_url.as_deref())?,
        indeed_url: fields::web_url("indeed_url", form.indeed_url.as_deref())?,
        source: fields::source("source", form.source.as_deref())?,
        privacy_notice_version: fields::required_text(
            "privacy_notice_version",
            &form.privacy_notice_version,
            100,
        )?,
        talent_pool_consent: form.talent_pool_consent.unwrap_or(false),
        intake_key,
    };
    Ok(ValidForm { candidate, new })
}

/// Size first (413), then type from the bytes (415).
async fn check_file(
    kind: DocumentKind,
    upload: Upload,
    limits: &UploadSettings,
) -> ApiResult<CheckedFile> {
    let max = match kind {
        DocumentKind::Cv => limits.max_cv_bytes,
        DocumentKind::Picture => limits.max_picture_bytes,
    };
    if upload.size() as u64 > max {
        return Err(ApiError::too_large(format!(
            "{}: the file is larger than {max} bytes",
            kind.as_str()
        )));
    }
    let mut file = upload.into_file();
    let inspected = blobs::inspect(kind, &mut file)
        .await
        .map_err(|err| ApiError::from_infrastructure("upload spool", &err.into()))?
        .map_err(|rejected| ApiError::unsupported_type(rejected.to_string()))?;
    Ok(CheckedFile {
        kind,
        file,
        inspected,
    })
}

async fn rewind(file: &mut tokio::fs::File) -> anyhow::Result<()> {
    file.rewind().await?;
    Ok(())
}

/// Writes the candidate, application, documents and audit event in one transaction.
async fn commit(
    state: &AppState,
    candidate: &CandidateDetails,
    mut new: store::applications::NewApplication,
    stored: &[(String, Inspected, DocumentKind)],
    actor: &Actor,
) -> Result<(), DbErr> {
    let txn = state.db.begin().await?;
    new.candidate_id = store::applications::upsert_candidate(&txn, candidate).await?;
    let application = store::applications::insert(&txn, new).await?;
    for (key, inspected, kind) in stored {
        store::applications::insert_document(
            &txn,
            store::applications::NewDocument {
                application_id: application.id,
                kind: kind.as_str(),
                content_type: inspected.file_type.content_type(),
                size: inspected.size,
                sha256: inspected.sha256.clone(),
                object_key: key.clone(),
            },
        )
        .await?;
    }
    store::audit::record(
        &txn,
        actor,
        "application.created",
        Some(application.id),
        None,
    )
    .await?;
    txn.commit().await
}

/// Removes objects whose rows did not commit; the sweep catches any we miss.
async fn forget(state: &AppState, stored: &[(String, Inspected, DocumentKind)]) {
    let keys: Vec<String> = stored.iter().map(|(key, ..)| key.clone()).collect();
    if let Err(err) = state.blobs.delete_all(&keys).await {
        tracing::warn!(
            error = format!("{err:#}"),
            "could not remove objects of a failed intake"
        );
    }
}

async fn answer(state: &AppState, application_id: Uuid) -> ApiResult<SubmitResponse> {
    let record = store::applications::get(&state.db, application_id)
        .await?
        .ok_or_else(|| ApiError::not_found("application"))?;
    Ok(SubmitResponse::Created(Json(Application::from(record))))
}
