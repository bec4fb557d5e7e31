//! Each application shows when its data goes, and why.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ApplicationForm, spawn_app_with};

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

#[tokio::test]
async fn the_purge_date_follows_the_procedure_and_the_candidates_consent() {
    let app = spawn_app_with(&[
        ("retention.after_decision", "10d"),
        ("retention.after_inactivity", "30d"),
        ("consent.extension", "100d"),
        ("consent.max_total", "200d"),
    ])
    .await;
    let job = app.create_job("FR").await;
    let submitted = app
        .submit_ok(ApplicationForm::new(&job, "clock@example.com"))
        .await;
    let id = submitted["id"].as_str().unwrap();
    assert_eq!(submitted["retention"]["rule"], "after_inactivity");
    assert!(
        submitted["retention"].get("clock_start").is_none(),
        "the procedure runs"
    );
    assert_eq!(
        time(&submitted["purge_after"]) - time(&submitted["updated_at"]),
        TimeDelta::days(30)
    );

    let path = format!("/v1/applications/{id}/status");
    let rejected: Value = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &path,
            &json!({ "status": "rejected" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["retention"]["rule"], "after_decision");
    assert_eq!(rejected["retention"]["clock_start"], rejected["decided_at"]);
    assert_eq!(rejected["retention"]["period_seconds"], 10 * 86_400);
    assert_eq!(
        time(&rejected["purge_after"]) - time(&rejected["decided_at"]),
        TimeDelta::days(10)
    );
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["purge_after"], rejected["purge_after"]);

    let reopened: Value = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &path,
            &json!({ "status": "screening", "reason": "second look" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        reopened["retention"]["rule"], "after_inactivity",
        "reopening stops the clock"
    );

    let pooled = app
        .submit_ok(
            ApplicationForm::new(&job, "pool@example.com").set("talent_pool_consent", "true"),
        )
        .await;
    let path = format!("/v1/applications/{}/status", pooled["id"].as_str().unwrap());
    let withdrawn: Value = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &path,
            &json!({ "status": "withdrawn" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(withdrawn["retention"]["rule"], "consent");
    assert_eq!(
        time(&withdrawn["purge_after"]) - time(&withdrawn["decided_at"]),
        TimeDelta::days(100),
        "talent pool consent counts as one extension from the clock start"
    );
    app.stop().await;
}
