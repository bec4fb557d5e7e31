//! The intake benchmark's pieces: the baseline server, synthetic PDFs, server
//! processes, the load generator, statistics and the report.

pub mod baseline;
pub mod load;
pub mod pdf;
pub mod report;
pub mod server;
pub mod stats;
