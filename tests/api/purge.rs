//! Scheduled forgetting, end to end: reminders with candidate links, the
//! consent pages, holds, the purge and what it leaves behind; the purge killed
//! at random points and two purges at once.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ApplicationForm, TestApp, pdf, spawn_app_with};

const ACK: &str = "acknowledgment";
const REMINDER: &str = "retention_reminder";

async fn reject(app: &TestApp, id: &str) {
    let response = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &format!("/v1/applications/{id}/status"),
            &json!({ "status": "rejected" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The candidate link in the reminder mail the application's candidate got.
async fn reminder_link(app: &TestApp, id: &str) -> String {
    let messages = app
        .messages_until(id, |items| {
            items
                .iter()
                .any(|m| m["origin"] == REMINDER && m["status"] == "sent")
        })
        .await;
    let reminder = messages.iter().find(|m| m["origin"] == REMINDER).unwrap();
    assert!(
        reminder["body"]
            .as_str()
            .unwrap()
            .contains("{{consent_url}}"),
        "the stored copy keeps no token: {reminder}"
    );
    let mail = app
        .received_mail(reminder["message_id"].as_str().unwrap())
        .await;
    // Undo quoted-printable soft line breaks; the token itself is URL-safe.
    let mail = mail.replace("=\r\n", "").replace("=\n", "");
    let start = mail.find("/consent/").expect("a consent link in the mail") + "/consent/".len();
    let token: String = mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43, "256 bits, base64url: {token}");
    app.url(&format!("/consent/{token}"))
}

async fn purge_after(app: &TestApp, id: &str) -> chrono::DateTime<chrono::Utc> {
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    read["purge_after"].as_str().unwrap().parse().unwrap()
}

async fn choose(app: &TestApp, link: &str, action: &str) -> reqwest::Response {
    app.client
        .post(link)
        .form(&[("action", action)])
        .send()
        .await
        .unwrap()
}

/// Waits until the background purge has taken the application (ten seconds at most).
async fn until_purged(app: &TestApp, id: &str) {
    for _ in 0..100 {
        if app
            .get(&app.admin_key, &format!("/v1/applications/{id}"))
            .await
            .status()
            == StatusCode::NOT_FOUND
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("application {id} was never purged");
}

#[tokio::test(flavor = "multi_thread")]
async fn reminded_candidates_extend_or_withdraw_and_the_purge_keeps_its_word() {
    let app = spawn_app_with(&[
        ("retention.after_decision", "1h"),
        ("retention.purge_interval", "1s"),
        ("consent.reminder_before", "1h"),
        ("consent.extension", "1d"),
        ("consent.max_total", "2d"),
        ("mail.poll_interval", "1s"),
    ])
    .await;
    let job = app.create_job("FR").await;
    let mut ids = Vec::new();
    for (n, email) in ["keep@example.com", "go@example.com", "held@example.com"]
        .iter()
        .enumerate()
    {
        let form = ApplicationForm::new(&job, email).file("cv", pdf(4096, n as u8 + 10), "cv.pdf");
        let submitted = app.submit_ok(form).await;
        ids.push(submitted["id"].as_str().unwrap().to_owned());
    }
    let (keep, go, held) = (&ids[0], &ids[1], &ids[2]);
    let gone_document = app
        .get_json(&app.admin_key, &format!("/v1/applications/{go}"))
        .await["documents"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let objects_before = app.object_keys().await;
    assert_eq!(objects_before.len(), 3);
    let hold = app
        .send_json(
            Method::PUT,
            &app.admin_key,
            &format!("/v1/applications/{held}/legal-hold"),
            &json!({ "reason": "Tribunal case 12" }),
        )
        .await;
    assert_eq!(hold.status(), StatusCode::OK);
    for id in &ids {
        reject(&app, id).await;
    }

    // The reminder arrives for the two not held, with a working link.
    let keep_link = reminder_link(&app, keep).await;
    let go_link = reminder_link(&app, go).await;
    let held_messages = app.messages_until(held, |_| true).await;
    assert!(
        held_messages.iter().all(|m| m["origin"] == ACK),
        "no reminder under a hold: {held_messages:?}"
    );

    // Opening the link changes nothing.
    let due = purge_after(&app, keep).await;
    let page = app.client.get(&keep_link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\"") && html.contains("value=\"extend\""));
    assert!(!html.contains("<script"));
    assert_eq!(purge_after(&app, keep).await, due);
    assert_eq!(app.count_rows("consents").await, 0);

    // Extending keeps it about a day from now; doing it again changes nothing.
    let extended = choose(&app, &keep_link, "extend").await;
    assert_eq!(extended.status(), StatusCode::OK);
    let kept_until = purge_after(&app, keep).await;
    let expected = app.state.clock.now() + chrono::TimeDelta::days(1);
    assert!(
        (kept_until - expected).num_seconds().abs() < 30,
        "{kept_until}"
    );
    assert_eq!(
        choose(&app, &keep_link, "extend").await.status(),
        StatusCode::OK
    );
    assert_eq!(purge_after(&app, keep).await, kept_until);
    assert_eq!(app.count_rows("consents").await, 1);
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{keep}"))
        .await;
    assert_eq!(read["retention"]["rule"], "consent");

    // Withdrawing sends it to the next purge.
    assert_eq!(
        choose(&app, &go_link, "withdraw").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        choose(&app, &go_link, "withdraw").await.status(),
        StatusCode::OK
    );
    until_purged(&app, go).await;
    // Used up and gone: the link now reveals nothing.
    let dead = app.client.get(&go_link).send().await.unwrap();
    assert_eq!(dead.status(), StatusCode::NOT_FOUND);
    assert!(!dead.text().await.unwrap().contains("engines"));
    let download = app
        .get(
            &app.admin_key,
            &format!("/v1/applications/{go}/documents/{gone_document}"),
        )
        .await;
    assert_eq!(download.status(), StatusCode::NOT_FOUND);

    // The others outlive their original dates: one by consent, one by the hold.
    app.advance(Duration::from_secs(3600 + 60));
    applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap();
    for id in [keep, held] {
        let status = app
            .get(&app.admin_key, &format!("/v1/applications/{id}"))
            .await
            .status();
        assert_eq!(status, StatusCode::OK, "{id} was kept");
    }
    let objects_after = app.object_keys().await;
    assert_eq!(
        objects_after.len(),
        2,
        "exactly the withdrawn one's file went"
    );

    // Lifting the hold puts it back on its schedule, which has passed.
    let lifted = app
        .send_json(
            Method::DELETE,
            &app.admin_key,
            &format!("/v1/applications/{held}/legal-hold"),
            &json!({}),
        )
        .await;
    assert_eq!(lifted.status(), StatusCode::NO_CONTENT);
    until_purged(&app, held).await;

    let receipts = app.get_json(&app.admin_key, "/v1/purge-receipts").await;
    let items = receipts["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{receipts}");
    let receipt = items.iter().find(|r| r["application_id"] == **go).unwrap();
    assert_eq!(receipt["rule"], "erasure");
    assert_eq!(receipt["reason"], "scheduled");
    assert_eq!(receipt["outcome"], "rejected");
    assert_eq!(receipt["objects_deleted"], 1);
    assert_eq!(receipt["job_id"], job.as_str());
    let text = receipts.to_string();
    assert!(!text.contains("example.com") && !text.contains("Ada"));
    let forbidden = app
        .get(
            &app.create_key("recruiter", false).await,
            "/v1/purge-receipts",
        )
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn unknown_expired_and_malformed_links_reveal_nothing() {
    let app = spawn_app_with(&[]).await;
    for token in ["x", &"A".repeat(43), &"B".repeat(500)] {
        let link = app.url(&format!("/consent/{token}"));
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        let posted = choose(&app, &link, "extend").await;
        assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    }
    let bad_form = app
        .client
        .post(app.url("/consent/x"))
        .form(&[("action", "delete everything")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_form.status(), StatusCode::BAD_REQUEST);

    // An expired link of a real application.
    let job = app.create_job("FR").await;
    let id = app
        .submit_ok(ApplicationForm::new(&job, "late@example.com"))
        .await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let token = applicant_vault::domain::keys::random_token();
    app.state
        .writer
        .run(applicant_vault::retention::links::CreateLink {
            token_hash: applicant_vault::domain::keys::hash_secret(&token),
            application_id: id,
            expires_at: chrono::Utc::now() - chrono::TimeDelta::seconds(1),
        })
        .await
        .unwrap();
    let link = app.url(&format!("/consent/{token}"));
    assert_eq!(
        app.client.get(&link).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        choose(&app, &link, "withdraw").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.count_rows("consents").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_preview_and_the_dry_run_list_what_will_go_and_why() {
    let app = spawn_app_with(&[
        ("retention.after_decision", "1s"),
        ("retention.purge_interval", "1h"),
    ])
    .await;
    let job = app.create_job("FR").await;
    let mut ids = Vec::new();
    for email in ["p1@example.com", "p2@example.com", "p3@example.com"] {
        let submitted = app.submit_ok(ApplicationForm::new(&job, email)).await;
        ids.push(submitted["id"].as_str().unwrap().to_owned());
    }
    reject(&app, &ids[0]).await;
    reject(&app, &ids[1]).await;
    app.send_json(
        Method::PUT,
        &app.admin_key,
        &format!("/v1/applications/{}/legal-hold", ids[1]),
        &json!({ "reason": "audit" }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let preview = app
        .get_json(&app.admin_key, "/v1/retention/preview?within=1d")
        .await;
    let items = preview["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "the undecided one is a year away: {preview}"
    );
    assert_eq!(items[0]["application_id"], ids[0].as_str());
    assert_eq!(items[0]["rule"], "after_decision");
    assert_eq!(items[0]["held"], false);
    assert_eq!(items[1]["held"], true);
    let all = app
        .get_json(&app.admin_key, "/v1/retention/preview?within=400d&limit=2")
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let cursor = all["next_cursor"].as_str().unwrap();
    let rest = app
        .get_json(
            &app.admin_key,
            &format!("/v1/retention/preview?within=400d&limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(rest["items"][0]["application_id"], ids[2].as_str());
    assert_eq!(rest["items"][0]["rule"], "after_inactivity");
    for bad in ["within=soon", "cursor=0000", "cursor=1.000000000~zz"] {
        let refused = app
            .get(&app.admin_key, &format!("/v1/retention/preview?{bad}"))
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    let dry = purge_cli(&app, &["--dry-run"]).output().unwrap();
    let listed = String::from_utf8(dry.stdout).unwrap();
    assert!(dry.status.success());
    assert!(
        listed.contains(&ids[0]) && listed.contains("after_decision"),
        "{listed}"
    );
    assert!(!listed.contains(&ids[1]), "held: {listed}");
    assert!(
        listed.contains("1 applications would be purged"),
        "{listed}"
    );
    assert_eq!(
        app.count_rows("applications").await,
        3,
        "a dry run deletes nothing"
    );

    let run = purge_cli(&app, &[]).output().unwrap();
    assert!(run.status.success());
    let said = String::from_utf8(run.stdout).unwrap();
    assert!(said.contains("purged 1 applications"), "{said}");
    assert_eq!(app.count_rows("applications").await, 2);

    // The command also sweeps objects no row refers to, past the grace period.
    let stray = applicant_vault::blobs::Blobs::new_document_key();
    app.state
        .blobs
        .put_document(
            &stray,
            &applicant_vault::blobs::UploadData::Memory(pdf(100, 9).into()),
        )
        .await
        .unwrap();
    // And mail files of messages that are gone (a crash between a purge's
    // commit and its deletions), and temporary files a crash left.
    let mail_dir = std::path::PathBuf::from(&app.state.settings.mail.dir);
    std::fs::create_dir_all(&mail_dir).unwrap();
    let stray_mail = mail_dir.join(format!("{}.eml", uuid::Uuid::now_v7()));
    let stray_temp = mail_dir.join(".tmpXYZ123");
    for file in [&stray_mail, &stray_temp] {
        std::fs::write(file, "To: someone@example.com\r\n\r\nHello").unwrap();
    }
    let kept_before = std::fs::read_dir(&mail_dir).unwrap().count() - 2;
    let swept = purge_cli(&app, &[])
        .env("APPLICANT_VAULT__STORAGE__ORPHAN_GRACE", "0s")
        .output()
        .unwrap();
    let said = String::from_utf8(swept.stdout).unwrap();
    assert!(said.contains("removed 1 unreferenced objects"), "{said}");
    assert!(said.contains("removed 2 mail files"), "{said}");
    assert!(!stray_mail.exists() && !stray_temp.exists());
    assert_eq!(
        std::fs::read_dir(&mail_dir).unwrap().count(),
        kept_before,
        "the mail of living applications stays"
    );
    assert!(!app.object_keys().await.contains(&stray));
    assert_eq!(
        app.object_keys().await.len(),
        2,
        "the applications' CVs stay"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_admin_erases_an_application_at_once_even_under_a_hold() {
    let app = spawn_app_with(&[]).await;
    let job = app.create_job("FR").await;
    let first = app
        .submit_ok(ApplicationForm::new(&job, "twice@example.com"))
        .await;
    let second = app
        .submit_ok(ApplicationForm::new(&job, "twice@example.com"))
        .await;
    let id = first["id"].as_str().unwrap();
    app.send_json(
        Method::PUT,
        &app.admin_key,
        &format!("/v1/applications/{id}/legal-hold"),
        &json!({ "reason": "audit" }),
    )
    .await;
    let path = format!("/v1/applications/{id}");
    let recruiter = app.create_key("recruiter", false).await;
    let refused = app
        .send_json(Method::DELETE, &recruiter, &path, &json!({}))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let erased = app
        .send_json(Method::DELETE, &app.admin_key, &path, &json!({}))
        .await;
    assert_eq!(erased.status(), StatusCode::OK);
    let receipt: Value = erased.json().await.unwrap();
    assert_eq!(receipt["reason"], "erased");
    assert_eq!(receipt["rule"], "admin_erasure");
    assert_eq!(receipt["objects_deleted"], 1);
    assert_eq!(
        app.get(&app.admin_key, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    let again = app
        .send_json(Method::DELETE, &app.admin_key, &path, &json!({}))
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    // The candidate stays while they have another application.
    assert_eq!(app.count_rows("candidates").await, 1);
    assert_eq!(app.object_keys().await.len(), 1);
    let other = format!("/v1/applications/{}", second["id"].as_str().unwrap());
    app.send_json(Method::DELETE, &app.admin_key, &other, &json!({}))
        .await;
    assert_eq!(app.count_rows("candidates").await, 0);
    assert_eq!(app.count_rows("purge_receipts").await, 2);
    assert_eq!(app.count_rows("source_stats").await, 1);
    app.stop().await;
}

/// Every table, row by row, as text.
pub(crate) async fn dump_database(app: &TestApp) -> String {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let tables_sql = match backend {
        DbBackend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "name").unwrap())
        .collect();
    assert!(tables.len() >= 15, "{tables:?}");
    let mut dump = String::new();
    for table in tables {
        let columns_sql = match backend {
            DbBackend::Postgres => format!(
                "SELECT column_name::text AS name FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = '{table}'"
            ),
            _ => format!("SELECT name FROM pragma_table_info('{table}')"),
        };
        // SQLite keeps ids as blobs: dump them as hex.
        let as_text = |c: &str| match backend {
            DbBackend::Postgres => format!("COALESCE(CAST(\"{c}\" AS TEXT), '')"),
            _ => format!(
                "CASE WHEN typeof(\"{c}\") = 'blob' THEN lower(hex(\"{c}\")) \
                 ELSE COALESCE(CAST(\"{c}\" AS TEXT), '') END"
            ),
        };
        let columns: Vec<String> = db
            .query_all_raw(Statement::from_string(backend, columns_sql))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("", "name").unwrap())
            .collect();
        let row_text = columns
            .iter()
            .map(|c| as_text(c))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT {row_text} AS line FROM \"{table}\""),
            ))
            .await
            .unwrap();
        for row in rows {
            let line: String = row.try_get("", "line").unwrap();
            dump.push_str(&format!("{table}: {line}\n"));
        }
    }
    dump
}

#[tokio::test]
async fn nothing_personal_stays_after_a_purge() {
    let app = spawn_app_with(&[
        ("retention.after_inactivity", "1h"),
        ("retention.purge_interval", "1h"),
    ])
    .await;
    let job = app.create_job("FR").await;
    let (name, email, phone) = ("Grace Hopperton", "grace.h@example.org", "+1 555 010 9999");
    let cv = pdf(50_000, 77);
    let form = ApplicationForm::new(&job, email)
        .set("full_name", name)
        .set("phone", phone)
        .file("cv", cv.clone(), "grace-cv.pdf");
    let id = app.submit_ok(form).await["id"].as_str().unwrap().to_owned();
    let note = app
        .act(
            Method::POST,
            &app.admin_key,
            &format!("/v1/applications/{id}/notes"),
            &json!({ "body": format!("Call {name} at {phone}") }),
        )
        .await;
    assert_eq!(note.status(), StatusCode::CREATED);
    // Someone else who stays.
    let stays = app
        .submit_ok(ApplicationForm::new(&job, "other@example.com").set("full_name", "Other Person"))
        .await;
    let stays = stays["id"].as_str().unwrap().to_owned();
    app.send_json(
        Method::PUT,
        &app.admin_key,
        &format!("/v1/applications/{stays}/legal-hold"),
        &json!({ "reason": "keep" }),
    )
    .await;
    // The acknowledgment and a reminder (with its live link) go out first.
    let done = applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap();
    assert_eq!((done.applications, done.reminded), (0, 1));
    app.messages_until(&id, |items| {
        items.len() == 2 && items.iter().all(|m| m["status"] == "sent")
    })
    .await;
    let mails_before = mail_files(&app);
    if std::env::var("TEST_SMTP_URL").is_err() {
        assert!(
            mails_before.iter().any(|text| text.contains(email))
                && mails_before.iter().any(|text| text.contains("/consent/")),
            "the file transport wrote both mails"
        );
    }
    let before = dump_database(&app).await;
    assert!(before.contains(email) && before.contains(name) && before.contains(phone));

    app.advance(Duration::from_secs(3600 + 60));
    let done = applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap();
    assert_eq!(done.applications, 1);

    // The mail files of the file transport went with the rest.
    for text in mail_files(&app) {
        for secret in [name, email, "/consent/"] {
            assert!(!text.contains(secret), "{secret:?} stayed in a mail file");
        }
    }
    let after = dump_database(&app).await;
    for secret in [name, email, phone, "grace.h", "Hopperton"] {
        assert!(!after.contains(secret), "{secret:?} stayed:\n{after}");
    }
    assert!(after.contains("Other Person"), "the held one stays");
    // On SQLite, not even the file's free pages or its log keep them.
    let url = app.state.settings.database.url.expose();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap();
        for file in [path.to_owned(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            for secret in [name, email, phone] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret:?} stayed in the bytes of {file}"
                );
            }
        }
    }
    assert!(
        after.contains(&id) || after.contains(&id.replace('-', "")),
        "the receipt names the application by id"
    );
    let keys = app.object_keys().await;
    assert_eq!(keys.len(), 1);
    for key in keys {
        let (_, stream) = app.state.blobs.open(&key).await.unwrap();
        let chunks: Vec<_> = futures_util::TryStreamExt::try_collect(stream)
            .await
            .unwrap();
        let bytes: Vec<u8> = chunks.concat();
        assert!(
            !bytes.windows(64).any(|w| cv.windows(64).next() == Some(w)) && bytes != cv,
            "the purged CV's bytes stayed in {key}"
        );
    }
    app.stop().await;
}

/// Every file under the mail folder, as text.
pub(crate) fn mail_files(app: &TestApp) -> Vec<String> {
    fn walk(dir: &std::path::Path, into: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, into);
            } else {
                into.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
            }
        }
    }
    let mut files = Vec::new();
    walk(
        std::path::Path::new(&app.state.settings.mail.dir),
        &mut files,
    );
    files
}

/// The purge command with the test app's settings.
fn purge_cli(app: &TestApp, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_applicant-vault"));
    command
        .arg("purge")
        .args(args)
        .envs(app.env.iter().cloned())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// `count` applications due at once, each with its own CV.
async fn due_applications(app: &TestApp, count: usize) -> Vec<String> {
    let job = app.create_job("FR").await;
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let form = ApplicationForm::new(&job, &format!("due{n}@example.com")).file(
            "cv",
            pdf(2048 + n, n as u8),
            "cv.pdf",
        );
        ids.push(app.submit_ok(form).await["id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    ids
}

/// Nothing of the applications stays but exactly one receipt each.
async fn assert_purged_exactly_once(app: &TestApp, ids: &[String]) {
    assert_eq!(app.count_rows("applications").await, 0);
    assert_eq!(app.count_rows("documents").await, 0);
    assert_eq!(app.count_rows("candidates").await, 0);
    assert_eq!(app.count_rows("messages").await, 0);
    assert_eq!(app.count_rows("outbox").await, 0);
    assert_eq!(app.count_rows("purge_objects").await, 0);
    assert_eq!(app.object_keys().await, Vec::<String>::new());
    assert_eq!(app.count_rows("purge_receipts").await, ids.len() as i64);
    let mut receipts = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_json(
                &app.admin_key,
                &format!("/v1/purge-receipts?limit=200{cursor}"),
            )
            .await;
        receipts.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["application_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    receipts.sort();
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(receipts, expected, "one receipt per application");
    let counted = app.count_rows("source_stats").await;
    assert!(counted >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_killed_at_random_points_leaves_nothing_behind_when_rerun() {
    let app = spawn_app_with(&[
        ("retention.after_inactivity", "1s"),
        ("retention.purge_interval", "1h"),
        ("retention.purge_batch", "3"),
    ])
    .await;
    let ids = due_applications(&app, 360).await;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut random = seed | 1;
    let mut next = move || {
        // xorshift: random kill points, reproducible from the printed seed.
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    let mut killed_mid_run = 0;
    let mut rounds = 0;
    for round in 0..24 {
        // Kills only while there is work left, so that each can land mid-run.
        if app.count_rows("applications").await < 20 {
            break;
        }
        rounds += 1;
        let before = app.count_rows("purge_receipts").await;
        let mut child: Child = purge_cli(&app, &[]).spawn().unwrap();
        if round % 4 == 0 {
            // Anywhere: starting up, finishing an earlier run's deletions, purging.
            tokio::time::sleep(Duration::from_millis(5 + next() % 80)).await;
        } else {
            // Once it is purging: inside a batch's transaction, between
            // committing and deleting its objects, or after.
            for _ in 0..2000 {
                if app.count_rows("purge_receipts").await > before
                    || child.try_wait().unwrap().is_some()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_micros(next() % 6000)).await;
        }
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let left = app.count_rows("applications").await;
    eprintln!(
        "seed {seed}: {killed_mid_run} of {rounds} runs killed mid-run, {left} applications left"
    );
    assert!(killed_mid_run >= 12, "seed {seed}");
    assert!(
        killed_mid_run * 10 >= rounds * 8,
        "most kills land mid-run (seed {seed})"
    );
    assert!(left > 0, "the kills must come before the end (seed {seed})");
    let finish = purge_cli(&app, &[]).output().unwrap();
    assert!(
        finish.status.success(),
        "{}",
        String::from_utf8_lossy(&finish.stderr)
    );
    assert_purged_exactly_once(&app, &ids).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_purges_at_once_purge_each_application_once() {
    let app = spawn_app_with(&[
        ("retention.after_inactivity", "1s"),
        ("retention.purge_interval", "1h"),
        ("retention.purge_batch", "5"),
    ])
    .await;
    let ids = due_applications(&app, 80).await;
    let first = purge_cli(&app, &[]).spawn().unwrap();
    let second = purge_cli(&app, &[]).spawn().unwrap();
    let mut purged = 0;
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        let said = String::from_utf8(output.stdout).unwrap();
        assert!(
            output.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let count: usize = said
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{said}"));
        purged += count;
    }
    assert_eq!(purged, ids.len(), "each application purged by one of them");
    assert_purged_exactly_once(&app, &ids).await;
    app.stop().await;
}
