//! Legal holds and the consents that extend (or cut short) how long an
//! application is kept.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("legal_holds")
                    // One hold per application: placing it again replaces it.
                    .col(uuid("application_id").primary_key())
                    .col(text("reason"))
                    .col(timestamp_with_time_zone_null("until"))
                    .col(uuid_null("api_key_id"))
                    .col(string_len_null("actor", 200))
                    .col(timestamp_with_time_zone("placed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("legal_holds", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("consents")
                    .col(pk_uuid("id"))
                    .col(uuid("application_id"))
                    // `extension` (keep longer) or `erasure` (delete now).
                    .col(string_len("kind", 16))
                    .col(string_len("purpose", 64))
                    // How it was given: `link`, or a recruiter's text.
                    .col(text("evidence"))
                    .col(timestamp_with_time_zone("granted_at"))
                    .col(uuid_null("api_key_id"))
                    .col(string_len_null("actor", 200))
                    .foreign_key(
                        ForeignKey::create()
                            .from("consents", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consents_application")
                    .table("consents")
                    .col("application_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["consents", "legal_holds"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
