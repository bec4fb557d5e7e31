//! Jobs: create, read, list, close; the careers site sees open jobs only.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_recruiter_creates_reads_and_closes_a_job_and_the_careers_site_sees_only_open_ones() {
    let app = spawn_app().await;
    let recruiter = app.create_key("recruiter", false).await;
    let careers = app.create_key("careers-site", false).await;
    let created = app.send_json(reqwest::Method::POST, &recruiter, "/v1/jobs", &json!({ "title": " Data engineer ", "country": "nl", "department": "Data", "location": "Utrecht" }))
        .await;
    assert_eq!(created.status(), 201);
    let job: Value = created.json().await.unwrap();
    assert_eq!(job["title"], "Data engineer");
    assert_eq!(job["country"], "NL");
    assert_eq!(job["status"], "open");
    let id = job["id"].as_str().unwrap();
    let other = app.create_job("DE").await;

    let closed: Value = app
        .send_json(
            reqwest::Method::PATCH,
            &recruiter,
            &format!("/v1/jobs/{id}"),
            &json!({ "status": "closed", "location": "" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    assert!(closed["location"].is_null());
    assert_eq!(closed["department"], "Data");

    let seen: Value = app.get(&careers, "/v1/jobs").await.json().await.unwrap();
    let ids: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other.as_str()]);
    assert_eq!(
        app.get(&careers, &format!("/v1/jobs/{id}")).await.status(),
        404
    );

    let all: Value = app.get(&recruiter, "/v1/jobs").await.json().await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let only_closed: Value = app
        .get(&recruiter, "/v1/jobs?status=closed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only_closed["items"][0]["id"], id);
    assert_eq!(only_closed["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn invalid_jobs_are_refused() {
    let app = spawn_app().await;
    for body in [
        json!({ "title": "x", "country": "XX" }),
        json!({ "title": "x", "country": "Germany" }),
        json!({ "title": "   ", "country": "DE" }),
        json!({ "country": "DE" }),
        json!({ "title": "x".repeat(201), "country": "DE" }),
    ] {
        let response = app
            .send_json(reqwest::Method::POST, &app.admin_key, "/v1/jobs", &body)
            .await;
        let status = response.status().as_u16();
        assert!(status == 400 || status == 422, "{body}: {status}");
        let error: Value = response.json().await.unwrap();
        assert!(error["message"].is_string());
    }
    assert_eq!(app.count_rows("jobs").await, 0);
    let missing = app
        .get(
            &app.admin_key,
            "/v1/jobs/01930000-0000-7000-8000-000000000000",
        )
        .await;
    assert_eq!(missing.status(), 404);
    app.stop().await;
}
