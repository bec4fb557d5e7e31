//! What the purge needs: each application's purge date (kept current by every
//! write that changes it, so due applications are found by an index), the
//! candidate links of reminders, the receipts and anonymous counters a purge
//! leaves, and the objects a purge still has to delete.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time. Null until the
        // next purge run computes it (for rows older than this migration).
        for column in [
            timestamp_with_time_zone_null("purge_after"),
            // The purge date the candidate was reminded of.
            timestamp_with_time_zone_null("reminded_for"),
            // Fingerprint of the policy `purge_after` was computed with.
            string_len_null("retention_policy", 16),
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
            .create_index(
                Index::create()
                    .name("idx_applications_purge_after")
                    .table("applications")
                    .col("purge_after")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("consent_links")
                    // SHA-256 of the token; the token itself is only in the mail.
                    .col(char_len("token_hash", 64).primary_key())
                    .col(uuid("application_id"))
                    .col(string_len("purpose", 32))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    // `extend` or `withdraw` once used.
                    .col(string_len_null("used_for", 16))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("consent_links", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consent_links_application")
                    .table("consent_links")
                    .col("application_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("purge_receipts")
                    .col(pk_uuid("id"))
                    // No foreign keys: what they pointed at is gone.
                    .col(uuid_uniq("application_id"))
                    .col(uuid("job_id"))
                    .col(string_len_null("outcome", 16))
                    .col(timestamp_with_time_zone_null("clock_start"))
                    .col(timestamp_with_time_zone("purge_after"))
                    .col(timestamp_with_time_zone("purged_at"))
                    .col(string_len("rule", 100))
                    // `scheduled`, or `erased` by an admin.
                    .col(string_len("reason", 16))
                    .col(integer("objects_deleted"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("purge_objects")
                    // Objects of purged applications not yet deleted from the store.
                    .col(string_len("object_key", 200).primary_key())
                    .col(timestamp_with_time_zone("queued_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("source_stats")
                    .col(uuid("job_id"))
                    // Month the application was made, `YYYY-MM`.
                    .col(char_len("month", 7))
                    // Empty when the application named none.
                    .col(string_len("source", 40))
                    // Final status, or empty when it never got one.
                    .col(string_len("outcome", 16))
                    .col(big_integer("purged"))
                    .primary_key(
                        Index::create()
                            .col("job_id")
                            .col("month")
                            .col("source")
                            .col("outcome"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "source_stats",
            "purge_objects",
            "purge_receipts",
            "consent_links",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_applications_purge_after")
                    .table("applications")
                    .to_owned(),
            )
            .await?;
        for column in ["retention_policy", "reminded_for", "purge_after"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("applications")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
