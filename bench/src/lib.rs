//! The intake benchmark's pieces: the baseline server, synthetic PDFs, server
//! processes, the closed-loop load generator, statistics, a seeded random
//! generator and the report.

pub mod baseline;
pub mod load;
pub mod pdf;
pub mod report;
pub mod rng;
pub mod server;
pub mod stats;
