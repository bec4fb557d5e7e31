//! One counter that every change to the API keys raises in the change's own
//! transaction: each instance caches the keys it has checked and drops its
//! cache when it sees the counter move, so a revocation reaches them all.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("key_generations")
                    .col(integer("id").primary_key())
                    .col(big_integer("generation").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("key_generations")
                    .columns(["id", "generation"])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("key_generations").to_owned())
            .await
    }
}
