//! Status changes: the pipeline's history, one row per move.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("status_changes")
                    .col(pk_uuid("id"))
                    .col(uuid("application_id"))
                    .col(string_len("from_status", 16))
                    .col(string_len("to_status", 16))
                    .col(text_null("reason"))
                    .col(uuid_null("api_key_id"))
                    .col(string_len_null("actor", 200))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("status_changes", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_status_changes_application")
                    .table("status_changes")
                    .col("application_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("status_changes").to_owned())
            .await
    }
}
