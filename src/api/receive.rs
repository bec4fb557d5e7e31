//! Storing a checked application, for the careers-site form and Indeed Apply
//! alike: files are checked from their bytes before anything is stored;
//! objects are written (and synced) before the rows commit, and removed again
//! if the rows do not.

use chrono::{DateTime, Utc};
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
        applications::{ApplicationRecord, NewApplication, NewDocument},
        audit::Actor,
        intake::{Admission, IntakeKey},
        messages::NewMessage,
    },
};

/// A file that passed the checks, as received.
pub(super) struct CheckedFile {
    kind: DocumentKind,
    data: UploadData,
    inspected: Inspected,
}

impl CheckedFile {
    /// Hex SHA-256 of the bytes.
    pub(super) fn sha256(&self) -> &str {
        &self.inspected.sha256
    }
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
pub(super) struct Received {
    pub new: NewApplication,
    pub files: Vec<CheckedFile>,
    pub job_title: String,
    pub actor: Actor,
    /// The import this application uses up, deleted in the same transaction.
    pub import_id: Option<Uuid>,
    pub intake_key: Option<IntakeKey>,
    pub now: DateTime<Utc>,
    /// Where it came from, for the metrics: `form`, `linkedin`, `indeed`
    /// or `indeed-apply`.
    pub channel: &'static str,
}

/// What became of the rows once the objects were stored. The caller decides
/// what a failed commit means (a lost idempotency race, a used import); the
/// objects are removed already.
pub(super) type Committed = Result<ApplicationRecord, DbErr>;

/// Stores the files, then the rows; answers 503 when the object store fails.
pub(super) async fn store(state: &AppState, received: Received) -> ApiResult<Committed> {
    let Received {
        new,
        files,
        job_title,
        actor,
        import_id,
        intake_key,
        now,
        channel,
    } = received;
    let mut documents: Vec<NewDocument> = Vec::with_capacity(files.len());
    for checked in files {
        match state.blobs.store_document(&checked.data).await {
            Ok(object_key) => documents.push(NewDocument {
                kind: checked.kind,
                content_type: checked.inspected.file_type.content_type(),
                size: checked.inspected.size,
                sha256: checked.inspected.sha256,
                object_key,
            }),
            Err(err) => {
                forget(state, &documents).await;
                return Err(ApiError::from_infrastructure("object store", &err));
            }
        }
    }

    let application_id = new.id;
    let job_id = new.job_id;
    let acknowledge = state.settings.mail.acknowledge_applications;
    let acknowledgment = acknowledge.then(|| {
        let privacy_page = format!(
            "{}/privacy/requests?lang={}",
            state.settings.server.public_url.trim_end_matches('/'),
            new.locale.unwrap_or_default()
        );
        let mail = mail::ACKNOWLEDGMENT
            .of(new.locale.unwrap_or_default())
            .render(&[
                ("full_name", &new.contact.full_name),
                ("job_title", &job_title),
                ("privacy_page", &privacy_page),
            ]);
        NewMessage {
            application_id,
            origin: mail::ACKNOWLEDGMENT.name.into(),
            subject: mail.subject,
            body: mail.body,
            domain: message_domain(state),
        }
    });
    let keys: Vec<String> = documents.iter().map(|d| d.object_key.clone()).collect();
    let committed = state
        .writer
        .run(Admission {
            application: new,
            documents,
            acknowledgment,
            actor,
            import_id,
            intake_key,
            policy: std::sync::Arc::clone(&state.policy),
            now,
        })
        .await;
    match &committed {
        Ok(record) => {
            if acknowledge {
                state.mail_queued.notify_one();
            }
            let bytes = record.documents.iter().map(|d| d.size.max(0) as u64).sum();
            state.metrics.received(channel, bytes);
            tracing::info!(application_id = %application_id, job_id = %job_id, "application received");
        }
        Err(_) => forget_keys(state, keys).await,
    }
    Ok(committed)
}

/// Removes objects whose rows did not commit; the sweep catches any we miss.
async fn forget(state: &AppState, documents: &[NewDocument]) {
    forget_keys(
        state,
        documents.iter().map(|d| d.object_key.clone()).collect(),
    )
    .await;
}

async fn forget_keys(state: &AppState, keys: Vec<String>) {
    if let Err(err) = state.blobs.delete_all(&keys).await {
        tracing::warn!(
            error = format!("{err:#}"),
            "could not remove objects of a failed intake"
        );
    }
}
