//! Pure rules: no I/O here, each module tested beside its code.

pub mod fields;
pub mod keys;
pub mod rate_limit;
pub mod sniff;
pub mod status;
