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
        .submit_and_read(ApplicationForm::new(&job, "clock@example.com"))
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

#[tokio::test]
async fn holds_and_recorded_consents_change_the_schedule_and_are_on_the_history() {
    let app = spawn_app_with(&[
        ("retention.after_decision", "10d"),
        ("consent.extension", "40d"),
        ("consent.max_total", "50d"),
    ])
    .await;
    let job = app.create_job("FR").await;
    let id = app
        .submit_ok(ApplicationForm::new(&job, "hold@example.com"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = format!("/v1/applications/{id}/status");
    let decided: Value = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &status,
            &json!({ "status": "withdrawn" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let decided_at = time(&decided["decided_at"]);
    let path = format!("/v1/applications/{id}");
    let read = || app.get_json(&app.admin_key, &path);

    let hold = format!("/v1/applications/{id}/legal-hold");
    let recruiter = app.create_key("recruiter", false).await;
    let refused = app
        .send_json(
            Method::PUT,
            &recruiter,
            &hold,
            &json!({ "reason": "lawsuit" }),
        )
        .await;
    assert_eq!(refused.status(), 403, "holds are for admins");
    let placed = app
        .act(
            Method::PUT,
            &app.admin_key,
            &hold,
            &json!({ "reason": "Pending lawsuit 2026-17" }),
        )
        .await;
    assert_eq!(placed.status(), 200);
    assert_eq!(read().await["retention"]["held"], true);
    let replaced = app
        .act(
            Method::PUT,
            &app.admin_key,
            &hold,
            &json!({ "reason": "Pending lawsuit", "until": "2020-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(replaced.status(), 200);
    assert_eq!(
        read().await["retention"]["held"],
        false,
        "a hold that ran out holds nothing"
    );
    assert_eq!(
        app.send_json(Method::DELETE, &app.admin_key, &hold, &Value::Null)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.send_json(Method::DELETE, &app.admin_key, &hold, &Value::Null)
            .await
            .status(),
        404
    );

    let consents = format!("/v1/applications/{id}/consents");
    let extended = app
        .act(
            Method::POST,
            &recruiter,
            &consents,
            &json!({ "evidence": "Asked by phone on 2026-11-25" }),
        )
        .await;
    assert_eq!(extended.status(), 201);
    let extended: Value = extended.json().await.unwrap();
    assert_eq!(extended["kind"], "extension");
    let after = read().await;
    assert_eq!(after["retention"]["rule"], "consent");
    assert_eq!(
        time(&after["purge_after"]) - time(&extended["granted_at"]),
        TimeDelta::days(40),
        "kept `consent.extension` from the grant"
    );
    assert!(time(&after["purge_after"]) <= decided_at + TimeDelta::days(50));
    let erased = app
        .act(
            Method::POST,
            &recruiter,
            &consents,
            &json!({ "evidence": "Letter of 2026-11-25", "kind": "erasure" }),
        )
        .await;
    assert_eq!(erased.status(), 201);
    let after = read().await;
    assert_eq!(after["retention"]["rule"], "erasure");
    assert!(time(&after["purge_after"]) <= Utc::now());

    for (body, status) in [
        (json!({ "evidence": "  " }), 422),
        (json!({ "evidence": "x", "kind": "forever" }), 400),
        (json!({ "evidence": "x", "kind": null }), 400),
    ] {
        assert_eq!(
            app.send_json(Method::POST, &recruiter, &consents, &body)
                .await
                .status(),
            status,
            "{body}"
        );
    }
    let no_reason = app
        .send_json(Method::PUT, &app.admin_key, &hold, &json!({ "reason": "" }))
        .await;
    assert_eq!(no_reason.status(), 422);
    app.assert_history_has(
        &id,
        &["legal_hold.placed", "legal_hold.lifted", "consent.recorded"],
    )
    .await;
    app.stop().await;
}

/// The talent-pool consent of the form, an erasure asked for afterwards, and
/// status moves after that: the erasure holds. Only a consent recorded after
/// it, with evidence, keeps the application again.
#[tokio::test]
async fn an_erasure_is_not_undone_by_the_talent_pool_consent_or_later_moves() {
    let app = spawn_app_with(&[
        ("retention.after_decision", "10d"),
        ("consent.extension", "100d"),
        ("consent.max_total", "200d"),
    ])
    .await;
    let job = app.create_job("FR").await;
    let id = app
        .submit_ok(
            ApplicationForm::new(&job, "pool@example.com").set("talent_pool_consent", "true"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let consents = format!("/v1/applications/{id}/consents");
    let erasure = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &consents,
            &json!({ "kind": "erasure", "evidence": "asked by phone" }),
        )
        .await;
    assert_eq!(erasure.status(), 201);
    let erased_at = erasure.json::<Value>().await.unwrap()["granted_at"].clone();
    let status = format!("/v1/applications/{id}/status");
    for (to, reason) in [
        ("withdrawn", None),
        ("screening", Some("reopened")),
        ("rejected", None),
    ] {
        let mut body = json!({ "status": to });
        if let Some(reason) = reason {
            body["reason"] = reason.into();
        }
        let moved = app
            .send_json(Method::POST, &app.admin_key, &status, &body)
            .await;
        assert_eq!(moved.status(), 200, "{to}");
        let moved: Value = moved.json().await.unwrap();
        assert_eq!(moved["retention"]["rule"], "erasure", "after {to}");
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(moved["purge_after"].as_str().unwrap()).unwrap(),
            chrono::DateTime::parse_from_rfc3339(erased_at.as_str().unwrap()).unwrap(),
            "after {to}"
        );
    }
    // Closing the job changes nothing either.
    let closed = app
        .send_json(
            Method::PATCH,
            &app.admin_key,
            &format!("/v1/jobs/{job}"),
            &json!({ "status": "closed" }),
        )
        .await;
    assert_eq!(closed.status(), 200);
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["retention"]["rule"], "erasure");
    // A consent given after the erasure, with evidence, keeps it again.
    let again = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &consents,
            &json!({ "kind": "extension", "evidence": "candidate wrote on 2 May to stay" }),
        )
        .await;
    assert_eq!(again.status(), 201);
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["retention"]["rule"], "consent");
    app.stop().await;
}
