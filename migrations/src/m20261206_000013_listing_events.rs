//! A listing is one audit event that names the applications it showed
//! (`shown`, a JSON array of ids), not one event per application shown. On
//! PostgreSQL a GIN index over that array answers "who saw application X";
//! SQLite scans the listings recorded since X was created.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_events")
                    .add_column(text_null("shown"))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX idx_audit_events_shown ON audit_events \
                     USING gin ((shown::jsonb) jsonb_path_ops) WHERE shown IS NOT NULL",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP INDEX idx_audit_events_shown")
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("audit_events")
                    .drop_column("shown")
                    .to_owned(),
            )
            .await
    }
}
