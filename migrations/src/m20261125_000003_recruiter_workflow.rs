//! Notes, interviews, the email log (messages) and the outbox that delivers it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns every recruiter-written row carries: which application, which
/// key and for whom, and when.
fn owned_by_application(table: &'static str) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(pk_uuid("id"))
        .col(uuid("application_id"))
        .col(uuid_null("api_key_id"))
        .col(string_len_null("actor", 200))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .foreign_key(
            ForeignKey::create()
                .from(table, "application_id")
                .to("applications", "id"),
        )
        .to_owned()
}

async fn index_by_application(
    manager: &SchemaManager<'_>,
    table: &'static str,
) -> Result<(), DbErr> {
    manager
        .create_index(
            Index::create()
                .name(format!("idx_{table}_application"))
                .table(table)
                .col("application_id")
                .col("id")
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(owned_by_application("notes").col(text("body")).to_owned())
            .await?;
        index_by_application(manager, "notes").await?;

        manager
            .create_table(
                owned_by_application("interviews")
                    .col(timestamp_with_time_zone("starts_at"))
                    .col(timestamp_with_time_zone("ends_at"))
                    // Minutes east of UTC the times were given in, to answer them back alike.
                    .col(integer("utc_offset_minutes"))
                    .col(string_len("kind", 16))
                    .col(text_null("location"))
                    .col(text_null("meeting_url"))
                    .col(json("interviewers"))
                    .col(string_len("status", 16))
                    .col(text_null("feedback"))
                    // RFC 5545 SEQUENCE: bumped by every change, so calendars update.
                    .col(integer("sequence"))
                    .to_owned(),
            )
            .await?;
        index_by_application(manager, "interviews").await?;

        manager
            .create_table(
                owned_by_application("messages")
                    .col(string_len("direction", 16))
                    // What produced it: `recruiter`, `inbound` or a system mail's template.
                    .col(string_len("origin", 32))
                    .col(text("subject"))
                    .col(text("body"))
                    .col(string_len("status", 16))
                    .col(string_len("message_id", 255).unique_key())
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .col(timestamp_with_time_zone_null("received_at"))
                    .to_owned(),
            )
            .await?;
        index_by_application(manager, "messages").await?;

        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(pk_uuid("id"))
                    .col(uuid("message_id").unique_key())
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    // A short code for the last failure (never the server's text,
                    // which can quote the address).
                    .col(string_len_null("last_error", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("outbox", "message_id")
                            .to("messages", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table("outbox")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["outbox", "messages", "interviews", "notes"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
