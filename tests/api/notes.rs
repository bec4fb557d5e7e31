//! Notes on an application: author, times, limits, and the audit trail.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ACTOR, ApplicationForm, spawn_app};

#[tokio::test]
async fn recruiters_write_read_correct_and_delete_notes_with_author_and_times() {
    let app = spawn_app().await;
    let recruiter = app.create_key("recruiter", false).await;
    let job = app.create_job("FR").await;
    let id = app
        .submit_ok(ApplicationForm::new(&job, "notes@example.com"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let notes = format!("/v1/applications/{id}/notes");

    let first = app
        .act(
            Method::POST,
            &recruiter,
            &notes,
            &json!({ "body": "  Strong SQL.\n\tAsk about notice period.\n" }),
        )
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["body"], "Strong SQL.\n\tAsk about notice period.");
    assert_eq!(first["author"], ACTOR);
    assert_eq!(first["application_id"], id.as_str());
    assert_eq!(first["created_at"], first["updated_at"]);
    let second = app
        .act(
            Method::POST,
            &recruiter,
            &notes,
            &json!({ "body": "Second call booked." }),
        )
        .await;
    assert_eq!(second.status(), 201);

    let note_path = format!("{notes}/{}", first["id"].as_str().unwrap());
    let edited = app
        .act(
            Method::PATCH,
            &recruiter,
            &note_path,
            &json!({ "body": "Strong SQL; notice period 1 month." }),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["body"], "Strong SQL; notice period 1 month.");
    assert_eq!(edited["created_at"], first["created_at"]);
    assert!(edited["updated_at"].as_str() > first["updated_at"].as_str());

    let listed: Value = app.get(&recruiter, &notes).await.json().await.unwrap();
    let bodies: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["Strong SQL; notice period 1 month.", "Second call booked."],
        "oldest first"
    );

    let deleted = app
        .act(Method::DELETE, &recruiter, &note_path, &Value::Null)
        .await;
    assert_eq!(deleted.status(), 204);
    let again = app
        .act(Method::DELETE, &recruiter, &note_path, &Value::Null)
        .await;
    assert_eq!(again.status(), 404);
    let gone = app
        .act(
            Method::PATCH,
            &recruiter,
            &note_path,
            &json!({ "body": "x" }),
        )
        .await;
    assert_eq!(gone.status(), 404);
    let listed: Value = app.get(&recruiter, &notes).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    app.assert_history_has(
        &id,
        &[
            "note.created",
            "note.updated",
            "note.deleted",
            "note.listed",
        ],
    )
    .await;
    let audit: Value = app
        .get(&app.admin_key, "/v1/audit-events")
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(
        !text.contains("Strong SQL"),
        "the audit log holds no note text"
    );
    app.stop().await;
}

#[tokio::test]
async fn empty_oversized_or_control_character_notes_are_422_and_change_nothing() {
    let app = spawn_app().await;
    let job = app.create_job("FR").await;
    let id = app
        .submit_ok(ApplicationForm::new(&job, "limits@example.com"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let notes = format!("/v1/applications/{id}/notes");
    let key = app.admin_key.clone();

    let longest = "é".repeat(10_000);
    let ok = app
        .act(Method::POST, &key, &notes, &json!({ "body": longest }))
        .await;
    assert_eq!(ok.status(), 201, "10,000 characters (20,000 bytes) fit");
    let ok: Value = ok.json().await.unwrap();
    let note_path = format!("{notes}/{}", ok["id"].as_str().unwrap());

    for body in ["", "   \n\t", &"a".repeat(10_001), "ring\u{7}"] {
        let refused = app
            .act(Method::POST, &key, &notes, &json!({ "body": body }))
            .await;
        assert_eq!(refused.status(), 422, "{:.20}", body);
        let error: Value = refused.json().await.unwrap();
        assert!(error["message"].as_str().unwrap().contains("body"));
        let refused = app
            .act(Method::PATCH, &key, &note_path, &json!({ "body": body }))
            .await;
        assert_eq!(refused.status(), 422);
    }
    let not_text = app
        .act(Method::POST, &key, &notes, &json!({ "body": 42 }))
        .await;
    assert_eq!(not_text.status(), 400);
    assert_eq!(app.count_rows("notes").await, 1);
    let kept: Value = app.get(&key, &notes).await.json().await.unwrap();
    assert_eq!(
        kept["items"][0]["body"].as_str().unwrap().chars().count(),
        10_000
    );

    let unknown = format!("/v1/applications/{}/notes", uuid::Uuid::now_v7());
    let missing = app
        .act(Method::POST, &key, &unknown, &json!({ "body": "hello" }))
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(app.get(&key, &unknown).await.status(), 404);

    let other = app
        .submit_ok(ApplicationForm::new(&job, "other@example.com"))
        .await;
    let cross = format!(
        "/v1/applications/{}/notes/{}",
        other["id"].as_str().unwrap(),
        ok["id"].as_str().unwrap()
    );
    let crossed = app.act(Method::DELETE, &key, &cross, &Value::Null).await;
    assert_eq!(
        crossed.status(),
        404,
        "a note is reached only through its application"
    );
    app.stop().await;
}

#[tokio::test]
async fn careers_site_and_partner_keys_cannot_touch_notes() {
    let app = spawn_app().await;
    let job = app.create_job("FR").await;
    let id = app
        .submit_ok(ApplicationForm::new(&job, "roles@example.com"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let notes = format!("/v1/applications/{id}/notes");
    for role in ["careers-site", "partner"] {
        let key = app.create_key(role, false).await;
        assert_eq!(app.get(&key, &notes).await.status(), 403, "{role}");
        let post = app
            .act(Method::POST, &key, &notes, &json!({ "body": "hi" }))
            .await;
        assert_eq!(post.status(), 403, "{role}");
    }
    assert_eq!(app.count_rows("notes").await, 0);
    app.stop().await;
}
