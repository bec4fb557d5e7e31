//! Schema migrations, run at `serve`, by `applicant-vault migrate` and before any
//! CLI command that uses the database. Each migration names its own tables and
//! columns and never imports the live entities, so old migrations keep their meaning.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_core;
mod m20261125_000002_status_changes;
mod m20261125_000003_recruiter_workflow;
mod m20261125_000004_holds_and_consents;
mod m20261125_000005_purge;
mod m20261125_000006_imports;
mod m20261201_000007_trust;
mod m20261202_000008_stats;
mod m20261203_000009_subject_requests;
mod m20261203_000010_privacy;
mod m20261204_000011_rights;
mod m20261205_000012_key_generation;
mod m20261206_000013_listing_events;
mod m20261206_000014_purge_order;
mod m20261208_000015_audit_rows_uncompressed;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_core::Migration),
            Box::new(m20261125_000002_status_changes::Migration),
            Box::new(m20261125_000003_recruiter_workflow::Migration),
            Box::new(m20261125_000004_holds_and_consents::Migration),
            Box::new(m20261125_000005_purge::Migration),
            Box::new(m20261125_000006_imports::Migration),
            Box::new(m20261201_000007_trust::Migration),
            Box::new(m20261202_000008_stats::Migration),
            Box::new(m20261203_000009_subject_requests::Migration),
            Box::new(m20261203_000010_privacy::Migration),
            Box::new(m20261204_000011_rights::Migration),
            Box::new(m20261205_000012_key_generation::Migration),
            Box::new(m20261206_000013_listing_events::Migration),
            Box::new(m20261206_000014_purge_order::Migration),
            Box::new(m20261208_000015_audit_rows_uncompressed::Migration),
        ]
    }
}
