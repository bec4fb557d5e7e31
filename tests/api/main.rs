//! Integration tests: the real server on a random port, over HTTP.

mod auth;
mod browser;
mod careers;
mod cli;
mod edge;
mod export;
mod faults;
mod generated_client;
mod helpers;
mod imports;
mod indeed_apply;
mod intake;
mod interviews;
mod jobs;
mod messages;
mod metrics;
mod mock_provider;
mod notes;
mod operations;
mod pipeline;
mod purge;
mod reads;
mod retention;
mod smtp_sink;
mod stats;
mod trust;
