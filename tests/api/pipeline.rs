//! The recruitment pipeline over HTTP: moves, refusals, reopening, history.

use serde_json::{Value, json};

use crate::helpers::{ACTOR, ApplicationForm, TestApp, spawn_app};

async fn move_to(app: &TestApp, key: &str, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/applications/{id}/status");
    app.act(reqwest::Method::POST, key, &path, &body).await
}

#[tokio::test]
async fn a_recruiter_runs_a_candidate_from_new_to_hired_with_every_step_on_the_history() {
    let app = spawn_app().await;
    let recruiter = app.create_key("recruiter", false).await;
    let job = app.create_job("DE").await;
    let application = app
        .submit_ok(ApplicationForm::new(&job, "pipeline@example.com"))
        .await;
    let id = application["id"].as_str().unwrap();

    for status in ["screening", "interview", "offer", "hired"] {
        let moved = move_to(&app, &recruiter, id, json!({ "status": status })).await;
        assert_eq!(moved.status(), 200, "to {status}");
        let moved: Value = moved.json().await.unwrap();
        assert_eq!(moved["status"], status);
        assert_eq!(moved["decided_at"].is_string(), status == "hired");
    }
    let refused = move_to(&app, &recruiter, id, json!({ "status": "rejected" })).await;
    assert_eq!(refused.status(), 409);
    let refused: Value = refused.json().await.unwrap();
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("procedure has ended")
    );

    let history: Value = app
        .get(&recruiter, &format!("/v1/applications/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    let moves: Vec<(String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "status_change")
        .map(|e| {
            (
                e["from_status"].as_str().unwrap().into(),
                e["to_status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("new", "screening"),
        ("screening", "interview"),
        ("interview", "offer"),
        ("offer", "hired"),
    ];
    assert_eq!(moves, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let items = history["items"].as_array().unwrap();
    assert_eq!(items[0]["action"], "application.created", "oldest first");
    let times: Vec<&str> = items.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        items
            .iter()
            .filter(|e| e["kind"] == "status_change")
            .all(|e| e["actor"] == ACTOR)
    );
    app.stop().await;
}

#[tokio::test]
async fn refused_moves_name_the_allowed_statuses_and_reopening_needs_a_reason() {
    let app = spawn_app().await;
    let job = app.create_job("FR").await;
    let application = app
        .submit_ok(ApplicationForm::new(&job, "reopen@example.com"))
        .await;
    let id = application["id"].as_str().unwrap();
    let key = app.admin_key.clone();

    let skip = move_to(&app, &key, id, json!({ "status": "offer" })).await;
    assert_eq!(skip.status(), 409);
    let skip: Value = skip.json().await.unwrap();
    assert!(
        skip["message"]
            .as_str()
            .unwrap()
            .ends_with("allowed next: screening, rejected, withdrawn")
    );

    let rejected: Value = move_to(
        &app,
        &key,
        id,
        json!({ "status": "rejected", "reason": "not a fit" }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(rejected["decided_at"].is_string());
    let listed: Value = app
        .get(&key, "/v1/applications?status=rejected")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], id);

    let no_reason = move_to(&app, &key, id, json!({ "status": "screening" })).await;
    assert_eq!(no_reason.status(), 409);
    let reopened = move_to(
        &app,
        &key,
        id,
        json!({ "status": "screening", "reason": "a second role opened" }),
    )
    .await;
    assert_eq!(reopened.status(), 200);
    let reopened: Value = reopened.json().await.unwrap();
    assert_eq!(reopened["status"], "screening");
    assert!(
        reopened["decided_at"].is_null(),
        "reopening clears decided_at"
    );

    let missing = move_to(
        &app,
        &key,
        "01930000-0000-7000-8000-000000000000",
        json!({ "status": "screening" }),
    )
    .await;
    assert_eq!(missing.status(), 404);
    let unknown = move_to(&app, &key, id, json!({ "status": "archived" })).await;
    assert_eq!(unknown.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_moves_of_one_application_are_checked_one_after_the_other() {
    let app = spawn_app().await;
    let job = app.create_job("DE").await;
    let application = app
        .submit_ok(ApplicationForm::new(&job, "race@example.com"))
        .await;
    let id = application["id"].as_str().unwrap();
    let moves = (0..8).map(|_| move_to(&app, &app.admin_key, id, json!({ "status": "screening" })));
    let statuses: Vec<u16> = futures_util::future::join_all(moves)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(app.count_rows("status_changes").await, 1);
    app.stop().await;
}
