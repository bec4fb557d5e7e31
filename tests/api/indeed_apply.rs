//! Indeed Apply: signed JSON with a base64 CV, checked like an upload, stored
//! once however often Indeed delivers it, and nothing left of what is refused.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, pdf, spawn_app, spawn_app_with};

const SECRET: &str = "indeed-api-secret";
const PATH: &str = "/v1/integrations/indeed-apply";

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// An application as Indeed posts it, with fields we do not use.
fn payload(id: &str, job_id: &str, resume: &[u8]) -> Value {
    json!({
        "id": id,
        "appliedOnMillis": 1764000000000u64,
        "job": {
            "jobId": job_id,
            "jobTitle": "Analytical engineer",
            "jobCompanyName": "Engines Ltd",
            "jobUrl": "https://example.com/jobs/1"
        },
        "applicant": {
            "fullName": "Ada Lovelace",
            "email": "ada@example.com",
            "phoneNumber": "+44 20 7946 0000",
            "coverletter": "Dear team,\nI would love to work on engines.",
            "verified": true,
            "resume": {
                "file": {
                    "contentType": "application/pdf",
                    "data": STANDARD.encode(resume),
                    "fileName": "ada-cv.pdf"
                }
            }
        },
        "questionsAndAnswers": { "questions": [], "answers": [] },
        "analytics": { "referrer": "indeed" }
    })
}

async fn post(app: &TestApp, body: &[u8], signature: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(PATH))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-Indeed-Signature", signature);
    }
    request.send().await.unwrap()
}

async fn post_signed(app: &TestApp, payload: &Value) -> reqwest::Response {
    let body = serde_json::to_vec(payload).unwrap();
    post(app, &body, Some(&sign(SECRET, &body))).await
}

async fn indeed_app(extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = vec![("indeed_apply.api_secret", SECRET)];
    overrides.extend_from_slice(extra);
    spawn_app_with(&overrides).await
}

async fn job_with_indeed_id(app: &TestApp, indeed_id: &str) -> String {
    let response = app
        .send_json(
            reqwest::Method::POST,
            &app.admin_key,
            "/v1/jobs",
            &json!({ "title": "Analytical engineer", "country": "GB",
                     "external_ids": { "indeed": indeed_id } }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["external_ids"]["indeed"], indeed_id);
    job["id"].as_str().unwrap().to_owned()
}

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.count_rows("applications").await, 0);
    assert_eq!(app.count_rows("documents").await, 0);
    assert_eq!(app.count_rows("candidates").await, 0);
    assert_eq!(app.count_rows("outbox").await, 0);
    assert!(app.object_keys().await.is_empty());
}

#[tokio::test]
async fn a_signed_application_is_stored_and_its_cv_downloads_byte_for_byte() {
    let app = indeed_app(&[]).await;
    let job = job_with_indeed_id(&app, "9f3e1c7a2b").await;
    let cv = pdf(200 * 1024, 4);
    let response = post_signed(&app, &payload("indeed-app-1", "9f3e1c7a2b", &cv)).await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let receipt: Value = response.json().await.unwrap();
    let id = receipt["application_id"].as_str().unwrap();
    assert_eq!(
        receipt.as_object().unwrap().len(),
        1,
        "no personal data echoed"
    );

    let application = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(application["job_id"], job.as_str());
    assert_eq!(application["full_name"], "Ada Lovelace");
    assert_eq!(application["email"], "ada@example.com");
    assert_eq!(application["phone"], "+44 20 7946 0000");
    assert_eq!(
        application["cover_letter"],
        "Dear team,\nI would love to work on engines."
    );
    assert_eq!(application["source"], "indeed");
    assert_eq!(application["privacy_notice_version"], "indeed-apply");
    assert_eq!(
        application["provenance"],
        json!({ "full_name": "indeed-apply", "email": "indeed-apply", "phone": "indeed-apply",
                "cover_letter": "indeed-apply", "cv": "indeed-apply" })
    );
    let document = &application["documents"][0];
    assert_eq!(document["content_type"], "application/pdf");
    let download = app
        .get(
            &app.admin_key,
            &format!(
                "/v1/applications/{id}/documents/{}",
                document["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(download.status(), 200);
    let bytes = download.bytes().await.unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        hex::encode(Sha256::digest(&cv))
    );
    assert_eq!(bytes.len(), cv.len());
    app.assert_history_has(id, &["application.created"]).await;
    app.stop().await;
}

#[tokio::test]
async fn a_redelivery_answers_200_and_creates_nothing_new() {
    let app = indeed_app(&[]).await;
    let job = app.create_job("DE").await;
    // Without an Indeed id on the job, Indeed's jobId is the job's own id.
    let body = payload("indeed-app-2", &job, &pdf(4096, 1));
    let first = post_signed(&app, &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = post_signed(&app, &body).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["application_id"], again["application_id"]);
    // Concurrent redeliveries: still one.
    let all = futures_util::future::join_all((0..4).map(|_| post_signed(&app, &body))).await;
    for response in all {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.count_rows("applications").await, 1);
    assert_eq!(app.count_rows("documents").await, 1);
    assert_eq!(app.object_keys().await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn unsigned_wrongly_signed_or_tampered_posts_are_401_and_store_nothing() {
    let app = indeed_app(&[]).await;
    let job = app.create_job("DE").await;
    let body = serde_json::to_vec(&payload("indeed-app-3", &job, &pdf(2048, 2))).unwrap();
    let good = sign(SECRET, &body);
    let mut tampered = body.clone();
    let at = tampered.windows(4).position(|w| w == b"Ada ").unwrap();
    tampered[at] = b'E';
    for (body, signature) in [
        (&body, None),
        (&body, Some(sign("another-secret", &body))),
        (&body, Some("not base64 at all".to_owned())),
        (&body, Some(String::new())),
        (&tampered, Some(good.clone())),
    ] {
        let response = post(&app, body, signature.as_deref()).await;
        assert_eq!(response.status(), 401);
        let error: Value = response.json().await.unwrap();
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("X-Indeed-Signature")
        );
    }
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn bad_resumes_and_applicants_are_refused_and_leave_nothing() {
    let app = indeed_app(&[("uploads.max_cv_bytes", "10000")]).await;
    let job = app.create_job("DE").await;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF".to_vec();
    exe.extend_from_slice(&[0u8; 2048]);
    let without_name = {
        let mut p = payload("p3", &job, &pdf(2048, 3));
        p["applicant"].as_object_mut().unwrap().remove("fullName");
        p
    };
    let blank_name = {
        let mut p = payload("p4", &job, &pdf(2048, 3));
        p["applicant"]["fullName"] = json!("   ");
        p
    };
    let without_email = {
        let mut p = payload("p5", &job, &pdf(2048, 3));
        p["applicant"]["email"] = Value::Null;
        p
    };
    let not_base64 = {
        let mut p = payload("p6", &job, &pdf(2048, 3));
        p["applicant"]["resume"]["file"]["data"] = json!("%%% not base64 %%%");
        p
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (payload("p1", &job, &exe), 415, "applicant.resume.file"),
        (
            payload("p2", &job, &pdf(10_001, 3)),
            413,
            "applicant.resume.file",
        ),
        (without_name, 422, "applicant.fullName"),
        (blank_name, 422, "applicant.fullName"),
        (without_email, 422, "applicant.email"),
        (not_base64, 422, "applicant.resume.file.data"),
        (
            payload("p7", "no-such-job", &pdf(2048, 3)),
            404,
            "job.jobId",
        ),
    ];
    for (body, status, field) in cases {
        let response = post_signed(&app, &body).await;
        assert_eq!(response.status(), status, "{field}");
        let error: Value = response.json().await.unwrap();
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(field), "{field} not in {message:?}");
    }
    // Larger than any valid body: refused before it is read.
    let huge = payload("p8", &job, &pdf(2 << 20, 3));
    assert_eq!(post_signed(&app, &huge).await.status(), 413);
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn without_an_api_secret_a_signed_post_is_404() {
    let app = spawn_app().await;
    let job = app.create_job("DE").await;
    let body = serde_json::to_vec(&payload("p", &job, &pdf(2048, 3))).unwrap();
    let response = post(&app, &body, Some(&sign("", &body))).await;
    assert_eq!(response.status(), 404);
    // Unsigned is refused as unauthenticated first, as everywhere.
    assert_eq!(post(&app, &body, None).await.status(), 401);
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn an_indeed_job_id_belongs_to_one_job_and_can_be_cleared() {
    let app = indeed_app(&[]).await;
    let first = job_with_indeed_id(&app, "ind-42").await;
    let second = app
        .send_json(
            reqwest::Method::POST,
            &app.admin_key,
            "/v1/jobs",
            &json!({ "title": "Other", "country": "DE", "external_ids": { "indeed": "ind-42" } }),
        )
        .await;
    assert_eq!(second.status(), 409);
    let cleared = app
        .send_json(
            reqwest::Method::PATCH,
            &app.admin_key,
            &format!("/v1/jobs/{first}"),
            &json!({ "external_ids": { "indeed": "" } }),
        )
        .await;
    assert_eq!(cleared.status(), 200);
    let cleared: Value = cleared.json().await.unwrap();
    assert!(cleared["external_ids"].get("indeed").is_none(), "{cleared}");
    job_with_indeed_id(&app, "ind-42").await;
    app.stop().await;
}

/// Erased (by an admin, or by the purge) means erased: Indeed delivering the
/// same application again stores nothing, and the tombstone that knows it
/// holds no personal data.
#[tokio::test]
async fn a_redelivery_after_erasure_or_purge_stores_nothing() {
    let app = indeed_app(&[
        ("retention.after_inactivity", "1s"),
        ("retention.purge_interval", "1h"),
    ])
    .await;
    let job = job_with_indeed_id(&app, "indeed-job-9").await;
    let cv = pdf(3000, 4);
    let first = payload("indeed-app-erased", "indeed-job-9", &cv);
    let created = post_signed(&app, &first).await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["application_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let erased = app
        .client
        .delete(app.url(&format!("/v1/applications/{id}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 200);
    for _ in 0..2 {
        let again = post_signed(&app, &first).await;
        assert_eq!(again.status(), 200);
        assert_eq!(again.json::<Value>().await.unwrap()["application_id"], id);
    }
    assert_nothing_stored(&app).await;

    // The same through the scheduled purge.
    let second = payload("indeed-app-purged", &job, &cv);
    assert_eq!(post_signed(&app, &second).await.status(), 201);
    app.advance(std::time::Duration::from_millis(1100));
    let purged = applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap();
    assert_eq!(purged.applications, 1);
    assert_eq!(post_signed(&app, &second).await.status(), 200);
    assert_nothing_stored(&app).await;

    // What remains is keyed hashes and ids: no name, address, phone or id of Indeed's.
    let rows = app
        .state
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT key_hash, fingerprint, application_id FROM intake_keys",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let dump = format!("{rows:?}");
    for personal in [
        "Ada",
        "ada@example.com",
        "+44 20 7946 0000",
        "+442079460000",
        "indeed-app-erased",
        "indeed-app-purged",
    ] {
        assert!(!dump.contains(personal), "{personal} in {dump}");
    }
    app.stop().await;
}
