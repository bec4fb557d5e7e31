//! A candidate's copy of their data (GDPR articles 15 and 20): one ZIP with
//! `summary.html` (readable, in the candidate's language), `data.json`
//! (everything, machine-readable, versioned; its schema is
//! `openapi/data-export.schema.json`) and every file they sent, named by ids
//! only. The rows are read up front, in one snapshot, so the archive is
//! consistent; the files stream from the object store as it is sent.

mod data;
mod summary;

use std::{collections::HashMap, io};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{TryStreamExt, stream::BoxStream};
use sea_orm::{AccessMode, ConnectionTrait, DbBackend, DbErr, IsolationLevel, TransactionTrait};
use uuid::Uuid;

use super::zip::{self, Contents, Entry};
use crate::{
    blobs::Blobs,
    domain::lang::Lang,
    retention::{
        holds,
        policy::{Facts, Retention},
        records,
    },
    services::Services,
    store::{
        self,
        entity::{
            application, candidate, consent, document, interview, job, legal_hold, message, note,
            status_change,
        },
    },
};

/// A prepared export: its rows are read, its files not yet.
pub struct Export {
    exported_at: DateTime<Utc>,
    entries: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No candidate with this id (never was, or erased).
    #[error("no such candidate")]
    UnknownCandidate,
    #[error("reading the candidate's data")]
    Database(#[from] DbErr),
}

impl Export {
    /// What to save the archive as: a date, nothing about the person.
    pub fn file_name(&self) -> String {
        format!("applicant-data-{}.zip", self.exported_at.format("%Y-%m-%d"))
    }

    /// The archive, chunk by chunk. A file that cannot be read (purged
    /// meanwhile) ends it with an error before the central directory, so a
    /// broken download never passes for a complete archive.
    pub fn into_stream(self) -> BoxStream<'static, io::Result<Bytes>> {
        zip::archive(self.entries)
    }

    pub fn into_body(self) -> poem::Body {
        poem::Body::from_bytes_stream(self.into_stream())
    }
}

/// Everything stored about the candidate, ready to be sent. The caller
/// records the access (it knows who asked).
pub async fn export(
    services: &Services,
    candidate_id: Uuid,
    lang: Lang,
) -> Result<Export, ExportError> {
    let exported_at = services.now();
    let rows = read(services, candidate_id, exported_at)
        .await?
        .ok_or(ExportError::UnknownCandidate)?;
    let data = data::DataExport::of(&rows, exported_at);
    let mut entries = vec![
        Entry::bytes(
            "summary.html".into(),
            exported_at,
            summary::render(&data, lang).into(),
        ),
        Entry::bytes(
            "data.json".into(),
            exported_at,
            serde_json::to_vec_pretty(&data)
                .expect("the export is plain data")
                .into(),
        ),
    ];
    let documents = rows.applications.iter().flat_map(|a| &a.documents);
    entries.extend(documents.map(|document| file_entry(&services.blobs, document)));
    tracing::info!(
        %candidate_id,
        applications = rows.applications.len(),
        files = entries.len() - 2,
        "data export prepared"
    );
    Ok(Export {
        exported_at,
        entries,
    })
}

/// A document's bytes, opened when the archive reaches them.
fn file_entry(blobs: &Blobs, document: &document::Model) -> Entry {
    let blobs = blobs.clone();
    let (id, key) = (document.id, document.object_key.clone());
    let open = async move {
        let (_, bytes) = blobs.open(&key).await.map_err(|err| {
            tracing::warn!(document_id = %id, "a data export's document is not readable: {err:#}");
            io::Error::other(format!("document {id}: {err:#}"))
        })?;
        let bytes = bytes.inspect_err(move |err| {
            tracing::warn!(document_id = %id, "a data export's document broke off: {err}");
        });
        Ok(Box::pin(bytes) as BoxStream<'static, io::Result<Bytes>>)
    };
    Entry {
        name: data::archive_path(document),
        modified: document.created_at,
        size: u64::try_from(document.size).unwrap_or_default(),
        contents: Contents::Stream(Box::pin(open)),
    }
}

/// The stored rows of one candidate.
struct CandidateRows {
    candidate: candidate::Model,
    applications: Vec<ApplicationRows>,
}

struct ApplicationRows {
    application: application::Model,
    job: job::Model,
    /// As the API shows it (none if its job is gone).
    retention: Option<Retention>,
    documents: Vec<document::Model>,
    status_changes: Vec<status_change::Model>,
    notes: Vec<note::Model>,
    interviews: Vec<interview::Model>,
    messages: Vec<message::Model>,
    consents: Vec<consent::Model>,
    legal_hold: Option<legal_hold::Model>,
}

/// Reads in one read-only transaction: on PostgreSQL a repeatable-read
/// snapshot, on SQLite (WAL) a read transaction is one already.
async fn read(
    services: &Services,
    candidate_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<CandidateRows>, DbErr> {
    let db = &services.db;
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        _ => db.begin().await?,
    };
    let Some(candidate) = store::applications::find_candidate(&txn, candidate_id).await? else {
        return Ok(None);
    };
    let found = store::applications::of_candidate(&txn, candidate_id).await?;
    let models: Vec<application::Model> = found.iter().map(|(a, _)| a.clone()).collect();
    let mut facts: HashMap<Uuid, Facts> = records::facts_of(&txn, &models)
        .await?
        .into_iter()
        .collect();
    let mut applications = Vec::with_capacity(found.len());
    for (application, job) in found {
        let retention = facts
            .remove(&application.id)
            .map(|facts| services.policy.retention(&facts, now));
        applications.push(application_rows(&txn, application, job, retention).await?);
    }
    txn.commit().await?;
    Ok(Some(CandidateRows {
        candidate,
        applications,
    }))
}

async fn application_rows(
    db: &impl ConnectionTrait,
    application: application::Model,
    job: job::Model,
    retention: Option<Retention>,
) -> Result<ApplicationRows, DbErr> {
    let id = application.id;
    Ok(ApplicationRows {
        documents: store::applications::documents_of(db, id).await?,
        status_changes: store::pipeline::status_changes(db, id).await?,
        notes: store::notes::list(db, id).await?,
        interviews: store::interviews::list(db, id).await?,
        messages: store::messages::list(db, id).await?,
        consents: holds::consents_of(db, id).await?,
        legal_hold: holds::hold_of(db, id).await?,
        application,
        job,
        retention,
    })
}
