//! Data-subject requests and their deadlines. A request names its candidate
//! without a foreign key: the record of a fulfilled erasure must outlive the
//! candidate it erased.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("subject_requests")
                    .col(pk_uuid("id"))
                    // access, rectification, erasure, restriction, objection, withdrawal
                    .col(string_len("kind", 16))
                    // self_service, email, letter
                    .col(string_len("channel", 16))
                    // open, waiting, done, refused
                    .col(string_len("status", 16))
                    // Null when we hold nothing on the person.
                    .col(uuid_null("candidate_id"))
                    .col(timestamp_with_time_zone("received_at"))
                    // One calendar month after receipt.
                    .col(timestamp_with_time_zone("due_at"))
                    .col(timestamp_with_time_zone_null("extended_until"))
                    .col(text_null("extension_reason"))
                    // What an admin checked of a request by email or letter.
                    .col(text_null("identity_evidence"))
                    .col(text_null("details"))
                    .col(text_null("refusal_reason"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(timestamp_with_time_zone_null("officer_reminded_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_subject_requests_status_due", &["status", "due_at"][..]),
            ("idx_subject_requests_candidate", &["candidate_id"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("subject_requests");
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("subject_requests").to_owned())
            .await
    }
}
