//! The public careers-site key, tried as an attacker would: another
//! submitter with a victim's address, a replayed or reused Idempotency-Key,
//! a guessed id. And the audit trail of what a list showed.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ApplicationForm, TestApp, pdf, spawn_app, spawn_app_with};

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await
}

#[tokio::test]
async fn a_submission_with_someone_elses_email_reveals_and_changes_nothing_of_theirs() {
    let app = spawn_app().await;
    let careers = app.create_key("careers-site", true).await;
    let job = app.create_job("DE").await;
    let victim = ApplicationForm::new(&job, "vera@example.com")
        .set("full_name", "Vera Victim")
        .set("phone", "+49 30 1111111")
        .set("cover_letter", "Private words of Vera.")
        .set("linkedin_url", "https://www.linkedin.com/in/vera");
    let (status, victim) = json(app.submit(&careers, victim, None).await).await;
    assert_eq!(status, 201);
    let victim_id = victim["id"].as_str().unwrap().to_owned();

    // The attacker knows the address, and sends no phone.
    let attacker = ApplicationForm::new(&job, "VERA@example.com")
        .set("full_name", "Mallory")
        .without("phone")
        .without("cover_letter");
    let (status, answer) = json(app.submit(&careers, attacker, None).await).await;
    assert_eq!(status, 201);
    let text = answer.to_string();
    for theirs in ["Vera", "1111111", "Private words", "linkedin", &victim_id] {
        assert!(!text.contains(theirs), "{theirs:?} in the answer: {text}");
    }
    let attacker_id = answer["id"].as_str().unwrap().to_owned();

    let victim_now = read(&app, &victim_id).await;
    assert_eq!(victim_now["full_name"], "Vera Victim");
    assert_eq!(victim_now["email"], "vera@example.com");
    assert_eq!(victim_now["phone"], "+49 30 1111111");
    assert_eq!(victim_now["cover_letter"], "Private words of Vera.");
    let attacker_now = read(&app, &attacker_id).await;
    assert_eq!(attacker_now["full_name"], "Mallory");
    assert_eq!(attacker_now["email"], "VERA@example.com");
    assert!(attacker_now.get("phone").is_none());
    // One person by address: both applications are grouped under it.
    assert_eq!(app.count_rows("candidates").await, 1);

    // The careers key reads no application, by id or by list.
    for path in [
        format!("/v1/applications/{victim_id}"),
        "/v1/applications".to_owned(),
        format!("/v1/applications/{victim_id}/history"),
    ] {
        assert_eq!(app.get(&careers, &path).await.status(), 403, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_its_own_request_only() {
    let app = spawn_app().await;
    let careers = app.create_key("careers-site", true).await;
    let job = app.create_job("DE").await;
    let form = || {
        ApplicationForm::new(&job, "ida@example.com")
            .set("full_name", "Ida Idem")
            .set("phone", "+49 30 2222222")
            .file("cv", pdf(4000, 3), "cv.pdf")
    };
    let (status, first) = json(app.submit(&careers, form(), Some("key-1")).await).await;
    assert_eq!(status, 201);

    // The same request again: the first result, ids and status only.
    let (status, again) = json(app.submit(&careers, form(), Some("key-1")).await).await;
    assert_eq!(status, 201);
    assert_eq!(again, first);
    assert_eq!(app.count_rows("applications").await, 1);
    for personal in ["Ida", "2222222", "ida@"] {
        assert!(!again.to_string().contains(personal), "{personal}");
    }

    // The same key with another form, or another CV: 422, nothing stored or shown.
    for other in [
        form().set("full_name", "Someone Else"),
        form().without("phone"),
        form().file("cv", pdf(4000, 4), "cv.pdf"),
    ] {
        let (status, body) = json(app.submit(&careers, other, Some("key-1")).await).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"], "idempotency_key_reused");
        assert!(!body.to_string().contains(first["id"].as_str().unwrap()));
    }
    // An executable "CV" under the known key: refused for what it is.
    let mut elf = b"\x7FELF\x02\x01\x01\0".to_vec();
    elf.extend_from_slice(&[0u8; 512]);
    let (status, body) = json(
        app.submit(&careers, form().file("cv", elf, "cv.pdf"), Some("key-1"))
            .await,
    )
    .await;
    assert!(status == 415 || status == 422, "{status} {body}");
    assert!(!body.to_string().contains(first["id"].as_str().unwrap()));
    assert_eq!(app.count_rows("applications").await, 1);
    assert_eq!(app.object_keys().await.len(), 1);

    // Keys belong to the API key that sent them.
    let other_site = app.create_key("careers-site", true).await;
    let (status, other) = json(app.submit(&other_site, form(), Some("key-1")).await).await;
    assert_eq!(status, 201);
    assert_ne!(other["id"], first["id"]);

    // Erased since: the replay says so and stores nothing again.
    let erased = app
        .client
        .delete(app.url(&format!(
            "/v1/applications/{}",
            first["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 200);
    let (status, body) = json(app.submit(&careers, form(), Some("key-1")).await).await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(app.count_rows("applications").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_expires() {
    let app = spawn_app_with(&[("intake.idempotency_ttl", "1s")]).await;
    let job = app.create_job("DE").await;
    let form = |name: &str| ApplicationForm::new(&job, "late@example.com").set("full_name", name);
    let (status, first) = json(app.submit(&app.admin_key, form("First"), Some("k")).await).await;
    assert_eq!(status, 201);
    app.advance(Duration::from_millis(1100));
    let (status, second) = json(app.submit(&app.admin_key, form("Second"), Some("k")).await).await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(second["id"], first["id"]);
    app.stop().await;
}

#[tokio::test]
async fn a_list_records_every_application_it_showed() {
    let app = spawn_app().await;
    let recruiter = app.create_key("recruiter", false).await;
    let job = app.create_job("DE").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let submitted = app
            .submit_ok(
                ApplicationForm::new(&job, &format!("seen{n}@example.com"))
                    .set("full_name", &format!("Seen Person {n}")),
            )
            .await;
        ids.push(submitted["id"].as_str().unwrap().to_owned());
    }
    let unseen = app
        .submit_ok(ApplicationForm::new(&job, "unseen@example.com").set("full_name", "Hidden One"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = app
        .client
        .get(app.url("/v1/applications?q=seen%20person"))
        .bearer_auth(&recruiter)
        .header("On-Behalf-Of", "recruiter-9")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);

    // "Who saw this candidate?" has an answer for each one shown.
    for id in &ids {
        let events = app
            .get_json(
                &app.admin_key,
                &format!("/v1/audit-events?application_id={id}"),
            )
            .await;
        let seen = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "application.listed")
            .unwrap_or_else(|| panic!("no listing of {id}: {events}"));
        assert_eq!(seen["actor"], "recruiter-9");
        assert!(seen["api_key_id"].is_string());
    }
    let events = app
        .get_json(
            &app.admin_key,
            &format!("/v1/audit-events?application_id={unseen}"),
        )
        .await;
    assert!(
        !events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "application.listed"),
        "a listing records only what it showed"
    );
    // The log holds ids, never what was searched for.
    let everything = app
        .get_json(&app.admin_key, "/v1/audit-events?limit=200")
        .await;
    // The application's history says who listed it.
    let history = app
        .get_json(&recruiter, &format!("/v1/applications/{}/history", ids[0]))
        .await;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "application.listed" && e["actor"] == "recruiter-9"),
        "{history}"
    );
    // One event for the listing, naming what it showed.
    let listings: Vec<&Value> = everything["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "application.listed")
        .collect();
    assert_eq!(listings.len(), 1, "{everything}");
    // In the order the page showed them, newest first.
    let page: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    let named: Vec<&str> = listings[0]["shown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert_eq!(named, page);
    let mut shown: Vec<String> = listings[0]["shown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    shown.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(shown, expected);
    assert!(!everything.to_string().contains("Seen Person"));
    assert!(
        !everything
            .to_string()
            .to_lowercase()
            .contains("seen person")
    );
    app.stop().await;
}
