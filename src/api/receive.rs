//! Storing a checked application, for the careers-site form and Indeed Apply
//! alike: files are checked from their bytes before anything is stored;
//! objects are written (and synced) before the rows commit, and removed again
//! if the rows do not.

use sea_orm::DbErr;
use uuid::Uuid;

use super::messages::message_domain;
use crate::{
    app::AppState,
    blobs::{self, Inspected, UploadData},
    config::UploadSettings,
    domain::sniff::DocumentKind,
    error::{ApiError, ApiResult},
    mail,
    store::{
        self,
        applications::{ApplicationRecord, CandidateDetails, NewApplication},
        audit::Actor,
        messages::NewMessage,
    },
};

/// A file that passed the checks, as received.
pub(super) struct CheckedFile {
    kind: DocumentKind,
    data: UploadData,
    inspected: Inspected,
}

/// Size first (413), then type from the bytes (415); `field` names it in the answer.
pub(super) async fn check_file(
    kind: DocumentKind,
    field: &str,
    data: UploadData,
    limits: &UploadSettings,
) -> ApiResult<CheckedFile> {
    let max = max_bytes(kind, limits);
    if data.size() > max {
        return Err(ApiError::too_large(format!(
            "{field}: the file is larger than {max} bytes"
        )));
    }
    let inspected = blobs::inspect(kind, &data)
        .await
        .map_err(|err| ApiError::from_infrastructure("upload spool", &err.into()))?
        .map_err(|rejected| ApiError::unsupported_type(format!("{field}: {rejected}")))?;
    Ok(CheckedFile {
        kind,
        data,
        inspected,
    })
}

pub(super) fn max_bytes(kind: DocumentKind, limits: &UploadSettings) -> u64 {
    match kind {
        DocumentKind::Cv => limits.max_cv_bytes,
        DocumentKind::Picture => limits.max_picture_bytes,
    }
}

/// An application ready to store.
pub(super) struct Admission {
    pub candidate: CandidateDetails,
    pub new: NewApplication,
    pub files: Vec<CheckedFile>,
    pub job_title: String,
    pub actor: Actor,
    /// The import this application uses up, deleted in the same transaction.
    pub import_id: Option<Uuid>,
}

/// What became of the rows once the objects were stored. The caller decides
/// what a failed commit means (a lost idempotency race, a used import); the
/// objects are removed already.
pub(super) type Committed = Result<ApplicationRecord, DbErr>;

/// Stores the files, then the rows; answers 503 when the object store fails.
pub(super) async fn store(state: &AppState, admission: Admission) -> ApiResult<Committed> {
    let Admission {
        candidate,
        new,
        files,
        job_title,
        actor,
        import_id,
    } = admission;
    let mut stored: Vec<StoredFile> = Vec::new();
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
    let job_id = new.job_id;
    let acknowledge = state.settings.mail.acknowledge_applications;
    let acknowledgment = acknowledge.then(|| {
        let mail = mail::ACKNOWLEDGMENT.render(&[
            ("full_name", &candidate.full_name),
            ("job_title", &job_title),
        ]);
        NewMessage {
            application_id,
            origin: mail::ACKNOWLEDGMENT.name.into(),
            subject: mail.subject,
            body: mail.body,
            domain: message_domain(state),
        }
    });
    let rows = Rows {
        candidate,
        new,
        stored: stored.clone(),
        acknowledgment,
        actor,
        import_id,
    };
    let committed = commit(state, rows).await;
    match &committed {
        Ok(_) => {
            if acknowledge {
                state.mail_queued.notify_one();
            }
            tracing::info!(application_id = %application_id, job_id = %job_id, "application received");
        }
        Err(_) => forget(state, &stored).await,
    }
    Ok(committed)
}

type StoredFile = (String, Inspected, DocumentKind);

#[derive(Clone)]
struct Rows {
    candidate: CandidateDetails,
    new: NewApplication,
    stored: Vec<StoredFile>,
    acknowledgment: Option<NewMessage>,
    actor: Actor,
    import_id: Option<Uuid>,
}

/// The error a used-up import turns into inside the transaction.
pub(super) const IMPORT_GONE: &str = "the import is used or expired";

/// Writes the candidate, application, documents, audit event and the
/// acknowledgment mail in one transaction, using up the import if any, and
/// returns them as stored.
async fn commit(state: &AppState, rows: Rows) -> Result<ApplicationRecord, DbErr> {
    let policy = std::sync::Arc::clone(&state.policy);
    state
        .writer
        .write(move |txn| {
            let rows = rows.clone();
            let policy = std::sync::Arc::clone(&policy);
            Box::pin(async move {
                let Rows {
                    candidate,
                    mut new,
                    stored,
                    acknowledgment,
                    actor,
                    import_id,
                } = rows;
                if let Some(import_id) = import_id
                    && !store::imports::consume_import(txn, import_id, chrono::Utc::now()).await?
                {
                    return Err(DbErr::RecordNotFound(IMPORT_GONE.into()));
                }
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
async fn forget(state: &AppState, stored: &[StoredFile]) {
    let keys: Vec<String> = stored.iter().map(|(key, ..)| key.clone()).collect();
    if let Err(err) = state.blobs.delete_all(&keys).await {
        tracing::warn!(
            error = format!("{err:#}"),
            "could not remove objects of a failed intake"
        );
    }
}
