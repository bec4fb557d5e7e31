//! Data-subject requests: recorded by an admin or on the candidate pages,
//! their deadlines on the service's clock, extensions mailed to the
//! candidate, refusals, the officer's reminder, erasures the purge
//! fulfils, and an audit trail without personal data.

use std::time::Duration;

use applicant_vault::{
    domain::{fields::Email, subject_request::SubjectRequestKind},
    store::{
        applications::candidate_by_email,
        entity::subject_request,
        subject_requests::{open_for_candidate, record_self_service},
        writer::Unit,
    },
    worker::officer::remind_officer,
};
use chrono::{DateTime, Months, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{ApplicationForm, TestApp, spawn_app, spawn_app_with},
    smtp_sink::{SmtpSink, free_port},
};

const PATH: &str = "/v1/subject-requests";

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

/// Submits an application for `email`; its id.
async fn application(app: &TestApp, email: &str) -> String {
    let job = app.create_job("NL").await;
    let form = ApplicationForm::new(&job, email).set("full_name", "Grace Hopper");
    app.submit_ok(form).await["id"].as_str().unwrap().to_owned()
}

async fn record(app: &TestApp, body: Value) -> reqwest::Response {
    app.act(Method::POST, &app.admin_key, PATH, &body).await
}

/// Records a request by email about `email`; the record.
async fn recorded(app: &TestApp, kind: &str, email: &str) -> Value {
    let response = record(
        app,
        json!({ "channel": "email", "kind": kind, "email": email,
                "identity_evidence": "Wrote from the address she applied with" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, id: &Value, body: Value) -> reqwest::Response {
    let path = format!("{PATH}/{}", id.as_str().unwrap());
    app.act(Method::PATCH, &app.admin_key, &path, &body).await
}

/// The ids of the requests a listing with `query` shows.
async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let page = app
        .get_json(&app.admin_key, &format!("{PATH}?{query}"))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.admin_key, &format!("{PATH}/{id}")).await
}

fn wait(by: TimeDelta) -> Duration {
    by.to_std().expect("a wait forward")
}

#[tokio::test]
async fn an_admin_records_requests_received_by_email_and_by_letter() {
    let app = spawn_app().await;
    application(&app, "Ada.Lovelace@Example.com").await;
    let candidate = candidate_by_email(
        &app.state.db,
        &Email::parse("email", "ada.lovelace@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();

    let response = record(
        &app,
        json!({ "channel": "email", "kind": "access", "email": " ADA.lovelace@example.COM ",
                "identity_evidence": "Replied from the address she applied with",
                "details": "Wants a copy of her interview notes" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let by_email: Value = response.json().await.unwrap();
    assert_eq!(by_email["channel"], "email");
    assert_eq!(by_email["kind"], "access");
    assert_eq!(by_email["status"], "open");
    assert_eq!(by_email["candidate_id"], candidate.id.to_string());
    let received = time(&by_email["received_at"]);
    assert!((app.state.now() - received).num_seconds().abs() < 60);
    assert_eq!(
        time(&by_email["due_at"]),
        received.checked_add_months(Months::new(1)).unwrap()
    );
    assert_eq!(by_email["deadline"], by_email["due_at"]);
    assert_eq!(by_email["overdue"], false);
    assert_eq!(
        by_email["identity_evidence"],
        "Replied from the address she applied with"
    );

    // A letter from someone we hold nothing on, received last January.
    let response = record(
        &app,
        json!({ "channel": "letter", "kind": "erasure", "received_at": "2026-01-31T09:00:00Z",
                "email": "stranger@example.com", "identity_evidence": "Signed letter" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let by_letter: Value = response.json().await.unwrap();
    assert!(by_letter.get("candidate_id").is_none(), "{by_letter}");
    assert_eq!(by_letter["due_at"], "2026-02-28T09:00:00+00:00");
    assert_eq!(by_letter["overdue"], true);
    assert!(by_letter.get("details").is_none());

    let id = by_email["id"].as_str().unwrap();
    let read = app.get_json(&app.admin_key, &format!("{PATH}/{id}")).await;
    assert_eq!(read["details"], "Wants a copy of her interview notes");
    let page = app.get_json(&app.admin_key, PATH).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], by_email["id"], "oldest first");
    for item in items {
        for text in [
            "identity_evidence",
            "details",
            "extension_reason",
            "refusal_reason",
        ] {
            assert!(item.get(text).is_none(), "{text} in a list item: {item}");
        }
    }
    let unknown = format!("{PATH}/{}", Uuid::now_v7());
    assert_eq!(
        app.get(&app.admin_key, &unknown).await.status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn only_admins_handle_subject_requests() {
    let app = spawn_app().await;
    let request = recorded(&app, "access", "someone@example.com").await;
    let one = format!("{PATH}/{}", request["id"].as_str().unwrap());
    let recruiter = app.create_key("recruiter", false).await;
    let careers = app.create_key("careers-site", false).await;
    let body = json!({ "channel": "email", "kind": "access", "identity_evidence": "x" });
    for (key, expected) in [
        (Some(recruiter.as_str()), StatusCode::FORBIDDEN),
        (Some(careers.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        for (method, path) in [
            (Method::GET, PATH),
            (Method::POST, PATH),
            (Method::GET, one.as_str()),
            (Method::PATCH, one.as_str()),
        ] {
            let mut call = app
                .client
                .request(method.clone(), app.url(path))
                .json(&body);
            if let Some(key) = key {
                call = call.bearer_auth(key);
            }
            let response = call.send().await.unwrap();
            assert_eq!(response.status(), expected, "{method} {path}");
        }
    }
    assert_eq!(app.count_rows("subject_requests").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused_saying_what_to_fix_and_store_nothing() {
    let app = spawn_app().await;
    let tomorrow = (app.state.now() + TimeDelta::days(1)).to_rfc3339();
    let valid = json!({ "channel": "letter", "kind": "objection", "identity_evidence": "ID copy" });
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            with("identity_evidence", json!("  ")),
            422,
            "identity_evidence",
        ),
        (
            with("identity_evidence", json!("a".repeat(2001))),
            422,
            "identity_evidence",
        ),
        (with("received_at", json!(tomorrow)), 422, "received_at"),
        (with("email", json!("not an address")), 422, "email"),
        (with("details", json!("a\u{7}b")), 422, "details"),
        (with("channel", json!("self_service")), 400, "ReceivedBy"),
        (with("kind", json!("deletion")), 400, "SubjectRequestKind"),
        (
            json!({ "channel": "email", "kind": "access" }),
            400,
            "NewSubjectRequest",
        ),
    ];
    for (body, status, field) in cases {
        let response = record(&app, body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{body:.100}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{field}: {error}"
        );
    }
    assert_eq!(app.count_rows("subject_requests").await, 0);

    let request = recorded(&app, "access", "someone@example.com").await;
    let id = &request["id"];
    let cases = [
        (json!({ "status": "refused" }), 422, "refusal_reason"),
        (
            json!({ "status": "refused", "refusal_reason": " " }),
            422,
            "refusal_reason",
        ),
        (
            json!({ "status": "done", "refusal_reason": "no" }),
            422,
            "refusal_reason",
        ),
        (json!({ "extend_months": 1 }), 422, "extension_reason"),
        (
            json!({ "extension_reason": "complex" }),
            422,
            "extend_months",
        ),
        (
            json!({ "extend_months": 3, "extension_reason": "complex" }),
            400,
            "extend_months",
        ),
        (
            json!({ "extend_months": 1, "extension_reason": "x", "status": "done" }),
            422,
            "extend_months",
        ),
        (json!({ "status": null }), 400, "status"),
        (json!({ "status": "closed" }), 400, "SubjectRequestStatus"),
    ];
    for (body, status, field) in cases {
        let response = patch(&app, id, body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{field}: {error}"
        );
    }
    let unchanged = app
        .get_json(&app.admin_key, &format!("{PATH}/{}", id.as_str().unwrap()))
        .await;
    assert_eq!(unchanged["status"], "open");
    assert!(unchanged.get("extended_until").is_none());
    let unknown = json!(Uuid::now_v7().to_string());
    let missing = patch(&app, &unknown, json!({ "status": "done" })).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn deadlines_run_on_the_clock_and_show_what_is_due_and_overdue() {
    let app = spawn_app().await;
    let access = recorded(&app, "access", "due@example.com").await;
    let objection = recorded(&app, "objection", "due@example.com").await;
    let ids = [
        access["id"].as_str().unwrap(),
        objection["id"].as_str().unwrap(),
    ];
    // One calendar month is 28 to 31 days.
    assert_eq!(listed(&app, "due_within_days=31").await, ids);
    assert!(listed(&app, "due_within_days=27").await.is_empty());
    assert!(listed(&app, "overdue=true").await.is_empty());
    assert_eq!(listed(&app, "overdue=false").await, ids);
    assert_eq!(listed(&app, "kind=objection").await, [ids[1]]);

    let done = patch(&app, &objection["id"], json!({ "status": "done" })).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    assert!(done["completed_at"].is_string());
    assert_eq!(listed(&app, "status=done").await, [ids[1]]);
    assert_eq!(listed(&app, "due_within_days=31").await, [ids[0]]);

    app.advance(wait(TimeDelta::days(32)));
    assert_eq!(listed(&app, "overdue=true").await, [ids[0]]);
    assert_eq!(listed(&app, "overdue=false").await, [ids[1]]);
    assert!(listed(&app, "due_within_days=365").await.is_empty());
    let late = app
        .get_json(&app.admin_key, &format!("{PATH}/{}", ids[0]))
        .await;
    assert_eq!(late["overdue"], true);

    let first = app
        .get_json(&app.admin_key, &format!("{PATH}?limit=1"))
        .await;
    assert_eq!(first["items"][0]["id"], ids[0]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&app.admin_key, &format!("{PATH}?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second["items"][0]["id"], ids[1]);
    app.stop().await;
}

#[tokio::test]
async fn a_deadline_is_extended_once_before_it_passes_and_the_candidate_is_told_why() {
    let app = spawn_app().await;
    let application_id = application(&app, "extend@example.com").await;
    let request = recorded(&app, "access", "extend@example.com").await;
    let reason = "Your data sits in three offices; we need time to gather it.";

    let response = patch(
        &app,
        &request["id"],
        json!({ "extend_months": 2, "extension_reason": reason, "status": "waiting" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let extended: Value = response.json().await.unwrap();
    let until = time(&request["due_at"])
        .checked_add_months(Months::new(2))
        .unwrap();
    assert_eq!(time(&extended["extended_until"]), until);
    assert_eq!(extended["deadline"], extended["extended_until"]);
    assert_eq!(extended["due_at"], request["due_at"]);
    assert_eq!(extended["extension_reason"], reason);
    assert_eq!(extended["status"], "waiting");
    assert_eq!(extended["candidate_notified"], true);

    let messages = app
        .messages_until(&application_id, |m| {
            m.iter()
                .any(|m| m["origin"] == "subject_request_extended" && m["status"] == "sent")
        })
        .await;
    let mail = messages
        .iter()
        .find(|m| m["origin"] == "subject_request_extended")
        .unwrap();
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains(reason), "{body}");
    assert!(
        body.contains(&until.format("%-d %B %Y").to_string()),
        "{body}"
    );
    assert!(body.contains("Dear Grace Hopper"), "{body}");
    app.received_mail(mail["message_id"].as_str().unwrap())
        .await;

    let again = patch(
        &app,
        &request["id"],
        json!({ "extend_months": 1, "extension_reason": "more" }),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let error: Value = again.json().await.unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("only once"),
        "{error}"
    );

    // About nobody we hold an application of: extended, but nobody to mail.
    let stranger = recorded(&app, "access", "stranger@example.com").await;
    let response = patch(
        &app,
        &stranger["id"],
        json!({ "extend_months": 1, "extension_reason": reason }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let extended: Value = response.json().await.unwrap();
    assert_eq!(extended["candidate_notified"], false);
    assert_eq!(
        app.count_rows("messages WHERE origin = 'subject_request_extended'")
            .await,
        1
    );

    // Past its due date, too late.
    let late = recorded(&app, "erasure", "extend@example.com").await;
    app.advance(wait(
        time(&late["due_at"]) - app.state.now() + TimeDelta::minutes(1),
    ));
    let response = patch(
        &app,
        &late["id"],
        json!({ "extend_months": 1, "extension_reason": reason }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error: Value = response.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("before the original due date"),
        "{error}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_extension_mail_speaks_the_language_the_candidate_applied_in() {
    let app = spawn_app().await;
    let job = app.create_job("DE").await;
    let form = ApplicationForm::new(&job, "erweitert@example.com")
        .set("full_name", "Grace Hopper")
        .set("locale", "de-AT");
    let application_id = app.submit_ok(form).await["id"].as_str().unwrap().to_owned();
    let request = recorded(&app, "access", "erweitert@example.com").await;
    let reason = "Ihre Daten liegen in drei Büros.";
    let response = patch(
        &app,
        &request["id"],
        json!({ "extend_months": 1, "extension_reason": reason }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let until = time(&request["due_at"])
        .checked_add_months(Months::new(1))
        .unwrap();
    let messages = app
        .messages_until(&application_id, |m| {
            m.iter()
                .any(|m| m["origin"] == "subject_request_extended" && m["status"] == "sent")
        })
        .await;
    let mail = messages
        .iter()
        .find(|m| m["origin"] == "subject_request_extended")
        .unwrap();
    assert!(
        mail["subject"].as_str().unwrap().contains("mehr Zeit"),
        "{mail}"
    );
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("Guten Tag Grace Hopper"), "{body}");
    assert!(body.contains(reason), "{body}");
    // The date as Germans write it: "4. Januar 2027".
    let month = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ][until.format("%m").to_string().parse::<usize>().unwrap() - 1];
    let date = format!("{}. {month} {}", until.format("%-d"), until.format("%Y"));
    assert!(body.contains(&date), "{date} in {body}");
    app.stop().await;
}

#[tokio::test]
async fn a_refusal_needs_its_reason_and_an_answered_request_never_changes() {
    let app = spawn_app().await;
    let refused = recorded(&app, "objection", "final@example.com").await;
    let waiting = patch(&app, &refused["id"], json!({ "status": "waiting" })).await;
    assert_eq!(waiting.status(), StatusCode::OK);
    let response = patch(
        &app,
        &refused["id"],
        json!({ "status": "refused", "refusal_reason": "The processing is required by law." }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["status"], "refused");
    assert_eq!(
        refused["refusal_reason"],
        "The processing is required by law."
    );
    assert!(refused["completed_at"].is_string());

    let done = recorded(&app, "access", "final@example.com").await;
    let done: Value = patch(
        &app,
        &done["id"],
        json!({ "status": "done", "details": "Sent by post" }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(done["details"], "Sent by post");
    for request in [&refused, &done] {
        for change in [
            json!({ "status": "open" }),
            json!({ "details": "afterthought" }),
            json!({ "extend_months": 1, "extension_reason": "late" }),
            json!({}),
        ] {
            let response = patch(&app, &request["id"], change.clone()).await;
            assert_eq!(response.status(), StatusCode::CONFLICT, "{change}");
            let error: Value = response.json().await.unwrap();
            assert!(
                error["message"].as_str().unwrap().contains("final"),
                "{error}"
            );
        }
    }
    let read = app
        .get_json(
            &app.admin_key,
            &format!("{PATH}/{}", done["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(read["details"], "Sent by post");
    app.stop().await;
}

#[tokio::test]
async fn the_officer_is_reminded_once_per_deadline_and_again_after_a_failed_send() {
    let port = free_port();
    let relay = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(&[
        ("mail.transport", "smtp"),
        ("mail.smtp_url", &relay),
        ("mail.timeout", "1s"),
        ("mail.acknowledge_applications", "false"),
        ("privacy.officer_email", "Privacy Officer <dpo@example.com>"),
        ("privacy.officer_reminder_before", "7d"),
    ])
    .await;
    application(&app, "officer.case@example.com").await;
    let request = recorded(&app, "rectification", "officer.case@example.com").await;
    let id = request["id"].as_str().unwrap().to_owned();
    let path = format!("{PATH}/{id}");
    let due = time(&request["due_at"]);

    assert_eq!(
        remind_officer(&app.state, app.state.now()).await.unwrap(),
        0
    );
    app.advance(wait(due - TimeDelta::days(8) - app.state.now()));
    assert_eq!(
        remind_officer(&app.state, app.state.now()).await.unwrap(),
        0,
        "not before its time"
    );
    app.advance(wait(TimeDelta::days(3)));
    let failed = remind_officer(&app.state, app.state.now()).await;
    assert!(failed.is_err(), "the relay is down");
    let read = app.get_json(&app.admin_key, &path).await;
    assert!(read.get("officer_reminded_at").is_none(), "{read}");

    let sink = SmtpSink::start(port).await;
    let officer_mails = || {
        sink.received()
            .into_iter()
            .filter(|m| m.contains("dpo@example.com"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        remind_officer(&app.state, app.state.now()).await.unwrap(),
        1
    );
    assert_eq!(
        remind_officer(&app.state, app.state.now()).await.unwrap(),
        0
    );
    let mails = officer_mails();
    assert_eq!(mails.len(), 1, "once");
    // Undo quoted-printable soft line breaks.
    let mail = mails[0].replace("=\r\n", "");
    assert!(mail.contains(&id), "{mail}");
    assert!(mail.contains("rectification"), "{mail}");
    assert!(
        mail.contains(&due.format("%Y-%m-%d %H:%M UTC").to_string()),
        "{mail}"
    );
    for personal in ["officer.case", "Grace", "Hopper", "Wrote from"] {
        assert!(!mail.contains(personal), "{personal} in the officer's mail");
    }
    let read = app.get_json(&app.admin_key, &path).await;
    assert!(read["officer_reminded_at"].is_string());

    // Extended, it is reminded again before the new deadline.
    let extended: Value = patch(
        &app,
        &request["id"],
        json!({ "extend_months": 1, "extension_reason": "Corrections from two offices." }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(extended.get("officer_reminded_at").is_none(), "{extended}");
    assert_eq!(
        remind_officer(&app.state, app.state.now()).await.unwrap(),
        0
    );
    let until = time(&extended["extended_until"]);
    app.advance(wait(until - TimeDelta::days(1) - app.state.now()));
    assert_eq!(
        remind_officer(&app.state, app.state.now()).await.unwrap(),
        1
    );
    assert_eq!(
        remind_officer(&app.state, app.state.now()).await.unwrap(),
        0
    );
    assert_eq!(officer_mails().len(), 2);
    sink.stop();
    app.stop().await;
}

/// What the candidate pages do: a request recorded in their transaction.
struct SelfService {
    candidate_id: Uuid,
    kind: SubjectRequestKind,
    done: bool,
}

impl Unit for SelfService {
    type Output = subject_request::Model;

    async fn run(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<subject_request::Model, sea_orm::DbErr> {
        record_self_service(txn, self.candidate_id, self.kind, None, self.done, now).await
    }
}

#[tokio::test]
async fn an_erasure_request_closes_once_the_purge_has_taken_the_candidates_data() {
    let app = spawn_app().await;
    let erased = application(&app, "erase.me@example.com").await;
    application(&app, "stays@example.com").await;
    let candidate = |email: &'static str| {
        let db = app.state.db.clone();
        async move {
            candidate_by_email(&db, &Email::parse("email", email).unwrap())
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let (gone, stays) = (
        candidate("erase.me@example.com").await,
        candidate("stays@example.com").await,
    );
    let self_service = app
        .state
        .writer
        .run(SelfService {
            candidate_id: gone,
            kind: SubjectRequestKind::Erasure,
            done: false,
        })
        .await
        .unwrap();
    let exported = app
        .state
        .writer
        .run(SelfService {
            candidate_id: gone,
            kind: SubjectRequestKind::Access,
            done: true,
        })
        .await
        .unwrap();
    assert_eq!(exported.status.as_str(), "done");
    assert!(exported.completed_at.is_some());
    let by_email = recorded(&app, "erasure", "erase.me@example.com").await;
    let access = recorded(&app, "access", "erase.me@example.com").await;
    let other = recorded(&app, "erasure", "stays@example.com").await;
    let open: Vec<Uuid> = open_for_candidate(&app.state.db, gone)
        .await
        .unwrap()
        .iter()
        .map(|request| request.id)
        .collect();
    assert_eq!(open.len(), 3, "not the one done at once");
    assert_eq!(open[0], self_service.id, "oldest first");

    let erase = app
        .send_json(
            Method::DELETE,
            &app.admin_key,
            &format!("/v1/applications/{erased}"),
            &json!({}),
        )
        .await;
    assert_eq!(erase.status(), StatusCode::OK);
    applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap();

    let fulfilled = read(&app, &self_service.id.to_string()).await;
    assert_eq!(fulfilled["status"], "done");
    assert!(fulfilled["completed_at"].is_string());
    assert_eq!(fulfilled["channel"], "self_service");
    assert_eq!(
        fulfilled["candidate_id"],
        gone.to_string(),
        "the record outlives the candidate"
    );
    let id_of = |request: &Value| request["id"].as_str().unwrap().to_owned();
    assert_eq!(read(&app, &id_of(&by_email)).await["status"], "done");
    assert_eq!(
        read(&app, &id_of(&access)).await["status"],
        "open",
        "only erasures close"
    );
    assert_eq!(
        read(&app, &id_of(&other)).await["status"],
        "open",
        "their data is still here"
    );
    assert_eq!(
        open_for_candidate(&app.state.db, stays)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.count_rows("audit_events WHERE action = 'subject_request.fulfilled'")
            .await,
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn every_call_is_audited_by_id_without_personal_data() {
    let app = spawn_app().await;
    application(&app, "audit.person@example.com").await;
    let evidence = "Passport number NL1234567 checked by video call";
    let request: Value = record(
        &app,
        json!({ "channel": "email", "kind": "restriction", "email": "audit.person@example.com",
                "identity_evidence": evidence, "details": "Stop using my CV for other jobs" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = request["id"].as_str().unwrap();
    app.get_json(&app.admin_key, &format!("{PATH}/{id}")).await;
    app.get_json(&app.admin_key, PATH).await;
    let updated = patch(
        &app,
        &request["id"],
        json!({ "details": "Only for other jobs" }),
    )
    .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let extended = patch(
        &app,
        &request["id"],
        json!({ "extend_months": 1, "extension_reason": "Backups to check" }),
    )
    .await;
    assert_eq!(extended.status(), StatusCode::OK);

    let events = app
        .get_json(&app.admin_key, "/v1/audit-events?limit=200")
        .await;
    let ours: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .unwrap()
                .starts_with("subject_request.")
        })
        .collect();
    let actions: Vec<&str> = ours.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "subject_request.created",
            "subject_request.read",
            "subject_request.listed",
            "subject_request.updated",
            "subject_request.extended",
        ]
    );
    for event in &ours {
        if event["action"] != "subject_request.listed" {
            assert_eq!(event["subject_id"], id, "{event}");
        }
    }
    assert_eq!(ours[0]["actor"], crate::helpers::ACTOR);
    let text = events.to_string();
    for personal in ["audit.person", evidence, "my CV", "Backups"] {
        assert!(!text.contains(personal), "{personal} in the audit log");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_request_follows_its_candidate_to_a_corrected_address() {
    let app = spawn_app().await;
    let id = application(&app, "old.address@example.com").await;
    let request = recorded(&app, "erasure", "old.address@example.com").await;
    let corrected = app
        .send_json(
            Method::PATCH,
            &app.admin_key,
            &format!("/v1/applications/{id}"),
            &json!({ "email": "new.address@example.com" }),
        )
        .await;
    assert_eq!(corrected.status(), StatusCode::OK);
    applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap();
    let now_known_as = candidate_by_email(
        &app.state.db,
        &Email::parse("email", "new.address@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let read = read(&app, request["id"].as_str().unwrap()).await;
    assert_eq!(read["status"], "open", "the data is still here");
    assert_eq!(read["candidate_id"], now_known_as.id.to_string());
    app.stop().await;
}
