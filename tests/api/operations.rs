//! Liveness, readiness, the spec and a dependency that is down.

use serde_json::Value;

use crate::helpers::{ApplicationForm, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_and_readyz_answer_when_everything_is_up() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], true);
    assert_eq!(body["object_store"], true);
    app.stop().await;
}

#[tokio::test]
async fn the_spec_is_served_and_every_v1_operation_declares_bearer_security() {
    let app = spawn_app().await;
    let spec: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let mut protected = 0;
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            if path.starts_with("/v1/") {
                assert!(
                    operation["security"]
                        .as_array()
                        .is_some_and(|s| !s.is_empty()),
                    "{method} {path} has no security"
                );
                protected += 1;
            }
        }
    }
    assert!(protected >= 12, "only {protected} protected operations");
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_committed_spec_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.yaml"))
            .expect("openapi/openapi.yaml is committed");
    assert!(
        committed == applicant_vault::api::spec_yaml(),
        "openapi/openapi.yaml is stale: run `cargo run -- openapi > openapi/openapi.yaml`"
    );
}

/// What the schema calls valid is what the service accepts: every pattern in
/// the document is one the field parsers use.
#[test]
fn every_pattern_in_the_spec_is_one_the_parsers_check() {
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if key == "pattern" {
                        found.push(inner.as_str().unwrap().to_owned());
                    }
                    walk(inner, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let spec = applicant_vault::api::document("http://x");
    let mut found = Vec::new();
    walk(&spec, &mut found);
    assert!(found.len() >= 10);
    for pattern in found {
        assert!(
            applicant_vault::domain::fields::patterns::ALL.contains(&pattern.as_str()),
            "{pattern} is not one of domain::fields::patterns"
        );
    }
}

#[tokio::test]
async fn an_undeclared_method_is_405_with_the_allowed_methods() {
    let app = spawn_app().await;
    let response = app
        .client
        .request(
            reqwest::Method::PUT,
            app.url("/v1/jobs/01930000-0000-7000-8000-000000000000"),
        )
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, PATCH");
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_errors_answer_json() {
    let app = spawn_app().await;
    let response = app.get(&app.admin_key, "/v1/nothing-here").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let response = app.client.get(app.url("/v1/jobs")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    app.stop().await;
}

/// An object store that does not answer: readiness says so, and an intake
/// answers 503 quickly and leaves no row behind.
#[tokio::test]
async fn a_store_that_is_down_gives_503_and_stores_nothing() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{closed_port}");
    let app = spawn_app_with(&[
        ("storage.url", "s3://nowhere/prefix"),
        ("storage.options.aws_endpoint", &endpoint),
        ("storage.options.aws_allow_http", "true"),
        ("storage.options.aws_region", "us-east-1"),
        ("storage.options.aws_access_key_id", "x"),
        ("storage.options.aws_secret_access_key", "x"),
    ])
    .await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["object_store"], false);
    assert_eq!(body["database"], true);

    let job = app.create_job("DE").await;
    let started = std::time::Instant::now();
    let response = app
        .submit(
            &app.admin_key,
            ApplicationForm::new(&job, "down@example.com"),
            None,
        )
        .await;
    assert_eq!(response.status(), 503);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    assert_eq!(app.count_rows("applications").await, 0);
    assert_eq!(app.count_rows("candidates").await, 0);
    app.stop().await;
}
