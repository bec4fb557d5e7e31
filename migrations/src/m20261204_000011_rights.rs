//! The rest of the candidates' rights: a legal hold's category and whether
//! its reason is confidential (the candidate sees the category, and the
//! reason only when it is not), and the email changes a candidate asked
//! for, each waiting for its link to be followed from the new address.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_len("category", 24).default("other").to_owned(),
            boolean("confidential").default(false).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("legal_holds")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("privacy_email_changes")
                    .col(uuid("id").primary_key())
                    .col(uuid("candidate_id"))
                    .col(string_len("new_email", 320))
                    // The mail that carries the link; its token is made when
                    // the mail is sent, so only then is the hash set.
                    .col(uuid("message_id"))
                    .col(char_len_null("token_hash", 64))
                    .col(string_len("lang", 8))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_privacy_email_changes_candidate", "candidate_id"),
            ("idx_privacy_email_changes_message", "message_id"),
            ("idx_privacy_email_changes_token", "token_hash"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("privacy_email_changes")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
