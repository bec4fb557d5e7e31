//! 401 for missing, unknown and revoked keys; 403 for each role on each
//! operation it may not use.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ApplicationForm, spawn_app};

#[tokio::test]
async fn missing_unknown_and_revoked_keys_get_401() {
    let app = spawn_app().await;
    let no_key = app
        .client
        .get(app.url("/v1/applications"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    let unknown = app.get("av_not-a-real-key", "/v1/applications").await;
    assert_eq!(unknown.status(), 401);

    let recruiter = app.create_key("recruiter", false).await;
    assert_eq!(app.get(&recruiter, "/v1/applications").await.status(), 200);
    let keys: serde_json::Value = app
        .get(&app.admin_key, "/v1/api-keys")
        .await
        .json()
        .await
        .unwrap();
    let id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "recruiter")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .client
        .delete(app.url(&format!("/v1/api-keys/{id}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(app.get(&recruiter, "/v1/applications").await.status(), 401);
    app.stop().await;
}

/// Keys are cached per instance; a revocation on one instance, or by the
/// CLI, reaches every other within a second.
#[tokio::test]
async fn a_revoked_key_is_refused_by_every_instance_within_a_second() {
    let first = spawn_app().await;
    let second = first.second_instance().await;
    let recruiter = first.create_key("recruiter", false).await;
    let partner = first.create_key("partner", false).await;
    // Both instances have checked, and cached, both keys (a partner may
    // not list jobs: 403, but known).
    for app in [&first, &second] {
        for key in [&recruiter, &partner] {
            assert_ne!(app.get(key, "/v1/jobs").await.status(), 401);
        }
    }
    let keys: serde_json::Value = first.get_json(&first.admin_key, "/v1/api-keys").await;
    let id_of = |role: &str| {
        keys.as_array()
            .unwrap()
            .iter()
            .find(|k| k["role"] == role)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let revoked = first
        .client
        .delete(first.url(&format!("/v1/api-keys/{}", id_of("recruiter"))))
        .bearer_auth(&first.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let since = Instant::now();
    assert_eq!(
        first.get(&recruiter, "/v1/jobs").await.status(),
        401,
        "at once here"
    );
    refused_within_a_second(&second, &recruiter, since).await;
    assert_ne!(second.get(&partner, "/v1/jobs").await.status(), 401);

    // The CLI revokes in its own process: both instances follow.
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_applicant-vault"))
        .args(["keys", "revoke", &id_of("partner")])
        .envs(first.env.iter().cloned())
        .output()
        .unwrap();
    assert!(cli.status.success(), "{cli:?}");
    let since = Instant::now();
    for app in [&first, &second] {
        refused_within_a_second(app, &partner, since).await;
    }
    second.stop().await;
    first.stop().await;
}

/// Polls until `app` refuses `key`, which must happen within a second of
/// `since`.
async fn refused_within_a_second(app: &crate::helpers::TestApp, key: &str, since: Instant) {
    while app.get(key, "/v1/jobs").await.status() != 401 {
        assert!(
            since.elapsed() < Duration::from_secs(1),
            "still accepted after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn only_a_hash_of_a_key_is_stored() {
    let app = spawn_app().await;
    let secret = app.create_key("partner", false).await;
    let keys = applicant_vault::store::api_keys::list(&app.state.db)
        .await
        .unwrap();
    assert!(
        keys.iter()
            .all(|k| k.secret_hash != secret && !k.secret_hash.contains(&secret))
    );
    app.stop().await;
}

/// Each operation, and which roles it refuses with 403.
#[tokio::test]
async fn each_role_is_refused_where_it_does_not_belong() {
    let app = spawn_app().await;
    let job = app.create_job("FR").await;
    let application = app
        .submit_ok(ApplicationForm::new(&job, "role@example.com"))
        .await;
    let id = application["id"].as_str().unwrap();
    let document = application["documents"][0]["id"].as_str().unwrap();
    let keys = [
        ("recruiter", app.create_key("recruiter", false).await),
        ("careers-site", app.create_key("careers-site", false).await),
        ("partner", app.create_key("partner", false).await),
        ("publishable", app.create_key("careers-site", true).await),
    ];
    let uuid = "01930000-0000-7000-8000-000000000000";
    let operations: Vec<(Method, String, Option<serde_json::Value>, &[&str])> = vec![
        (Method::GET, "/v1/jobs".into(), None, &["partner"]),
        (
            Method::POST,
            "/v1/jobs".into(),
            Some(json!({"title": "t", "country": "DE"})),
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::GET,
            format!("/v1/jobs/{job}"),
            None,
            &["partner", "publishable"],
        ),
        (
            Method::PATCH,
            format!("/v1/jobs/{job}"),
            Some(json!({})),
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::GET,
            "/v1/applications".into(),
            None,
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::GET,
            format!("/v1/applications/{id}"),
            None,
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::PATCH,
            format!("/v1/applications/{id}"),
            Some(json!({})),
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::GET,
            format!("/v1/applications/{id}/documents/{document}"),
            None,
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::GET,
            "/v1/api-keys".into(),
            None,
            &["recruiter", "careers-site", "partner", "publishable"],
        ),
        (
            Method::POST,
            "/v1/api-keys".into(),
            Some(json!({"name": "n", "role": "partner"})),
            &["recruiter", "careers-site", "partner", "publishable"],
        ),
        (
            Method::DELETE,
            format!("/v1/api-keys/{uuid}"),
            None,
            &["recruiter", "careers-site", "partner", "publishable"],
        ),
        (
            Method::POST,
            format!("/v1/applications/{id}/status"),
            Some(json!({"status": "screening"})),
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::GET,
            format!("/v1/applications/{id}/history"),
            None,
            &["careers-site", "partner", "publishable"],
        ),
        (
            Method::GET,
            "/v1/audit-events".into(),
            None,
            &["recruiter", "careers-site", "partner", "publishable"],
        ),
    ];
    for (method, path, body, refused) in operations {
        for (role, key) in &keys {
            let mut request = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(key);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            if refused.contains(role) {
                assert_eq!(status, 403, "{role} on {method} {path}");
            } else {
                assert!(
                    status != 403 && status != 401,
                    "{role} on {method} {path}: {status}"
                );
            }
        }
    }
    // Intake: partner and recruiter may not submit; careers-site keys may.
    for (role, key) in &keys {
        let response = app
            .submit(
                key,
                ApplicationForm::new(&job, &format!("{role}@example.com")),
                None,
            )
            .await;
        let expected = if matches!(*role, "recruiter" | "partner") {
            403
        } else {
            201
        };
        assert_eq!(response.status().as_u16(), expected, "{role} submitting");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_admin_key_cannot_revoke_itself() {
    let app = spawn_app().await;
    let keys: serde_json::Value = app
        .get(&app.admin_key, "/v1/api-keys")
        .await
        .json()
        .await
        .unwrap();
    let own_id = keys[0]["id"].as_str().unwrap().to_owned();
    let response = app
        .client
        .delete(app.url(&format!("/v1/api-keys/{own_id}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(app.get(&app.admin_key, "/v1/api-keys").await.status(), 200);
    app.stop().await;
}
