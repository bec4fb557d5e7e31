//! Retention and purge, in one place: how long an application is kept and
//! why, and how it is forgotten.
//!
//! - [`policy`]: the rules, free of I/O: the purge date from an
//!   application's facts (decision, consents, holds, erasure requests).
//! - [`records`]: holds, consents, consent links and the stored purge dates,
//!   as units of work for the writer.
//! - [`deletion`]: what is due, purging it (rows first, then files, with
//!   receipts), erasure on request, the preview of what would go.
//! - [`service`]: the run the worker schedules and the CLI starts (finish
//!   deletions, refresh dates, remind, purge) and the admin erasure the API
//!   calls.

pub mod deletion;
pub mod policy;
pub mod records;
pub mod service;
