//! On PostgreSQL a listing's audit row (a JSON array of 50 ids, about
//! 2 KB) is past the size at which every insert first tries to compress it,
//! and ids hardly compress: the attempt was a tenth of the row's cost and
//! always failed. Rows are left whole up to the most a page holds; a larger
//! one (a listing of 200) is still compressed or moved out of line.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE audit_events SET (toast_tuple_target = 8160)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE audit_events RESET (toast_tuple_target)")
                .await?;
        }
        Ok(())
    }
}
