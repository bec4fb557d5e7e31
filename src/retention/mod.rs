//! Retention and purge, in one place: how long an application is kept and
//! why, and how it is forgotten.
//!
//! - [`policy`]: the rules, free of I/O: the purge date from an
//!   application's facts (decision, consents, holds, erasure requests).
//! - [`records`]: the facts a purge date depends on, the stored purge
//!   dates and the reminders that are due.
//! - [`holds`]: legal holds and consents, as units of work for the writer.
//! - [`links`]: the single-use links of candidates' mails.
//! - [`deletion`]: what is due, purging it (rows first, then files, with
//!   receipts), erasure on request, the preview of what would go.
//! - [`service`]: the run the worker schedules and the CLI starts (finish
//!   deletions, refresh dates, remind, purge) and the admin erasure the API
//!   calls.

pub mod deletion;
pub mod holds;
pub mod links;
pub mod policy;
pub mod records;
pub mod service;
