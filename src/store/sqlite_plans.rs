//! SQLite statements that keep their query plan. SQLite plans some
//! statements for the values bound to them (a `LIMIT ?`, a `LIKE ?`) and
//! then compiles them again whenever such a value is bound anew. sea-orm
//! binds every limit, so each `find_by_id(..).one(..)` and each page of a
//! list was compiled afresh on every run, cached statement or not: most of
//! a small read's time. With SQLite's query planner stability guarantee a
//! statement is planned once, for any values, and the statement cache works.

use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, SQLITE_OK, sqlite3_db_config};
use sea_orm::sqlx::{self, SqliteConnection};

/// Turns the guarantee on for a new connection.
pub async fn on_connect(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut enabled: std::ffi::c_int = 0;
    // SAFETY: `db` is this connection's open handle, held locked for the
    // call; the option takes an int and a pointer to an int it writes.
    let rc = unsafe {
        sqlite3_db_config(
            db,
            SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            &mut enabled as *mut std::ffi::c_int,
        )
    };
    if rc != SQLITE_OK || enabled != 1 {
        return Err(sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability guarantee (code {rc})").into(),
        ));
    }
    Ok(())
}

/// How many times the statements this connection holds were compiled
/// again since they were prepared (tests).
#[cfg(test)]
pub(crate) async fn reprepared(conn: &mut SqliteConnection) -> u64 {
    use libsqlite3_sys::{SQLITE_STMTSTATUS_REPREPARE, sqlite3_next_stmt, sqlite3_stmt_status};

    let mut handle = conn.lock_handle().await.unwrap();
    let db = handle.as_raw_handle().as_ptr();
    let mut total = 0;
    // SAFETY: the handle is locked, so no statement is added or finalized
    // while its list is walked; status reads change nothing.
    unsafe {
        let mut stmt = sqlite3_next_stmt(db, std::ptr::null_mut());
        while !stmt.is_null() {
            total += sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0) as u64;
            stmt = sqlite3_next_stmt(db, stmt);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::{Connection, Executor};

    use super::*;

    async fn connection(stable: bool) -> SqliteConnection {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        if stable {
            on_connect(&mut conn).await.unwrap();
        }
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT)")
            .await
            .unwrap();
        conn.execute("INSERT INTO jobs (title) VALUES ('a'), ('b'), ('c')")
            .await
            .unwrap();
        conn
    }

    /// The statement sea-orm makes of `Entity::find().limit(n)`, run with
    /// changing limits; how often it was compiled again.
    async fn limits_rebound(conn: &mut SqliteConnection) -> u64 {
        for limit in 1..=5_i64 {
            let rows = sqlx::query("SELECT id, title FROM jobs WHERE id > ? LIMIT ?")
                .bind(0_i64)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
            assert_eq!(rows.len() as i64, limit.min(3));
        }
        reprepared(conn).await
    }

    #[tokio::test]
    async fn a_statement_with_a_bound_limit_is_compiled_once() {
        // Without the guarantee, SQLite compiles it again for each new limit
        // (this is what the guarantee is for; if SQLite ever stops doing so,
        // this module can go).
        assert!(limits_rebound(&mut connection(false).await).await >= 4);
        assert_eq!(limits_rebound(&mut connection(true).await).await, 0);
    }
}
