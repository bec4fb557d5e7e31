//! The read benchmark's PostgreSQL database: a fresh one per run (created
//! through the server's maintenance database, dropped afterwards), or one a
//! developer kept from an earlier run.

use anyhow::{Context, Result, bail};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection};

/// A database the benchmark works in.
pub struct BenchDatabase {
    /// The server's maintenance database (`postgres`), for create and drop.
    admin_url: String,
    pub name: String,
    /// The connection URL of this database.
    pub url: String,
    /// Whether the data still has to be generated.
    pub fresh: bool,
}

impl BenchDatabase {
    /// Creates a new empty database named `name` on the server of `admin_url`.
    pub async fn create(admin_url: &str, name: &str) -> Result<Self> {
        check_name(name)?;
        let mut admin = connect(admin_url).await?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        Ok(Self::named(admin_url, name, true))
    }

    /// A database kept from an earlier run, used as it is.
    pub async fn reuse(admin_url: &str, name: &str) -> Result<Self> {
        check_name(name)?;
        let db = Self::named(admin_url, name, false);
        connect(&db.url)
            .await
            .with_context(|| format!("cannot reuse database {name}"))?;
        Ok(db)
    }

    fn named(admin_url: &str, name: &str, fresh: bool) -> Self {
        Self {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url: with_database(admin_url, name),
            fresh,
        }
    }

    /// A pool of `size` connections to this database.
    pub async fn pool(&self, size: u32) -> Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(size)
            .min_connections(size)
            .connect(&self.url)
            .await
            .with_context(|| format!("cannot connect to database {}", self.name))
    }

    /// Drops the database, ending any sessions still connected to it.
    pub async fn drop_database(&self) -> Result<()> {
        let mut admin = connect(&self.admin_url).await?;
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .with_context(|| format!("cannot drop database {}", self.name))?;
        Ok(())
    }
}

/// One connection to `url`.
pub async fn connect(url: &str) -> Result<PgConnection> {
    PgConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))
}

/// Names are put into SQL as they are, so only plain identifiers pass.
fn check_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        bail!("database name {name:?}: use lower-case letters, digits and _ only");
    }
    Ok(())
}

/// `url` with its database (the path) replaced by `name`, query kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// `url` without a password, for messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            )
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_in_a_url_is_replaced() {
        let url = "postgres://postgres@127.0.0.1:5432/postgres";
        assert_eq!(
            with_database(url, "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "y"),
            "postgres://h/y?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "z"), "postgres://h:1/z");
    }

    #[test]
    fn only_plain_names_pass_and_passwords_are_hidden() {
        assert!(check_name("av_read_bench_42").is_ok());
        assert!(check_name("x; DROP TABLE jobs").is_err());
        assert!(check_name("Upper").is_err());
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
