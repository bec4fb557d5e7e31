//! Notes on an application: author, times, limits, and the audit trail.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ApplicationForm, TestApp, spawn_app};

async fn note(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(key)
        .header("On-Behalf-Of", "recruiter-3")
        .json(body)
        .send()
        .await
        .unwrap()
}

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

    let first = note(
        &app,
        &recruiter,
        Method::POST,
        &notes,
        &json!({ "body": "  Strong SQL.\n\tAsk about notice period.\n" }),
    )
    .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["body"], "Strong SQL.\n\tAsk about notice period.");
    assert_eq!(first["author"], "recruiter-3");
    assert_eq!(first["application_id"], id.as_str());
    assert_eq!(first["created_at"], first["updated_at"]);
    let second = note(
        &app,
        &recruiter,
        Method::POST,
        &notes,
        &json!({ "body": "Second call booked." }),
    )
    .await;
    assert_eq!(second.status(), 201);

    let note_path = format!("{notes}/{}", first["id"].as_str().unwrap());
    let edited = note(
        &app,
        &recruiter,
        Method::PATCH,
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

    let deleted = note(&app, &recruiter, Method::DELETE, &note_path, &Value::Null).await;
    assert_eq!(deleted.status(), 204);
    let again = note(&app, &recruiter, Method::DELETE, &note_path, &Value::Null).await;
    assert_eq!(again.status(), 404);
    let gone = note(
        &app,
        &recruiter,
        Method::PATCH,
        &note_path,
        &json!({ "body": "x" }),
    )
    .await;
    assert_eq!(gone.status(), 404);
    let listed: Value = app.get(&recruiter, &notes).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let history: Value = app
        .get(&recruiter, &format!("/v1/applications/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "note.created",
        "note.updated",
        "note.deleted",
        "note.listed",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
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
    let ok = note(
        &app,
        &key,
        Method::POST,
        &notes,
        &json!({ "body": longest }),
    )
    .await;
    assert_eq!(ok.status(), 201, "10,000 characters (20,000 bytes) fit");
    let ok: Value = ok.json().await.unwrap();
    let note_path = format!("{notes}/{}", ok["id"].as_str().unwrap());

    for body in ["", "   \n\t", &"a".repeat(10_001), "ring\u{7}"] {
        let refused = note(&app, &key, Method::POST, &notes, &json!({ "body": body })).await;
        assert_eq!(refused.status(), 422, "{:.20}", body);
        let error: Value = refused.json().await.unwrap();
        assert!(error["message"].as_str().unwrap().contains("body"));
        let refused = note(
            &app,
            &key,
            Method::PATCH,
            &note_path,
            &json!({ "body": body }),
        )
        .await;
        assert_eq!(refused.status(), 422);
    }
    let not_text = note(&app, &key, Method::POST, &notes, &json!({ "body": 42 })).await;
    assert_eq!(not_text.status(), 400);
    assert_eq!(app.count_rows("notes").await, 1);
    let kept: Value = app.get(&key, &notes).await.json().await.unwrap();
    assert_eq!(
        kept["items"][0]["body"].as_str().unwrap().chars().count(),
        10_000
    );

    let unknown = format!("/v1/applications/{}/notes", uuid::Uuid::now_v7());
    let missing = note(
        &app,
        &key,
        Method::POST,
        &unknown,
        &json!({ "body": "hello" }),
    )
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
    let crossed = note(&app, &key, Method::DELETE, &cross, &Value::Null).await;
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
        let post = note(&app, &key, Method::POST, &notes, &json!({ "body": "hi" })).await;
        assert_eq!(post.status(), 403, "{role}");
    }
    assert_eq!(app.count_rows("notes").await, 0);
    app.stop().await;
}
