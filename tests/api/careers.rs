//! The careers site in the browser: CORS for its origin, publishable keys
//! limited to two operations and rate limited per client address.

use crate::helpers::{ApplicationForm, spawn_app_with};

#[tokio::test]
async fn the_careers_origin_may_call_from_a_page_and_others_may_not() {
    let app = spawn_app_with(&[("careers.origins", "https://careers.example.com")]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/applications"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, idempotency-key",
            )
            .send()
    };
    let allowed = preflight("https://careers.example.com").await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://careers.example.com"
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_publishable_key_is_rate_limited_per_client_with_retry_after() {
    let app = spawn_app_with(&[("careers.rate_limit_per_minute", "3")]).await;
    let publishable = app.create_key("careers-site", true).await;
    let job = app.create_job("DE").await;
    for _ in 0..2 {
        assert_eq!(app.get(&publishable, "/v1/jobs").await.status(), 200);
    }
    let response = app
        .submit(
            &publishable,
            ApplicationForm::new(&job, "page@example.com"),
            None,
        )
        .await;
    assert_eq!(response.status(), 201);
    let limited = app.get(&publishable, "/v1/jobs").await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    // Other keys are not limited.
    for _ in 0..5 {
        assert_eq!(app.get(&app.admin_key, "/v1/jobs").await.status(), 200);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_publishable_key_of_any_role_only_restricts() {
    let app = spawn_app_with(&[]).await;
    let publishable_recruiter = app.create_key("recruiter", true).await;
    assert_eq!(
        app.get(&publishable_recruiter, "/v1/jobs").await.status(),
        200
    );
    assert_eq!(
        app.get(&publishable_recruiter, "/v1/applications")
            .await
            .status(),
        403
    );
    let job = app.create_job("DE").await;
    let response = app
        .submit(
            &publishable_recruiter,
            ApplicationForm::new(&job, "x@example.com"),
            None,
        )
        .await;
    assert_eq!(
        response.status(),
        403,
        "publishing a key never grants a role"
    );
    app.stop().await;
}
