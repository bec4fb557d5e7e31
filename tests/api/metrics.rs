//! Operators' view: `/metrics` on the admin listener only, parsed as
//! Prometheus parses it, and a request id on every answer.

use std::{collections::HashMap, time::Duration};

use prometheus_parse::{Scrape, Value};

use crate::{
    helpers::{ApplicationForm, TestApp, pdf, spawn_app, spawn_app_with},
    smtp_sink::free_port,
};

pub async fn scrape(app: &TestApp) -> (String, Scrape) {
    let response = app
        .client
        .get(format!("{}/metrics", app.admin_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let parsed = Scrape::parse(lines).expect("the Prometheus text format");
    (text, parsed)
}

/// The value of `name` whose labels include `labels`.
pub fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_listener_shows_what_an_operator_alerts_on_and_nothing_personal() {
    // The relay is down, so the acknowledgment waits in the outbox.
    let relay = format!("smtp://127.0.0.1:{}", free_port());
    let app = spawn_app_with(&[
        ("mail.transport", "smtp"),
        ("mail.smtp_url", &relay),
        ("mail.timeout", "1s"),
        ("retention.after_inactivity", "1h"),
    ])
    .await;
    let job = app.create_job("DE").await;
    let cv = pdf(5000, 3);
    let form = ApplicationForm::new(&job, "metrics.person@example.com")
        .set("full_name", "Mette Tricsson")
        .file("cv", cv.clone(), "mette-cv.pdf");
    let id = app.submit_ok(form).await["id"].as_str().unwrap().to_owned();
    let unmatched = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(unmatched.status(), 404);

    let (_, before) = scrape(&app).await;
    assert_eq!(
        value(
            &before,
            "applicant_vault_applications_received_total",
            &[("source", "form")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&before, "applicant_vault_upload_bytes_total", &[]),
        Some(cv.len() as f64)
    );
    assert_eq!(
        value(
            &before,
            "applicant_vault_http_requests_total",
            &[
                ("route", "/v1/applications"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &before,
            "applicant_vault_http_requests_total",
            &[("route", "(unmatched)"), ("status", "404")]
        ),
        Some(1.0),
        "a path the service does not know is counted under no path of its own"
    );
    assert!(
        value(
            &before,
            "applicant_vault_http_request_duration_seconds_count",
            &[("route", "/v1/applications"), ("method", "POST")]
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert_eq!(
        value(&before, "applicant_vault_purge_lag_seconds", &[]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &before,
            "applicant_vault_dependency_ready",
            &[("dependency", "database")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &before,
            "applicant_vault_dependency_ready",
            &[("dependency", "object_store")]
        ),
        Some(1.0)
    );
    assert!(
        value(
            &before,
            "applicant_vault_db_pool_connections",
            &[("state", "idle")]
        )
        .is_some()
    );

    // Two hours on: the application is an hour past its purge date (the
    // scheduled purge runs hourly), and the acknowledgment two hours old.
    app.advance(Duration::from_secs(2 * 3600));
    let (text, after) = scrape(&app).await;
    let lag = value(&after, "applicant_vault_purge_lag_seconds", &[]).unwrap();
    assert!((3590.0..3700.0).contains(&lag), "purge lag {lag}");
    assert!(value(&after, "applicant_vault_outbox_depth", &[]).unwrap() >= 1.0);
    let oldest = value(&after, "applicant_vault_outbox_oldest_age_seconds", &[]).unwrap();
    assert!(oldest >= 7200.0, "oldest mail {oldest}");
    // Held, it is no longer late.
    app.send_json(
        reqwest::Method::PUT,
        &app.admin_key,
        &format!("/v1/applications/{id}/legal-hold"),
        &serde_json::json!({ "reason": "case" }),
    )
    .await;
    let (_, held) = scrape(&app).await;
    assert_eq!(
        value(&held, "applicant_vault_purge_lag_seconds", &[]),
        Some(0.0)
    );

    for personal in ["metrics.person", "Mette", "Tricsson", "mette-cv", &id, &job] {
        assert!(!text.contains(personal), "{personal} in the metrics");
    }
    let labels: HashMap<&str, ()> = after
        .samples
        .iter()
        .flat_map(|s| s.labels.keys().map(|k| (k.as_str(), ())))
        .collect();
    for key in labels.keys() {
        assert!(
            [
                "method",
                "route",
                "status",
                "source",
                "state",
                "dependency",
                "le",
                "quantile"
            ]
            .contains(key),
            "unexpected label {key}"
        );
    }

    // Never on the public port.
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_plain_one_is_kept() {
    let app = spawn_app().await;
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "lb-7f3a.1")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "lb-7f3a.1");
    let mut seen = Vec::new();
    for (path, key, header) in [
        ("/healthz", None, Some("has space")),
        ("/v1/applications", None, None),
        ("/v1/applications", Some("av_wrong"), Some("<script>")),
        ("/nowhere", None, None),
    ] {
        let mut request = app.client.get(app.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(header) = header {
            request = request.header("X-Request-Id", header);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(id.len(), 32, "{path}: {id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "each answer its own id");
    app.stop().await;
}

#[tokio::test]
async fn the_subject_request_gauges_count_those_still_to_answer_and_those_overdue() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for kind in ["access", "erasure"] {
        let response = app
            .send_json(
                reqwest::Method::POST,
                &app.admin_key,
                "/v1/subject-requests",
                &serde_json::json!({ "channel": "letter", "kind": kind,
                                     "identity_evidence": "Signed letter" }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let created: serde_json::Value = response.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let gauges = |scrape: &Scrape| {
        (
            value(scrape, "applicant_vault_subject_requests_open", &[]),
            value(scrape, "applicant_vault_subject_requests_overdue", &[]),
        )
    };
    let (_, fresh) = scrape(&app).await;
    assert_eq!(gauges(&fresh), (Some(2.0), Some(0.0)));

    // A calendar month is at most 31 days.
    app.advance(Duration::from_secs(32 * 86_400));
    let (_, late) = scrape(&app).await;
    assert_eq!(gauges(&late), (Some(2.0), Some(2.0)));
    let answered = app
        .send_json(
            reqwest::Method::PATCH,
            &app.admin_key,
            &format!("/v1/subject-requests/{}", ids[0]),
            &serde_json::json!({ "status": "done" }),
        )
        .await;
    assert_eq!(answered.status(), 200);
    let (_, after) = scrape(&app).await;
    assert_eq!(gauges(&after), (Some(1.0), Some(1.0)));
    app.stop().await;
}
