//! applicant-vault: holds one employer's job-applicant data and forgets it on
//! schedule. The binary, the tests and the benchmarks share this library.

pub mod api;
pub mod app;
pub mod blobs;
pub mod clock;
pub mod commands;
pub mod config;
#[macro_use]
pub mod domain;
pub mod edge;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod pages;
pub mod privacy;
pub mod retention;
pub mod runtime;
pub mod services;
pub mod store;
pub mod telemetry;
pub mod worker;
