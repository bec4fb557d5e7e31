//! `data.json`: the stored rows as the candidate receives them, every field
//! named for what it is and always present (`null` when empty), times in
//! RFC 3339. Its JSON Schema is `openapi/data-export.schema.json`; a change
//! of shape is a new `format_version` and a new schema.
//!
//! Left out on purpose: who on staff acted (key ids and `On-Behalf-Of`
//! names are other people's data) and bookkeeping that says nothing about
//! the candidate (statistics months and sources, policy fingerprints,
//! reminder marks, calendar sequence numbers, object keys).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{ApplicationRows, CandidateRows};
use crate::{
    domain::{
        imports::Provenance,
        interview::{InterviewKind, InterviewStatus},
        message::{MessageDirection, MessageStatus},
        sniff::{DocumentKind, FileType},
        status::ApplicationStatus,
    },
    retention::{holds::HoldCategory, policy::ConsentKind},
    store::{entity::document, interviews::InterviewPlan},
};

/// The shape of `data.json`; the schema's `format_version` is this constant.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct DataExport {
    pub format_version: u32,
    pub exported_at: DateTime<Utc>,
    pub candidate: Candidate,
    pub applications: Vec<Application>,
}

#[derive(Serialize)]
pub struct Candidate {
    pub id: Uuid,
    /// The address that groups the applications, as compared (lower case).
    pub email_normalised: String,
    /// When we first stored anything about them.
    pub known_since: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct Application {
    pub id: Uuid,
    pub job: Job,
    #[serde(serialize_with = "as_text")]
    pub status: ApplicationStatus,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub contact: Contact,
    pub cover_letter: Option<String>,
    /// Where the application came from, as the careers site named it.
    pub source: Option<String>,
    /// Each contact field to where its value came from (`form`, `linkedin`,
    /// `indeed`, `indeed-apply`); `null` where it was not recorded.
    pub provenance: Option<BTreeMap<String, String>>,
    pub privacy_notice_version: String,
    pub talent_pool_consent: bool,
    pub retention: RetentionView,
    pub consents: Vec<Consent>,
    pub status_history: Vec<StatusChange>,
    pub notes: Vec<Note>,
    pub interviews: Vec<Interview>,
    pub messages: Vec<Message>,
    pub documents: Vec<Document>,
}

#[derive(Serialize)]
pub struct Job {
    pub id: Uuid,
    pub title: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// The contact details as this application stores them.
#[derive(Serialize)]
pub struct Contact {
    pub full_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub linkedin_url: Option<String>,
    pub indeed_url: Option<String>,
}

#[derive(Serialize)]
pub struct RetentionView {
    /// When the application's data will be deleted, as things stand.
    pub delete_after: Option<DateTime<Utc>>,
    /// The rule that sets that date.
    pub rule: Option<String>,
    /// A legal hold in force stops the deletion.
    pub held: bool,
    pub legal_hold: Option<LegalHold>,
}

/// That a legal hold exists, of what kind and until when; its reason only
/// when the employer did not mark it confidential.
#[derive(Serialize)]
pub struct LegalHold {
    pub placed_at: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    #[serde(serialize_with = "as_text")]
    pub category: HoldCategory,
    pub reason: Option<String>,
}

#[derive(Serialize)]
pub struct Consent {
    pub id: Uuid,
    /// `extension` (keep it longer) or `erasure` (delete it now).
    #[serde(serialize_with = "as_text")]
    pub kind: ConsentKind,
    pub purpose: String,
    pub evidence: String,
    pub granted_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct StatusChange {
    pub id: Uuid,
    #[serde(serialize_with = "as_text")]
    pub from: ApplicationStatus,
    #[serde(serialize_with = "as_text")]
    pub to: ApplicationStatus,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct Note {
    pub id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct Interview {
    pub id: Uuid,
    #[serde(serialize_with = "as_text")]
    pub kind: InterviewKind,
    #[serde(serialize_with = "as_text")]
    pub status: InterviewStatus,
    /// In the time zone offset the interview was planned in.
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
    pub interviewers: Vec<String>,
    pub feedback: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct Message {
    pub id: Uuid,
    /// `outbound` (to the candidate) or `inbound` (from them).
    #[serde(serialize_with = "as_text")]
    pub direction: MessageDirection,
    /// `recruiter`, `inbound`, or the kind of automatic mail.
    pub origin: String,
    #[serde(serialize_with = "as_text")]
    pub status: MessageStatus,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
}

/// A file the candidate sent, and where the archive holds it.
#[derive(Serialize)]
pub struct Document {
    pub id: Uuid,
    /// `cv` or `picture`.
    #[serde(serialize_with = "as_text")]
    pub kind: DocumentKind,
    /// As read from the file's own bytes.
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    /// The path of its bytes in the archive.
    pub path: String,
}

/// A closed set's stored text (`rejected`, `cv`, `inbound`).
fn as_text<T: std::fmt::Display, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Where a document's bytes go in the archive: ids and kind only, never
/// the name it was sent under.
pub fn archive_path(document: &document::Model) -> String {
    let extension =
        FileType::from_content_type(&document.content_type).map_or("bin", FileType::extension);
    format!(
        "files/{}/{}-{}.{extension}",
        document.application_id, document.id, document.kind
    )
}

impl DataExport {
    pub fn of(rows: &CandidateRows, exported_at: DateTime<Utc>) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            exported_at,
            candidate: Candidate {
                id: rows.candidate.id,
                email_normalised: rows.candidate.email_normalised.clone(),
                known_since: rows.candidate.created_at,
            },
            applications: rows.applications.iter().map(Application::of).collect(),
        }
    }
}

impl Application {
    fn of(rows: &ApplicationRows) -> Self {
        let app = &rows.application;
        Self {
            id: app.id,
            job: Job {
                id: rows.job.id,
                title: rows.job.title.clone(),
                country: rows.job.country.clone(),
            },
            status: app.status,
            submitted_at: app.created_at,
            updated_at: app.updated_at,
            decided_at: app.decided_at,
            contact: Contact {
                full_name: app.full_name.clone(),
                email: app.email.clone(),
                phone: app.phone.clone(),
                linkedin_url: app.linkedin_url.clone(),
                indeed_url: app.indeed_url.clone(),
            },
            cover_letter: app.cover_letter.clone(),
            source: app.source.clone(),
            provenance: app.provenance.as_deref().map(Provenance::parse),
            privacy_notice_version: app.privacy_notice_version.clone(),
            talent_pool_consent: app.talent_pool_consent,
            retention: RetentionView::of(rows),
            consents: rows.consents.iter().map(Consent::of).collect(),
            status_history: rows.status_changes.iter().map(StatusChange::of).collect(),
            notes: rows.notes.iter().map(Note::of).collect(),
            interviews: rows.interviews.iter().map(Interview::of).collect(),
            messages: rows.messages.iter().map(Message::of).collect(),
            documents: rows.documents.iter().map(Document::of).collect(),
        }
    }
}

impl RetentionView {
    fn of(rows: &ApplicationRows) -> Self {
        let retention = rows.retention.as_ref();
        Self {
            delete_after: retention
                .map(|r| r.purge_after)
                .or(rows.application.purge_after),
            rule: retention.map(|r| r.rule.to_string()),
            held: retention.is_some_and(|r| r.held),
            legal_hold: rows.legal_hold.as_ref().map(|hold| LegalHold {
                placed_at: hold.placed_at,
                until: hold.until,
                category: hold.category,
                reason: (!hold.confidential).then(|| hold.reason.clone()),
            }),
        }
    }
}

impl Consent {
    fn of(consent: &crate::store::entity::consent::Model) -> Self {
        Self {
            id: consent.id,
            kind: consent.kind,
            purpose: consent.purpose.clone(),
            evidence: consent.evidence.clone(),
            granted_at: consent.granted_at,
        }
    }
}

impl StatusChange {
    fn of(change: &crate::store::entity::status_change::Model) -> Self {
        Self {
            id: change.id,
            from: change.from_status,
            to: change.to_status,
            reason: change.reason.clone(),
            at: change.at,
        }
    }
}

impl Note {
    fn of(note: &crate::store::entity::note::Model) -> Self {
        Self {
            id: note.id,
            body: note.body.clone(),
            created_at: note.created_at,
            updated_at: note.updated_at,
        }
    }
}

impl Interview {
    fn of(interview: &crate::store::entity::interview::Model) -> Self {
        let plan = InterviewPlan::of(interview);
        Self {
            id: interview.id,
            kind: plan.kind,
            status: plan.status,
            starts_at: plan.starts_at,
            ends_at: plan.ends_at,
            location: plan.location,
            meeting_url: plan.meeting_url,
            interviewers: plan.interviewers,
            feedback: plan.feedback,
            created_at: interview.created_at,
            updated_at: interview.updated_at,
        }
    }
}

impl Message {
    fn of(message: &crate::store::entity::message::Model) -> Self {
        Self {
            id: message.id,
            direction: message.direction,
            origin: message.origin.clone(),
            status: message.status,
            subject: message.subject.clone(),
            body: message.body.clone(),
            message_id: message.message_id.clone(),
            created_at: message.created_at,
            sent_at: message.sent_at,
            received_at: message.received_at,
        }
    }
}

impl Document {
    fn of(document: &document::Model) -> Self {
        Self {
            id: document.id,
            kind: document.kind,
            media_type: document.content_type.clone(),
            size: u64::try_from(document.size).unwrap_or_default(),
            sha256: document.sha256.clone(),
            uploaded_at: document.created_at,
            path: archive_path(document),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn document(content_type: &str, kind: DocumentKind) -> document::Model {
        document::Model {
            id: Uuid::now_v7(),
            application_id: Uuid::now_v7(),
            kind,
            content_type: content_type.into(),
            size: 1,
            sha256: String::new(),
            object_key: "documents/ab/cdef".into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_documents_path_is_made_of_its_ids_kind_and_type() {
        let cv = document("application/pdf", DocumentKind::Cv);
        assert_eq!(
            archive_path(&cv),
            format!("files/{}/{}-cv.pdf", cv.application_id, cv.id)
        );
        let picture = document("image/jpeg", DocumentKind::Picture);
        assert!(archive_path(&picture).ends_with("-picture.jpg"));
        let text = document("text/plain; charset=utf-8", DocumentKind::Cv);
        assert!(archive_path(&text).ends_with("-cv.txt"));
        let unknown = document("application/x-unknown", DocumentKind::Cv);
        assert!(archive_path(&unknown).ends_with("-cv.bin"));
    }

    #[test]
    fn the_format_version_is_the_one_the_committed_schema_declares() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../openapi/data-export.schema.json")).unwrap();
        assert_eq!(
            schema["properties"]["format_version"]["const"],
            FORMAT_VERSION
        );
    }
}
