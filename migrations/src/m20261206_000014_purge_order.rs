//! The purge claims what is due in (purge date, id) order: an index in that
//! order hands over a batch without sorting every due application first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_applications_purge_order")
                    .table("applications")
                    .col("purge_after")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_applications_purge_after")
                    .table("applications")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_applications_purge_after")
                    .table("applications")
                    .col("purge_after")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_applications_purge_order")
                    .table("applications")
                    .to_owned(),
            )
            .await
    }
}
