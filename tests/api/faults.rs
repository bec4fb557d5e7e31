//! Faults injected for real: a full disk under the database (a small tmpfs,
//! filled), a missing object folder, and the database's connections
//! terminated on PostgreSQL. Acknowledged means durable: every 201 survives a
//! restart byte for byte, every erasure stays erased, and what fails answers
//! 503 with Retry-After, never 500, never a 201.
//!
//! Mounting needs root (CI runs as root); elsewhere the tmpfs test says it
//! skipped, and fails instead when `REQUIRE_FAULT_TESTS` is set.

use std::{io::Write, path::PathBuf, process::Command, time::Duration};

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{ApplicationForm, TestApp, pdf, spawn_app_with};

/// A tmpfs of `size` mounted at a fresh folder, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join("fs");
        std::fs::create_dir(&path).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .ok()?;
        if !mounted.status.success() {
            return None;
        }
        Some(Self { path, _dir: dir })
    }

    /// Fills the filesystem to the last byte with one file.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 64 * 1024];
        loop {
            if file.write_all(&block).is_err() {
                break;
            }
        }
        // Whatever is left is smaller than a block: take it byte by byte.
        while file.write_all(&[0]).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
    }
}

fn mount_or_skip(size: &str, test: &str) -> Option<Tmpfs> {
    let mounted = Tmpfs::mount(size);
    if mounted.is_none() {
        assert!(
            std::env::var_os("REQUIRE_FAULT_TESTS").is_none(),
            "{test}: cannot mount a tmpfs, and REQUIRE_FAULT_TESTS is set"
        );
        eprintln!("{test}: skipped (mounting a tmpfs needs root)");
    }
    mounted
}

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok()
}

/// A submission's id, its CV's bytes and what it answered.
struct Sent {
    status: StatusCode,
    id: Option<String>,
    cv: Vec<u8>,
}

/// What stands for "no answer": the server answered early (a 503 before the
/// body was read) and closed the connection while the client still wrote.
const NO_ANSWER: StatusCode = StatusCode::BAD_GATEWAY;

async fn send(app: &TestApp, job: &str, n: usize) -> Sent {
    let cv = pdf(20_000 + n, n as u8);
    let form = ApplicationForm::new(job, &format!("full{n}@example.com"))
        .set("cover_letter", &"I build engines. ".repeat(120))
        .file("cv", cv.clone(), "cv.pdf");
    let Ok(response) = app.try_submit(&app.admin_key, form).await else {
        return Sent {
            status: NO_ANSWER,
            id: None,
            cv,
        };
    };
    let status = response.status();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            response.headers().contains_key("retry-after"),
            "a 503 says when to retry"
        );
    }
    let body: Value = response.json().await.unwrap_or_default();
    Sent {
        status,
        id: body["id"].as_str().map(str::to_owned),
        cv,
    }
}

async fn ready(app: &TestApp) -> (StatusCode, Value) {
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// Every acknowledged application is there, its CV byte for byte.
async fn assert_all_readable(app: &TestApp, acknowledged: &[Sent]) {
    for sent in acknowledged {
        let id = sent.id.as_deref().unwrap();
        let (_, bytes) = app.read_with_first_document(id).await;
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            hex::encode(Sha256::digest(&sent.cv)),
            "{id}"
        );
    }
}

fn keys_create(app: &TestApp) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_applicant-vault"))
        .args(["keys", "create", "--name", "during", "--role", "recruiter"])
        .envs(app.env.iter().cloned())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_under_the_database_answers_503_loses_nothing_and_recovers() {
    const TEST: &str = "a_full_disk_under_the_database_answers_503_loses_nothing_and_recovers";
    if on_postgres() {
        return; // The database is PostgreSQL's, not on our disk.
    }
    let Some(disk) = mount_or_skip("8m", TEST) else {
        return;
    };
    let url = format!("sqlite://{}?mode=rwc", disk.path.join("vault.db").display());
    let app = spawn_app_with(&[("database.url", &url)]).await;
    let job = app.create_job("DE").await;
    let mut acknowledged: Vec<Sent> = Vec::new();
    for n in 0..3 {
        let sent = send(&app, &job, n).await;
        assert_eq!(sent.status, 201);
        acknowledged.push(sent);
    }
    let to_erase = acknowledged[0].id.clone().unwrap();

    // A full disk, with the log emptied first, so that any commit needs room.
    app.state
        .db
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    let filler = disk.fill();
    let mut refused = 0;
    for n in 3..23 {
        let sent = send(&app, &job, n).await;
        match sent.status.as_u16() {
            201 => acknowledged.push(sent),
            503 => refused += 1,
            other => panic!("a full disk answered {other}"),
        }
    }
    assert!(refused >= 10, "only {refused} of 20 refused on a full disk");
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 503, "{readiness}");
    assert_eq!(readiness["database"], false);
    // The operator's scrape still answers, and says the same.
    let (_, scraped) = crate::metrics::scrape(&app).await;
    assert_eq!(
        crate::metrics::value(
            &scraped,
            "applicant_vault_dependency_ready",
            &[("dependency", "database")]
        ),
        Some(0.0)
    );
    // An erasure that cannot commit deletes nothing, the CV included.
    let erased = app
        .client
        .delete(app.url(&format!("/v1/applications/{to_erase}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    let erasure_went = match erased.status().as_u16() {
        200 => true,
        503 => false,
        other => panic!("an erasure on a full disk answered {other}"),
    };

    // Room again: readiness recovers by itself, and writes work at once.
    std::fs::remove_file(&filler).unwrap();
    let mut recovered = false;
    for _ in 0..50 {
        if ready(&app).await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "readiness did not recover after the disk emptied"
    );
    for n in 23..28 {
        let sent = send(&app, &job, n).await;
        assert_eq!(sent.status, 201);
        acknowledged.push(sent);
    }
    // Another process writes beside the server (no transaction was left open).
    let created = keys_create(&app);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    if !erasure_went {
        let retried = app
            .client
            .delete(app.url(&format!("/v1/applications/{to_erase}")))
            .bearer_auth(&app.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(retried.status(), 200);
    }

    let app = app.restart().await;
    acknowledged.retain(|sent| sent.id.as_deref() != Some(to_erase.as_str()));
    assert_all_readable(&app, &acknowledged).await;
    assert_eq!(
        app.count_rows("applications").await,
        acknowledged.len() as i64,
        "exactly the acknowledged applications, less the erased one"
    );
    assert_eq!(
        app.get(&app.admin_key, &format!("/v1/applications/{to_erase}"))
            .await
            .status(),
        404,
        "erased stays erased"
    );
    app.stop().await;
    drop(disk);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_or_missing_object_folder_is_not_ready_and_intake_answers_503() {
    const TEST: &str = "a_full_or_missing_object_folder_is_not_ready_and_intake_answers_503";
    if std::env::var("TEST_S3_ENDPOINT").is_ok() {
        return; // The objects are not on our disk.
    }
    let Some(disk) = mount_or_skip("4m", TEST) else {
        return;
    };
    let objects = disk.path.join("objects");
    let url = format!("file://{}", objects.display());
    let app = spawn_app_with(&[("storage.url", &url)]).await;
    let job = app.create_job("DE").await;
    assert_eq!(ready(&app).await.0, 200);
    let filler = disk.fill();
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 503);
    assert_eq!(readiness["object_store"], false);
    assert_eq!(readiness["database"], true);
    let sent = send(&app, &job, 1).await;
    assert_eq!(sent.status, 503);
    assert_eq!(app.count_rows("applications").await, 0);
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(ready(&app).await.0, 200);

    // A folder that vanished (an unmounted volume) is not recreated quietly.
    let moved = disk.path.join("elsewhere");
    std::fs::rename(&objects, &moved).unwrap();
    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 503);
    assert_eq!(readiness["object_store"], false);
    std::fs::rename(&moved, &objects).unwrap();
    assert_eq!(ready(&app).await.0, 200);
    app.stop().await;
    drop(disk);
}

/// Terminates every other connection to the test database.
async fn terminate_backends(app: &TestApp) -> u64 {
    let url = app
        .env
        .iter()
        .find(|(k, _)| k == "APPLICANT_VAULT__DATABASE__URL")
        .map(|(_, v)| v.clone())
        .unwrap();
    let killer = sea_orm::Database::connect(&url).await.unwrap();
    let result = killer
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    let _ = killer.close().await;
    result.rows_affected()
}

#[tokio::test(flavor = "multi_thread")]
async fn terminated_database_connections_answer_503_then_recover_losing_nothing() {
    if !on_postgres() {
        return; // A SQLite file has no connections to terminate.
    }
    let app = spawn_app_with(&[]).await;
    let job = app.create_job("DE").await;
    let mut acknowledged = Vec::new();
    for n in 0..3 {
        let sent = send(&app, &job, n).await;
        assert_eq!(sent.status, 201);
        acknowledged.push(sent);
    }
    assert!(terminate_backends(&app).await > 0);
    // The pools' connections are dead: the next request finds out (503), the
    // dead connections are dropped, and requests succeed again.
    let list = || app.get(&app.admin_key, "/v1/applications?limit=1");
    let first = list().await;
    assert_eq!(first.status(), 503, "the first request after the kill");
    assert!(first.headers().contains_key("retry-after"));
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(list().await.status().as_u16());
    }
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().rev().take(5).all(|s| *s == 200),
        "{statuses:?}"
    );
    for n in 3..13 {
        let sent = send(&app, &job, n).await;
        assert_eq!(sent.status, 201);
        acknowledged.push(sent);
    }

    // Killed under load: commits cut off answer 503; every 201 is there.
    let sender = {
        let (app, job) = (&app, &job);
        async move {
            let mut got = Vec::new();
            for n in 40..100 {
                got.push(send(app, job, n).await);
            }
            got
        }
    };
    let killer = async {
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(60)).await;
            terminate_backends(&app).await;
        }
    };
    let (sent, ()) = tokio::join!(sender, killer);
    let mut refused = 0;
    for sent in sent {
        match sent.status {
            StatusCode::CREATED => acknowledged.push(sent),
            StatusCode::SERVICE_UNAVAILABLE | NO_ANSWER => refused += 1,
            other => panic!("a killed connection answered {other}"),
        }
    }
    eprintln!("{refused} of 60 submissions refused under the kills");
    for _ in 0..50 {
        if ready(&app).await.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_all_readable(&app, &acknowledged).await;
    let app = app.restart().await;
    assert_all_readable(&app, &acknowledged).await;
    app.stop().await;
}
