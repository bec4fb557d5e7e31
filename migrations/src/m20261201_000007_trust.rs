//! What a submission may change: contact details move from the candidate
//! (one per email) to each application, so a later submission never
//! overwrites or reveals an earlier one's. Idempotency keys and Indeed ids
//! get their own table, bound to a fingerprint of the request and kept as
//! PII-free tombstones after a purge; a table for the service's own secrets;
//! a table the writer probes with; and the purge queue learns mail files.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in [
            string_len("full_name", 200).default("").to_owned(),
            string_len("email", 254).default("").to_owned(),
            string_len_null("phone", 40),
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
        // Every application gets the details its candidate had.
        db.execute_unprepared(
            "UPDATE applications SET \
             full_name = (SELECT c.full_name FROM candidates c WHERE c.id = applications.candidate_id), \
             email = (SELECT c.email FROM candidates c WHERE c.id = applications.candidate_id), \
             phone = (SELECT c.phone FROM candidates c WHERE c.id = applications.candidate_id)",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("intake_keys")
                    // Keyed hash of the scope: the API key and its
                    // Idempotency-Key, or the integration and its id.
                    .col(char_len("key_hash", 64).primary_key())
                    // Keyed hash of the request; null for rows from before
                    // fingerprints (and for integrations, which have none).
                    .col(char_len_null("fingerprint", 64))
                    .col(uuid("application_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    // Null: kept while the application lives.
                    .col(timestamp_with_time_zone_null("expires_at"))
                    // Set when the application was purged or erased.
                    .col(timestamp_with_time_zone_null("erased_at"))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_intake_keys_expires_at", "expires_at"),
            ("idx_intake_keys_application", "application_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("intake_keys")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        // The old keys were plain SHA-256; they keep working as they did
        // (while their application lives), without a fingerprint.
        db.execute_unprepared(
            "INSERT INTO intake_keys (key_hash, fingerprint, application_id, created_at, expires_at, erased_at) \
             SELECT intake_key, NULL, id, created_at, NULL, NULL FROM applications WHERE intake_key IS NOT NULL",
        )
        .await?;
        // SQLite cannot drop a column with a UNIQUE constraint: the column
        // stays, emptied and unused.
        db.execute_unprepared("UPDATE applications SET intake_key = NULL")
            .await?;
        for column in ["full_name", "email", "phone"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("candidates")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("service_secrets")
                    .col(string_len("name", 32).primary_key())
                    // 256 random bits, hex.
                    .col(char_len("value", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("writer_probes")
                    .col(pk_uuid("id"))
                    .col(text("filler"))
                    .to_owned(),
            )
            .await?;
        // `object` (in the object store) or `mail` (a mail file of the file transport).
        manager
            .alter_table(
                Table::alter()
                    .table("purge_objects")
                    .add_column(string_len("kind", 16).default("object"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("purge_objects")
                    .drop_column("kind")
                    .to_owned(),
            )
            .await?;
        for table in ["writer_probes", "service_secrets"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            string_len("full_name", 200).default("").to_owned(),
            string_len("email", 254).default("").to_owned(),
            string_len_null("phone", 40),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("candidates")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The candidate takes the details of their latest application.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE candidates SET \
                 full_name = (SELECT a.full_name FROM applications a WHERE a.candidate_id = candidates.id ORDER BY a.id DESC LIMIT 1), \
                 email = (SELECT a.email FROM applications a WHERE a.candidate_id = candidates.id ORDER BY a.id DESC LIMIT 1), \
                 phone = (SELECT a.phone FROM applications a WHERE a.candidate_id = candidates.id ORDER BY a.id DESC LIMIT 1)",
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE applications SET intake_key = \
                 (SELECT k.key_hash FROM intake_keys k WHERE k.application_id = applications.id LIMIT 1)",
            )
            .await?;
        manager
            .drop_table(Table::drop().table("intake_keys").to_owned())
            .await?;
        for column in ["phone", "email", "full_name"] {
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
