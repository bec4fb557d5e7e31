//! Interview planning, and the `.ics` read back by a calendar parser.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ACTOR, ApplicationForm, TestApp, spawn_app};

async fn application(app: &TestApp, email: &str) -> String {
    let job = app.create_job("DE").await;
    let form = ApplicationForm::new(&job, email).set("full_name", "Grace Hopper");
    app.submit_ok(form).await["id"].as_str().unwrap().to_owned()
}

/// The first event of an iCalendar text: property name → (params, value).
fn parse_event(ics: &str) -> (HashMap<String, String>, Vec<ical::property::Property>) {
    let mut calendars = ical::IcalParser::new(ics.as_bytes());
    let calendar = calendars.next().expect("a calendar").expect("it parses");
    assert!(calendars.next().is_none(), "one calendar");
    assert_eq!(calendar.events.len(), 1, "one event");
    let top = calendar
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect();
    (top, calendar.events[0].properties.clone())
}

fn value<'p>(properties: &'p [ical::property::Property], name: &str) -> &'p str {
    properties
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_deref())
        .unwrap_or_else(|| panic!("{name} is in the event"))
}

/// RFC 5545 TEXT unescaped.
fn unescape(text: &str) -> String {
    text.replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
}

#[tokio::test]
async fn an_interview_is_planned_rescheduled_and_exported_as_an_invitation() {
    let app = spawn_app().await;
    let recruiter = app.create_key("recruiter", false).await;
    let id = application(&app, "grace@example.com").await;
    let path = format!("/v1/applications/{id}/interviews");

    let plan = json!({
        "starts_at": "2026-12-01T10:00:00+01:00",
        "ends_at": "2026-12-01T11:30:00+01:00",
        "kind": "onsite",
        "location": "Room 4, Hauptstraße 1; Berlin",
        "interviewers": ["Ana Lima", "bo@employer.example"],
    });
    let planned = app.act(Method::POST, &recruiter, &path, &plan).await;
    assert_eq!(planned.status(), 201);
    let planned: Value = planned.json().await.unwrap();
    assert_eq!(
        planned["starts_at"], "2026-12-01T10:00:00+01:00",
        "the offset given is kept"
    );
    assert_eq!(planned["status"], "scheduled");
    assert_eq!(planned["actor"], ACTOR);
    assert_eq!(planned["sequence"], 0);
    let interview = format!("{path}/{}", planned["id"].as_str().unwrap());

    let ics = app.get(&recruiter, &format!("{interview}/ics")).await;
    assert_eq!(ics.status(), 200);
    assert!(
        ics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = ics.text().await.unwrap();
    let (calendar, event) = parse_event(&ics);
    assert_eq!(calendar["VERSION"], "2.0");
    assert_eq!(calendar["METHOD"], "REQUEST");
    assert_eq!(value(&event, "DTSTART"), "20261201T090000Z");
    assert_eq!(value(&event, "DTEND"), "20261201T103000Z");
    assert_eq!(value(&event, "SEQUENCE"), "0");
    assert_eq!(value(&event, "STATUS"), "CONFIRMED");
    assert_eq!(
        unescape(value(&event, "SUMMARY")),
        "Interview: Analytical engineer"
    );
    assert_eq!(
        unescape(value(&event, "LOCATION")),
        "Room 4, Hauptstraße 1; Berlin"
    );
    assert!(unescape(value(&event, "DESCRIPTION")).contains("Interviewers: Ana Lima"));
    assert!(value(&event, "UID").starts_with(planned["id"].as_str().unwrap()));
    let attendees: Vec<&str> = event
        .iter()
        .filter(|p| p.name == "ATTENDEE")
        .map(|p| p.value.as_deref().unwrap())
        .collect();
    assert_eq!(
        attendees,
        ["mailto:grace@example.com", "mailto:bo@employer.example"]
    );

    let moved = app
        .send_json(
            Method::PATCH,
            &recruiter,
            &interview,
            &json!({ "starts_at": "2026-12-02T09:00:00Z", "ends_at": "2026-12-02T10:00:00Z", "location": "" , "kind": "video", "meeting_url": "https://meet.example/abc"}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["sequence"], 1);
    assert!(moved.get("location").is_none(), "an empty string clears it");
    assert_eq!(
        moved["interviewers"], planned["interviewers"],
        "absent fields stay"
    );

    let cancelled = app
        .send_json(
            Method::PATCH,
            &recruiter,
            &interview,
            &json!({ "status": "cancelled" }),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let ics = app
        .get(&recruiter, &format!("{interview}/ics"))
        .await
        .text()
        .await
        .unwrap();
    let (calendar, event) = parse_event(&ics);
    assert_eq!(calendar["METHOD"], "CANCEL");
    assert_eq!(value(&event, "STATUS"), "CANCELLED");
    assert_eq!(
        value(&event, "SEQUENCE"),
        "2",
        "a later sequence replaces the earlier invitation"
    );
    assert_eq!(value(&event, "DTSTART"), "20261202T090000Z");
    assert_eq!(value(&event, "URL"), "https://meet.example/abc");

    let done = app
        .send_json(
            Method::PATCH,
            &recruiter,
            &interview,
            &json!({ "status": "done", "feedback": "Clear thinker.\nStrong on SQL." }),
        )
        .await;
    assert_eq!(done.status(), 200);
    let listed: Value = app.get(&recruiter, &path).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["items"][0]["feedback"],
        "Clear thinker.\nStrong on SQL."
    );
    assert_eq!(listed["items"][0]["status"], "done");

    app.assert_history_has(
        &id,
        &[
            "interview.created",
            "interview.updated",
            "interview.exported",
            "interview.listed",
        ],
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn interviews_ending_before_they_start_or_with_bad_fields_are_refused() {
    let app = spawn_app().await;
    let id = application(&app, "limits@example.com").await;
    let path = format!("/v1/applications/{id}/interviews");
    let key = app.admin_key.clone();
    let valid = json!({
        "starts_at": "2026-12-01T10:00:00+01:00",
        "ends_at": "2026-12-01T11:00:00+01:00",
        "kind": "video",
    });
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let cases = [
        (
            with("ends_at", json!("2026-12-01T10:00:00+01:00")),
            422,
            "ends_at",
        ),
        (
            with("ends_at", json!("2026-12-01T10:30:00+03:00")),
            422,
            "ends_at",
        ),
        (
            with("meeting_url", json!("javascript:alert(1)")),
            422,
            "meeting_url",
        ),
        (with("interviewers", json!(["  "])), 422, "interviewers"),
        (
            with("starts_at", json!("2026-12-01T10:00:00")),
            400,
            "starts_at",
        ),
        (with("starts_at", json!("tomorrow")), 400, "starts_at"),
        (with("kind", json!("carrier-pigeon")), 400, "kind"),
        (with("status", json!(null)), 400, "status"),
    ];
    for (body, status, field) in cases {
        let response = app.send_json(Method::POST, &key, &path, &body).await;
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        let message = error["message"].as_str().unwrap();
        // Our own checks name the field; the parser names the type it expected.
        let expected = match field {
            "starts_at" => "date-time",
            "kind" => "InterviewKind",
            field => field,
        };
        assert!(message.contains(expected), "{error}");
    }
    assert_eq!(app.count_rows("interviews").await, 0);

    let created: Value = app
        .send_json(Method::POST, &key, &path, &valid)
        .await
        .json()
        .await
        .unwrap();
    let interview = format!("{path}/{}", created["id"].as_str().unwrap());
    let before_start = app
        .send_json(
            Method::PATCH,
            &key,
            &interview,
            &json!({ "ends_at": "2026-12-01T08:00:00Z" }),
        )
        .await;
    assert_eq!(
        before_start.status(),
        422,
        "the end is checked against the stored start"
    );
    let null_kind = app
        .send_json(Method::PATCH, &key, &interview, &json!({ "kind": null }))
        .await;
    assert_eq!(null_kind.status(), 400);
    let unchanged: Value = app.get(&key, &path).await.json().await.unwrap();
    assert_eq!(
        unchanged["items"][0]["ends_at"],
        "2026-12-01T11:00:00+01:00"
    );
    assert_eq!(unchanged["items"][0]["sequence"], 0);

    let elsewhere = application(&app, "other@example.com").await;
    let crossed = format!(
        "/v1/applications/{elsewhere}/interviews/{}",
        created["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&key, &format!("{crossed}/ics")).await.status(), 404);
    let patched = app
        .send_json(Method::PATCH, &key, &crossed, &json!({ "status": "done" }))
        .await;
    assert_eq!(patched.status(), 404);
    let partner = app.create_key("partner", false).await;
    assert_eq!(app.get(&partner, &path).await.status(), 403);
    app.stop().await;
}
