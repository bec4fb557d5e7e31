//! The candidates' own pages: sign-in links and sessions (only token hashes
//! kept), the sign-in requests counted per address (a keyed hash of it),
//! and on each application the language its candidate reads and since when
//! its processing is restricted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_len_null("locale", 8),
            timestamp_with_time_zone_null("restricted_at"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("applications")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("privacy_sign_ins")
                    .col(uuid("id").primary_key())
                    // Keyed hash of the normalised email asked for.
                    .col(char_len("email_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_privacy_sign_ins_email")
                    .table("privacy_sign_ins")
                    .col("email_hash")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        for table in ["privacy_links", "privacy_sessions"] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(char_len("token_hash", 64).primary_key())
                        .col(uuid("candidate_id"))
                        .col(string_len("lang", 8))
                        .col(timestamp_with_time_zone("created_at"))
                        .col(timestamp_with_time_zone("expires_at"))
                        .col(timestamp_with_time_zone_null("used_at"))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_candidate"))
                        .table(table)
                        .col("candidate_id")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
