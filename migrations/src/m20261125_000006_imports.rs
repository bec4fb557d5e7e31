//! Profile imports from LinkedIn and Indeed: the short-lived sign-in states
//! and imports, where each application field came from, and the Indeed job id
//! a job may carry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("oauth_states")
                    .col(pk_uuid("id"))
                    // SHA-256 of the state sent to the provider; never the state itself.
                    .col(string_len_uniq("state_hash", 64))
                    .col(string_len("provider", 16))
                    .col(uuid("job_id"))
                    .col(text("return_to"))
                    .col(string_len_null("pkce_verifier", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("oauth_imports")
                    .col(pk_uuid("id"))
                    .col(string_len("provider", 16))
                    .col(uuid("job_id"))
                    .col(string_len_null("full_name", 200))
                    .col(string_len_null("given_name", 200))
                    .col(string_len_null("family_name", 200))
                    .col(string_len_null("email", 254))
                    .col(string_len_null("locale", 40))
                    .col(string_len_null("profile_url", 2000))
                    .col(string_len_null("picture_url", 2000))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .to_owned(),
            )
            .await?;
        for table in ["oauth_states", "oauth_imports"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_expires_at"))
                        .table(table)
                        .col("expires_at")
                        .to_owned(),
                )
                .await?;
        }
        // JSON object: field name to where its value came from.
        manager
            .alter_table(
                Table::alter()
                    .table("applications")
                    .add_column(text_null("provenance"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("jobs")
                    .add_column(string_len_null("indeed_job_id", 200))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_indeed_job_id")
                    .table("jobs")
                    .col("indeed_job_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_jobs_indeed_job_id")
                    .table("jobs")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("jobs")
                    .drop_column("indeed_job_id")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("applications")
                    .drop_column("provenance")
                    .to_owned(),
            )
            .await?;
        for table in ["oauth_imports", "oauth_states"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
