//! Partner statistics: which applications count (a candidate's first of a
//! month, and under which source), the purged counters of those, the
//! published monthly releases with their noisy cells, and the ledger of
//! which key read which release.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table("applications")
                    // The statistics source it counts under; null: it does
                    // not count (not its candidate's first of the month).
                    .add_column(string_len_null("stats_source", 40))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("candidates")
                    // The last month (`YYYY-MM`) one of their applications counted in.
                    .add_column(char_len_null("stats_month", 7))
                    .to_owned(),
            )
            .await?;
        // Applications from before: each candidate's first of each month
        // counts, under its source label or `form`.
        let month = |table: &str| match manager.get_database_backend() {
            DbBackend::Postgres => {
                format!("to_char({table}.created_at AT TIME ZONE 'UTC', 'YYYY-MM')")
            }
            _ => format!("substr({table}.created_at, 1, 7)"),
        };
        db.execute_unprepared(&format!(
            "UPDATE applications SET stats_source = CASE \
               WHEN source IN ('linkedin', 'indeed', 'indeed-apply') THEN source \
               ELSE 'form' END \
             WHERE NOT EXISTS (SELECT 1 FROM applications b \
               WHERE b.candidate_id = applications.candidate_id \
               AND {} = {} \
               AND (b.created_at < applications.created_at \
                 OR (b.created_at = applications.created_at AND b.id < applications.id)))",
            month("b"),
            month("applications"),
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE candidates SET stats_month = (SELECT MAX({}) FROM applications a \
               WHERE a.candidate_id = candidates.id AND a.stats_source IS NOT NULL)",
            month("a"),
        ))
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("stats_counts")
                    // Purged applications that counted, by what a release groups by.
                    .col(char_len("month", 7))
                    .col(string_len("source", 40))
                    .col(uuid("job_id"))
                    // Final status, or empty when it never got one.
                    .col(string_len("outcome", 16))
                    .col(big_integer("purged"))
                    .primary_key(
                        Index::create()
                            .col("month")
                            .col("source")
                            .col("job_id")
                            .col("outcome"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("stats_releases")
                    // One per closed month, made once and never changed.
                    .col(char_len("month", 7).primary_key())
                    // Null: released without noise (a test configuration).
                    .col(string_len_null("epsilon", 32))
                    .col(integer("sensitivity"))
                    .col(big_integer("min_count"))
                    .col(timestamp_with_time_zone("published_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("stats_cells")
                    .col(char_len("month", 7))
                    .col(string_len("source", 40))
                    .col(char_len("country", 2))
                    // `applications`, `hired`, `rejected`, `withdrawn` or `open`.
                    .col(string_len("measure", 16))
                    // The noisy count, never the true one.
                    .col(big_integer("value"))
                    .primary_key(
                        Index::create()
                            .col("month")
                            .col("source")
                            .col("country")
                            .col("measure"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("stats_ledger")
                    // The privacy budget each key spent: one row per key and
                    // release, written by its first read.
                    .col(uuid("api_key_id"))
                    .col(char_len("month", 7))
                    .col(string_len_null("epsilon", 32))
                    .col(timestamp_with_time_zone("spent_at"))
                    .primary_key(Index::create().col("api_key_id").col("month"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "stats_ledger",
            "stats_cells",
            "stats_releases",
            "stats_counts",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            ("candidates", "stats_month"),
            ("applications", "stats_source"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
