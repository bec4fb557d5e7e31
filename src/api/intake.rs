//! Application intake from the careers site: multipart form with a CV and an
//! optional picture. Files are checked from their bytes before anything is
//! stored; objects are written (and synced) before the rows commit, and removed
//! again if the rows do not.

use std::sync::Arc;

use poem_openapi::{ApiResponse, Multipart, payload::Json};
use sea_orm::DbErr;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    applications::Application, auth::Caller, messages::message_domain, text::FormFlag,
    upload::FileUpload,
};
use crate::{
    app::AppState,
    blobs::{self, Inspected, UploadData},
    config::UploadSettings,
    domain::{
        fields::{self, Email},
        keys::Role,
        sniff::DocumentKind,
        status::JobStatus,
    },
    error::{ApiError, ApiResult},
    mail,
    store::{
        self,
        applications::{ApplicationRecord, CandidateDetails},
        audit::Actor,
        messages::NewMessage,
    },
};

/// An application as the careers site's form posts it.
#[derive(Multipart)]
#[oai(deny_unknown_fields)]
pub(super) struct ApplicationForm {
    /// The open job applied to.
    job_id: Uuid,
    #[oai(validator(max_length = 200))]
    full_name: String,
    #[oai(validator(max_length = 254))]
    email: String,
    #[oai(validator(max_length = 40))]
    phone: Option<String>,
    /// The cover letter as text.
    #[oai(validator(max_length = 20000))]
    cover_letter: Option<String>,
    /// PDF, DOCX, DOC, ODT, RTF or plain text; the type is read from the bytes.
    cv: FileUpload,
    /// JPEG, PNG or WebP.
    picture: Option<FileUpload>,
    #[oai(validator(max_length = 2000))]
    linkedin_url: Option<String>,
    #[oai(validator(max_length = 2000))]
    indeed_url: Option<String>,
    /// Where the candidate found us, such as `careers-site` or `linkedin`.
    #[oai(validator(max_length = 40))]
    source: Option<String>,
    /// Which privacy notice the candidate accepted.
    #[oai(validator(max_length = 100))]
    privacy_notice_version: String,
    /// Whether the candidate agreed to stay in the talent pool.
    talent_pool_consent: Option<FormFlag>,
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

/// A file that passed the checks, as received.
struct CheckedFile {
    kind: DocumentKind,
    data: UploadData,
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
    // A closed job is invisible to the careers site, so it is not found here either.
    let job = store::jobs::get(&state.db, form.job_id)
        .await?
        .filter(|job| job.status == JobStatus::Open.as_str())
        .ok_or_else(|| ApiError::not_found("job_id: an open job with this id"))?;
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
    for checked in files {
        match state.blobs.store_document(&checked.data).await {
            Ok(key) => stored.push((key, checked.inspected, checked.kind)),
            Err(err) => {
                forget(state, &stored).await;
                return Err(ApiError::from_infrastructure("object store", &err));
            }
        }
    }

    let application_id = new.id;
    let acknowledge = state.settings.mail.acknowledge_applications;
    let acknowledgment = acknowledge.then(|| {
        let mail = mail::ACKNOWLEDGMENT.render(&[
            ("full_name", &candidate.full_name),
            ("job_title", &job.title),
        ]);
        NewMessage {
            application_id,
            origin: mail::ACKNOWLEDGMENT.name.into(),
            subject: mail.subject,
            body: mail.body,
            domain: message_domain(state),
        }
    });
    let committed = commit(
        state,
        candidate,
        new,
        stored.clone(),
        acknowledgment,
        caller.actor(),
    )
    .await;
    match committed {
        Ok(record) => {
            if acknowledge {
                state.mail_queued.notify_one();
            }
            tracing::info!(application_id = %application_id, job_id = %job.id, "application received");
            Ok(SubmitResponse::Created(Json(
                Application::of(state, record).await?,
            )))
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
        talent_pool_consent: form.talent_pool_consent.is_some_and(|flag| flag.0),
        intake_key,
    };
    Ok(ValidForm { candidate, new })
}

/// Size first (413), then type from the bytes (415).
async fn check_file(
    kind: DocumentKind,
    upload: FileUpload,
    limits: &UploadSettings,
) -> ApiResult<CheckedFile> {
    let max = match kind {
        DocumentKind::Cv => limits.max_cv_bytes,
        DocumentKind::Picture => limits.max_picture_bytes,
    };
    let data = upload.0;
    if data.size() > max {
        return Err(ApiError::too_large(format!(
            "{}: the file is larger than {max} bytes",
            kind.as_str()
        )));
    }
    let inspected = blobs::inspect(kind, &data)
        .await
        .map_err(|err| ApiError::from_infrastructure("upload spool", &err.into()))?
        .map_err(|rejected| ApiError::unsupported_type(rejected.to_string()))?;
    Ok(CheckedFile {
        kind,
        data,
        inspected,
    })
}

/// Writes the candidate, application, documents, audit event and the
/// acknowledgment mail in one transaction, and returns them as stored.
async fn commit(
    state: &AppState,
    candidate: CandidateDetails,
    new: store::applications::NewApplication,
    stored: Vec<(String, Inspected, DocumentKind)>,
    acknowledgment: Option<NewMessage>,
    actor: Actor,
) -> Result<ApplicationRecord, DbErr> {
    let policy = Arc::clone(&state.policy);
    state
        .writer
        .write(move |txn| {
            let (candidate, mut new, stored, acknowledgment, actor) = (
                candidate.clone(),
                new.clone(),
                stored.clone(),
                acknowledgment.clone(),
                actor.clone(),
            );
            let policy = Arc::clone(&policy);
            Box::pin(async move {
                let candidate = store::applications::upsert_candidate(txn, &candidate).await?;
                new.candidate_id = candidate.id;
                let application = store::applications::insert(txn, new, &policy).await?;
                let mut documents = Vec::with_capacity(stored.len());
                for (key, inspected, kind) in stored {
                    let document = store::applications::insert_document(
                        txn,
                        store::applications::NewDocument {
                            application_id: application.id,
                            kind: kind.as_str(),
                            content_type: inspected.file_type.content_type(),
                            size: inspected.size,
                            sha256: inspected.sha256,
                            object_key: key,
                        },
                    )
                    .await?;
                    documents.push(document);
                }
                let application_id = Some(application.id);
                store::audit::record(txn, &actor, "application.created", application_id, None)
                    .await?;
                if let Some(acknowledgment) = acknowledgment {
                    // The system sends it, not the key that submitted.
                    store::messages::queue(txn, acknowledgment, &Actor::default()).await?;
                }
                Ok(ApplicationRecord {
                    application,
                    candidate,
                    documents,
                })
            })
        })
        .await
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
    let view = Application::of(state, record).await?;
    Ok(SubmitResponse::Created(Json(view)))
}
