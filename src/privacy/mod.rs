//! The candidates' rights over their data (GDPR chapter III), beyond what
//! the recruiters' API already does for them.

pub mod export;
mod zip;
