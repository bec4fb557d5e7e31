//! sea-orm entities, one per table.

pub mod api_key;
pub mod application;
pub mod audit_event;
pub mod candidate;
pub mod consent;
pub mod consent_link;
pub mod document;
pub mod intake_key;
pub mod interview;
pub mod job;
pub mod legal_hold;
pub mod message;
pub mod note;
pub mod oauth_import;
pub mod oauth_state;
pub mod outbox;
pub mod purge_receipt;
pub mod service_secret;
pub mod stats_cell;
pub mod stats_ledger;
pub mod stats_release;
pub mod status_change;
pub mod subject_request;
pub mod writer_probe;
