//! The core tables: jobs, candidates, applications, documents, API keys and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn created_updated(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("jobs")
                        .col(pk_uuid("id"))
                        .col(string_len("title", 200))
                        .col(char_len("country", 2))
                        .col(string_len_null("department", 200))
                        .col(string_len_null("location", 200))
                        .col(string_len("status", 16))
                        .col(timestamp_with_time_zone_null("closed_at")),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("candidates")
                        .col(pk_uuid("id"))
                        .col(string_len_uniq("email_normalised", 254))
                        .col(string_len("email", 254))
                        .col(string_len("full_name", 200))
                        .col(string_len_null("phone", 40)),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("applications")
                        .col(pk_uuid("id"))
                        .col(uuid("job_id"))
                        .col(uuid("candidate_id"))
                        .col(string_len("status", 16))
                        .col(text_null("cover_letter"))
                        .col(string_len_null("linkedin_url", 2000))
                        .col(string_len_null("indeed_url", 2000))
                        .col(string_len_null("source", 40))
                        .col(string_len("privacy_notice_version", 100))
                        .col(boolean("talent_pool_consent"))
                        .col(string_len_null("intake_key", 64).unique_key())
                        .col(timestamp_with_time_zone_null("decided_at"))
                        .foreign_key(
                            ForeignKey::create()
                                .from("applications", "job_id")
                                .to("jobs", "id"),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from("applications", "candidate_id")
                                .to("candidates", "id"),
                        ),
                )
                .to_owned(),
            )
            .await?;
        // Recruiters list by job and status, newest first; the id (UUIDv7) is the key.
        for (name, columns) in [
            (
                "idx_applications_job_status",
                &["job_id", "status", "id"][..],
            ),
            ("idx_applications_status", &["status", "id"][..]),
            ("idx_applications_candidate", &["candidate_id"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("applications");
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("documents")
                    .col(pk_uuid("id"))
                    .col(uuid("application_id"))
                    .col(string_len("kind", 16))
                    .col(string_len("content_type", 100))
                    .col(big_integer("size"))
                    .col(char_len("sha256", 64))
                    .col(string_len_uniq("object_key", 200))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("documents", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_documents_application")
                    .table("documents")
                    .col("application_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(pk_uuid("id"))
                    .col(string_len("name", 100))
                    .col(string_len("role", 16))
                    .col(boolean("publishable"))
                    .col(char_len_uniq("secret_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .to_owned(),
            )
            .await?;

        // No personal data here: ids, actor, action, time.
        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(pk_uuid("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(uuid_null("api_key_id"))
                    .col(string_len_null("actor", 200))
                    .col(string_len("action", 64))
                    .col(uuid_null("application_id"))
                    .col(uuid_null("subject_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_application")
                    .table("audit_events")
                    .col("application_id")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_events",
            "api_keys",
            "documents",
            "applications",
            "candidates",
            "jobs",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
