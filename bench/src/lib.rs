//! The benchmarks' pieces. Intake: the baseline server, synthetic PDFs and the
//! report. Recruiter reads on PostgreSQL: the database, the data generator,
//! the reads and their report. Shared: server processes, the closed-loop load
//! generator, statistics and a seeded random generator.

pub mod baseline;
pub mod cost;
pub mod generator;
pub mod load;
pub mod pdf;
pub mod pg;
pub mod read_report;
pub mod reads;
pub mod report;
pub mod rng;
pub mod server;
pub mod stats;
