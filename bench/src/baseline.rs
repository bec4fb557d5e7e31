//! Baseline intake server: the least a durable upload endpoint must do (stream
//! the CV to a synced file, commit one SQLite row) to compare the service with.
//! Run as the `baseline-intake` binary, or by `intake-bench` itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use poem::error::InternalServerError;
use poem::http::StatusCode;
use poem::listener::TcpListener;
use poem::web::{Data, Field, Json, Multipart};
use poem::{EndpointExt, IntoResponse, Route, Server, get, handler, post};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// A minimal durable multipart intake server.
#[derive(clap::Parser)]
#[command(version)]
pub struct Args {
    /// Address to listen on (same as --listen).
    addr: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8099")]
    listen: String,
    /// Folder for the SQLite database and the uploaded files.
    #[arg(long, default_value = "baseline-data")]
    data_dir: PathBuf,
    /// Size of the SQLite connection pool.
    #[arg(long, default_value_t = 4)]
    db_connections: u32,
}

/// What every request handler shares.
struct State {
    pool: SqlitePool,
    files: PathBuf,
}

/// Serves until the process is stopped.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let listen = args.addr.unwrap_or(args.listen);
    let files = args.data_dir.join("files");
    std::fs::create_dir_all(&files)?;

    // Same durability as the service's SQLite setup: WAL with a full sync on
    // every commit.
    let options = SqliteConnectOptions::new()
        .filename(args.data_dir.join("baseline.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(args.db_connections.max(1))
        .connect_with(options)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS applications \
         (id TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await?;

    let app = Route::new()
        .at("/healthz", get(healthz))
        .at("/v1/applications", post(apply))
        .data(Arc::new(State { pool, files }));
    Server::new(TcpListener::bind(listen)).run(app).await?;
    Ok(())
}

/// Liveness probe, so the bench can wait for both servers the same way.
#[handler]
fn healthz() -> &'static str {
    "ok"
}

/// Accepts one application: stores the `cv` field durably, records it in the
/// database, and answers 201 only after both are on disk.
#[handler]
async fn apply(
    Data(state): Data<&Arc<State>>,
    mut multipart: Multipart,
) -> poem::Result<impl IntoResponse> {
    let mut stored = None;
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("cv") && stored.is_none() {
            stored = Some(
                store_file(&state.files, field)
                    .await
                    .map_err(InternalServerError)?,
            );
        } else {
            // Other fields (job_id, full_name, ...) are read and ignored.
            field.text().await?;
        }
    }
    let Some((id, path, size)) = stored else {
        return Err(poem::Error::from_string(
            "missing field: cv",
            StatusCode::BAD_REQUEST,
        ));
    };

    sqlx::query("INSERT INTO applications (id, path, size) VALUES (?, ?, ?)")
        .bind(&id)
        .bind(path.to_string_lossy().into_owned())
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .execute(&state.pool)
        .await
        .map_err(InternalServerError)?;

    let body = serde_json::json!({ "id": id, "size": size });
    Ok(Json(body).with_status(StatusCode::CREATED))
}

/// Streams `field` into a new randomly named file in `dir` and syncs the file
/// and the folder; returns the id, path and size.
async fn store_file(dir: &Path, field: Field) -> std::io::Result<(String, PathBuf, u64)> {
    let id = Uuid::new_v4().to_string();
    let path = dir.join(format!("{id}.pdf"));
    let written = write_synced(&path, field).await;
    match written {
        Ok(size) => {
            sync_dir(dir).await?;
            Ok((id, path, size))
        }
        Err(err) => {
            // Best effort: do not leave half-written files behind.
            let _ = tokio::fs::remove_file(&path).await;
            Err(err)
        }
    }
}

/// Copies the field's bytes to a new file at `path` and syncs it to disk.
async fn write_synced(path: &Path, field: Field) -> std::io::Result<u64> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await?;
    let reader = field.into_async_read();
    tokio::pin!(reader);
    let size = tokio::io::copy(&mut reader, &mut file).await?;
    file.flush().await?;
    file.sync_all().await?;
    Ok(size)
}

/// Syncs a folder so a newly created entry in it survives a crash.
async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(std::io::Error::other)?
}
