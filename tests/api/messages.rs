//! Email communication: the outbox, the transports, retries, exactly once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{ACTOR, ApplicationForm, TestApp, spawn_app, spawn_app_with},
    smtp_sink::{SmtpSink, free_port, spawn_app_with_relay},
};

async fn application(app: &TestApp, email: &str) -> String {
    let job = app.create_job("NL").await;
    let form = ApplicationForm::new(&job, email).set("full_name", "Grace Hopper");
    app.submit_ok(form).await["id"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/applications/{id}/messages");
    app.act(Method::POST, &app.admin_key, &path, &body).await
}

fn with_origin<'a>(messages: &'a [Value], origin: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["origin"] == origin).collect()
}

#[tokio::test]
async fn a_recruiter_emails_the_candidate_and_records_the_reply() {
    let app = spawn_app().await;
    let id = application(&app, "grace@example.com").await;

    let sent = send(
        &app,
        &id,
        json!({ "subject": "Next steps", "body": "Dear Grace,\n\nCan you do Tuesday?\n" }),
    )
    .await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["direction"], "outbound");
    assert_eq!(sent["actor"], ACTOR);
    let message_id = sent["message_id"].as_str().unwrap().to_owned();
    assert!(message_id.starts_with('<') && message_id.ends_with('>'));

    let mail = app.received_mail(&message_id).await;
    assert!(mail.contains("Subject: Next steps"), "{mail}");
    assert!(mail.contains("grace@example.com"), "{mail}");
    assert!(mail.contains("Can you do Tuesday?"), "{mail}");
    let messages = app
        .messages_until(&id, |m| {
            m.iter().filter(|m| m["status"] == "sent").count() == 2
        })
        .await;
    let ours = messages
        .iter()
        .find(|m| m["message_id"] == message_id.as_str())
        .unwrap();
    assert!(ours["sent_at"].is_string());

    let reply = send(
        &app,
        &id,
        json!({
            "direction": "inbound",
            "subject": "Re: Next steps",
            "body": "Tuesday works.",
            "received_at": "2026-11-20T08:00:00Z",
        }),
    )
    .await;
    assert_eq!(reply.status(), 201);
    let reply: Value = reply.json().await.unwrap();
    assert_eq!(reply["status"], "received");
    assert_eq!(reply["received_at"], "2026-11-20T08:00:00+00:00");

    let listed: Value = app
        .get(&app.admin_key, &format!("/v1/applications/{id}/messages"))
        .await
        .json()
        .await
        .unwrap();
    let subjects: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 3);
    assert!(
        subjects[0].contains("Analytical engineer"),
        "the acknowledgment comes first: {subjects:?}"
    );
    assert_eq!(&subjects[1..], ["Next steps", "Re: Next steps"]);
    assert_eq!(app.count_rows("outbox").await, 0, "nothing left to deliver");

    app.assert_history_has(
        &id,
        &["message.queued", "message.recorded", "message.listed"],
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn every_application_is_acknowledged_once_unless_configured_off() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let form = || ApplicationForm::new(&job, "ack@example.com").set("full_name", "Ada Lovelace");
    let first = app.submit(&app.admin_key, form(), Some("retry-1")).await;
    assert_eq!(first.status(), 201);
    let id = first.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = app.submit(&app.admin_key, form(), Some("retry-1")).await;
    assert!(again.status().is_success());

    let messages = app
        .messages_until(&id, |m| m.first().is_some_and(|m| m["status"] == "sent"))
        .await;
    let acks = with_origin(&messages, "acknowledgment");
    assert_eq!(acks.len(), 1, "a retried submission is acknowledged once");
    assert!(
        acks[0]["actor"].is_null() && acks[0]["api_key_id"].is_null(),
        "the system sends it"
    );
    let mail = app
        .received_mail(acks[0]["message_id"].as_str().unwrap())
        .await;
    assert!(mail.contains("Dear Ada Lovelace"), "{mail}");
    app.stop().await;

    let quiet = spawn_app_with(&[("mail.acknowledge_applications", "false")]).await;
    let id = application(&quiet, "quiet@example.com").await;
    let listed: Value = quiet
        .get(&quiet.admin_key, &format!("/v1/applications/{id}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    assert_eq!(quiet.count_rows("outbox").await, 0);
    quiet.stop().await;
}

#[tokio::test]
async fn mail_waits_out_an_smtp_outage_and_is_delivered_exactly_once() {
    let port = free_port();
    let app = spawn_app_with_relay(port).await;
    let id = application(&app, "outage@example.com").await;
    let sent: Value = send(
        &app,
        &id,
        json!({ "subject": "Offer", "body": "Good news." }),
    )
    .await
    .json()
    .await
    .unwrap();
    let message_id = sent["message_id"].as_str().unwrap().to_owned();

    // The relay is down: attempts fail and are rescheduled; nothing is lost.
    for _ in 0..100 {
        if app.count_rows("outbox WHERE attempts > 0").await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let messages = app.messages_until(&id, |m| m.len() == 2).await;
    assert!(
        messages.iter().all(|m| m["status"] == "queued"),
        "{messages:#?}"
    );
    assert_eq!(app.count_rows("outbox").await, 2);
    let attempts: i64 = app.count_rows("outbox WHERE attempts > 0").await;
    assert_eq!(attempts, 2, "both mails were tried and kept");

    let sink = SmtpSink::start(port).await;
    app.messages_until(&id, |m| m.iter().all(|m| m["status"] == "sent"))
        .await;
    // A few more rounds of the deliverer: nothing goes out twice.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let received = sink.received();
    assert_eq!(received.len(), 2, "two mails, each once");
    let header = format!("Message-ID: {message_id}");
    assert_eq!(received.iter().filter(|m| m.contains(&header)).count(), 1);
    assert_eq!(app.count_rows("outbox").await, 0);
    sink.stop();
    app.stop().await;
}

// Multi-threaded: the sink must answer while the test waits for the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_delivers_what_the_service_left_queued() {
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(&[
        ("mail.transport", "smtp"),
        ("mail.smtp_url", &smtp_url),
        ("mail.timeout", "2s"),
        ("mail.retry_initial", "1h"),
    ])
    .await;
    let id = application(&app, "cli@example.com").await;
    send(
        &app,
        &id,
        json!({ "subject": "Hello", "body": "From the CLI." }),
    )
    .await;
    // The service tried once and backs off for an hour.
    for _ in 0..50 {
        if app.count_rows("outbox WHERE attempts > 0").await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.count_rows("outbox WHERE attempts > 0").await, 2);

    let sink = SmtpSink::start(port).await;
    let deliver = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_applicant-vault"))
            .arg("outbox")
            .arg("deliver")
            .args(args)
            .envs(app.env.iter().cloned())
            .env("RUST_LOG", "warn")
            .output()
            .expect("running the CLI")
    };
    let waiting = deliver(&[]);
    assert!(
        waiting.status.success(),
        "{}",
        String::from_utf8_lossy(&waiting.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&waiting.stdout).trim(),
        "sent 0, to retry 0, failed 0",
        "backoff is respected"
    );
    let now = deliver(&["--now"]);
    assert_eq!(
        String::from_utf8_lossy(&now.stdout).trim(),
        "sent 2, to retry 0, failed 0"
    );
    let again = deliver(&["--now"]);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "sent 0, to retry 0, failed 0"
    );
    assert_eq!(sink.received().len(), 2);
    app.messages_until(&id, |m| m.iter().all(|m| m["status"] == "sent"))
        .await;
    sink.stop();
    app.stop().await;
}

#[tokio::test]
async fn a_relay_that_refuses_an_address_fails_the_message_without_retrying() {
    let app = spawn_app_with(&[("mail.acknowledge_applications", "false")]).await;
    let job = app.create_job("NL").await;
    // The intake refuses an address the mailer cannot take…
    let refused = app
        .submit(
            &app.admin_key,
            ApplicationForm::new(&job, "a\"b@example.com"),
            None,
        )
        .await;
    assert_eq!(refused.status(), 422);
    // …but a row from before that check may hold one: the mail fails at
    // once instead of being retried.
    let id = app
        .submit_ok(ApplicationForm::new(&job, "ab@example.com"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let backend = app.state.db.get_database_backend();
    let placeholder = match backend {
        sea_orm::DbBackend::Postgres => "$1",
        _ => "?",
    };
    let changed = app
        .state
        .writer
        .run(applicant_vault::store::writer::Execute(
            sea_orm::Statement::from_sql_and_values(
                backend,
                format!(
                    "UPDATE applications SET email = 'a\"b@example.com' WHERE id = {placeholder}"
                ),
                [id.parse::<uuid::Uuid>().unwrap().into()],
            ),
        ))
        .await
        .unwrap();
    assert_eq!(changed, 1);
    send(&app, &id, json!({ "subject": "Hi", "body": "Hello." })).await;
    let messages = app
        .messages_until(&id, |m| m.first().is_some_and(|m| m["status"] != "queued"))
        .await;
    assert_eq!(messages[0]["status"], "failed");
    assert_eq!(app.count_rows("outbox").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn bad_messages_are_refused_and_nothing_is_queued() {
    let app = spawn_app_with(&[("mail.acknowledge_applications", "false")]).await;
    let id = application(&app, "bad@example.com").await;
    let cases = [
        (json!({ "subject": "", "body": "x" }), 422, "subject"),
        (
            json!({ "subject": "two\nlines", "body": "x" }),
            422,
            "subject",
        ),
        (json!({ "subject": "ok", "body": "  " }), 422, "body"),
        (
            json!({ "subject": "ok", "body": "a".repeat(20_001) }),
            422,
            "body",
        ),
        (
            json!({ "subject": "ok", "body": "x", "direction": "sideways" }),
            400,
            "MessageDirection",
        ),
        (
            json!({ "subject": "ok", "body": "x", "direction": null }),
            400,
            "direction",
        ),
        (json!({ "subject": "ok" }), 400, "MessageDraft"),
    ];
    for (body, status, field) in cases {
        let response = send(&app, &id, body.clone()).await;
        assert_eq!(response.status(), status, "{body:.80}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{error}"
        );
    }
    assert_eq!(app.count_rows("messages").await, 0);
    let unknown = format!("/v1/applications/{}/messages", uuid::Uuid::now_v7());
    let missing = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &unknown,
            &json!({ "subject": "a", "body": "b" }),
        )
        .await;
    assert_eq!(missing.status(), 404);
    let careers = app.create_key("careers-site", false).await;
    assert_eq!(
        app.get(&careers, &format!("/v1/applications/{id}/messages"))
            .await
            .status(),
        403
    );
    app.stop().await;
}
