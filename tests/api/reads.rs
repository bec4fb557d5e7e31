//! Recruiter reads: filters, keyset pages, rectification and the audit log.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{ApplicationForm, spawn_app};

#[tokio::test]
async fn recruiters_filter_and_page_through_applications_newest_first() {
    let app = spawn_app().await;
    let recruiter = app.create_key("recruiter", false).await;
    let job_a = app.create_job("DE").await;
    let job_b = app.create_job("FR").await;
    let mut created = Vec::new();
    for i in 0..7 {
        let job = if i % 2 == 0 { &job_a } else { &job_b };
        let form = ApplicationForm::new(job, &format!("person{i}@example.com"))
            .set("full_name", &format!("Person Number{i}"));
        created.push(app.submit_ok(form).await["id"].as_str().unwrap().to_owned());
    }

    // Pages of 3 over job A's 4 applications: 3 then 1, newest first, no repeats.
    let first: Value = app
        .get(
            &recruiter,
            &format!("/v1/applications?job_id={job_a}&limit=3"),
        )
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second: Value = app
        .get(
            &recruiter,
            &format!("/v1/applications?job_id={job_a}&limit=3&cursor={cursor}"),
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = created.iter().step_by(2).rev().cloned().collect();
    assert_eq!(ids, expected);
    assert!(second["next_cursor"].is_null());

    let by_name: Value = app
        .get(&recruiter, "/v1/applications?q=number3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_name["items"][0]["id"], created[3].as_str());
    let by_email: Value = app
        .get(&recruiter, "/v1/applications?q=PERSON5%40")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_email["items"][0]["id"], created[5].as_str());
    let wildcard: Value = app
        .get(&recruiter, "/v1/applications?q=%25")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        wildcard["items"].as_array().unwrap().is_empty(),
        "% is matched literally"
    );

    let new: Value = app
        .get(&recruiter, "/v1/applications?status=new")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(new["items"].as_array().unwrap().len(), 7);
    let hired: Value = app
        .get(&recruiter, "/v1/applications?status=hired")
        .await
        .json()
        .await
        .unwrap();
    assert!(hired["items"].as_array().unwrap().is_empty());
    let future: Value = app
        .get(
            &recruiter,
            "/v1/applications?created_after=2999-01-01T00:00:00Z",
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(future["items"].as_array().unwrap().is_empty());
    let bad = app.get(&recruiter, "/v1/applications?limit=500").await;
    assert_eq!(bad.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn rectification_corrects_the_application_and_every_access_is_audited_without_personal_data()
{
    let app = spawn_app().await;
    let recruiter = app.create_key("recruiter", false).await;
    let job = app.create_job("DE").await;
    let application = app
        .submit_ok(ApplicationForm::new(&job, "typo@exmaple.com"))
        .await;
    let id = application["id"].as_str().unwrap();
    let document = application["documents"][0]["id"].as_str().unwrap();

    let corrected = app
        .client
        .patch(app.url(&format!("/v1/applications/{id}")))
        .bearer_auth(&recruiter)
        .header("On-Behalf-Of", "recruiter-42")
        .json(&json!({ "email": "ada@example.com", "full_name": "Ada King", "phone": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(corrected.status(), 200);
    let corrected: Value = corrected.json().await.unwrap();
    assert_eq!(corrected["email"], "ada@example.com");
    assert_eq!(corrected["full_name"], "Ada King");
    assert!(corrected["phone"].is_null());

    let invalid = app
        .send_json(
            reqwest::Method::PATCH,
            &recruiter,
            &format!("/v1/applications/{id}"),
            &json!({ "email": "nope" }),
        )
        .await;
    assert_eq!(invalid.status(), 422);
    let invalid: Value = invalid.json().await.unwrap();
    assert!(invalid["message"].as_str().unwrap().contains("email"));

    // The typo's candidate had only this application: it went with the
    // correction, and the application now belongs to the corrected address.
    assert_eq!(app.count_rows("candidates").await, 1);
    // An address another application uses: this one joins that candidate,
    // and the other application keeps its own details.
    let grace = app
        .submit_and_read(
            ApplicationForm::new(&job, "grace@example.com").set("full_name", "Grace Hopper"),
        )
        .await;
    let joined = app
        .send_json(
            reqwest::Method::PATCH,
            &recruiter,
            &format!("/v1/applications/{id}"),
            &json!({ "email": "Grace@example.com" }),
        )
        .await;
    assert_eq!(joined.status(), 200);
    let joined: Value = joined.json().await.unwrap();
    assert_eq!(joined["email"], "Grace@example.com");
    assert_eq!(joined["full_name"], "Ada King");
    assert_eq!(app.count_rows("candidates").await, 1);
    let other = app
        .get_json(
            &app.admin_key,
            &format!("/v1/applications/{}", grace["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(other["full_name"], "Grace Hopper");
    assert_eq!(other["email"], "grace@example.com");

    assert_eq!(
        app.get(&recruiter, &format!("/v1/applications/{id}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(
            &recruiter,
            &format!("/v1/applications/{id}/documents/{document}")
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.get(
            &recruiter,
            "/v1/applications/01930000-0000-7000-8000-000000000000"
        )
        .await
        .status(),
        404
    );

    let events: Value = app
        .get(
            &app.admin_key,
            &format!("/v1/audit-events?application_id={id}"),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: HashSet<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "application.created",
        "application.rectified",
        "application.read",
        "document.downloaded",
    ] {
        assert!(
            actions.contains(action),
            "{action} missing from {actions:?}"
        );
    }
    let rectified = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "application.rectified")
        .unwrap();
    assert_eq!(rectified["actor"], "recruiter-42");
    assert!(rectified["api_key_id"].is_string());
    let text = events.to_string();
    for personal in ["Ada", "ada@example.com", "typo@", "+44"] {
        assert!(!text.contains(personal), "{personal} in the audit log");
    }
    app.stop().await;
}

/// Statuses are typed columns: a value the code does not know (a bad manual
/// edit, a rollback past a migration) is an error someone sees, never
/// silently read as another status.
#[tokio::test]
async fn a_stored_status_the_code_does_not_know_is_an_error_not_a_default() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let job = app.create_job("DE").await;
    let id = app
        .submit_ok(ApplicationForm::new(&job, "typed@example.com"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["status"], "new");
    // Behind the service's back, on a connection of its own.
    let db = sea_orm::Database::connect(app.state.settings.database.url.expose())
        .await
        .unwrap();
    db.execute_unprepared("UPDATE applications SET status = 'shortlisted'")
        .await
        .unwrap();
    db.close().await.unwrap();
    let broken = app
        .get(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(broken.status(), 500);
    let body = broken.text().await.unwrap();
    assert!(!body.contains("typed@example.com"), "{body}");
    app.stop().await;
}

/// A read is answered only once its audit event is stored: when the audit
/// log refuses events, a list or a read shows nothing of anyone, and a read
/// of an unknown id records nothing.
#[tokio::test]
async fn when_the_audit_log_refuses_an_event_no_personal_data_is_shown() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let app = spawn_app().await;
    let job = app.create_job("DE").await;
    let id = app
        .submit_ok(
            ApplicationForm::new(&job, "watched@example.com").set("full_name", "Wanda Watched"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let events_before = app.count_rows("audit_events").await;
    let missing = app
        .get(
            &app.admin_key,
            "/v1/applications/01930000-0000-7000-8000-000000000000",
        )
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        app.count_rows("audit_events").await,
        events_before,
        "a read that found nothing recorded an event"
    );

    // Behind the service's back: the audit table takes no more rows.
    let db = sea_orm::Database::connect(app.state.settings.database.url.expose())
        .await
        .unwrap();
    let refuse = match db.get_database_backend() {
        DbBackend::Postgres => {
            "ALTER TABLE audit_events ADD CONSTRAINT no_more_events CHECK (false) NOT VALID"
        }
        _ => {
            "CREATE TRIGGER no_more_events BEFORE INSERT ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'no more events'); END"
        }
    };
    db.execute_unprepared(refuse).await.unwrap();
    for path in [
        format!("/v1/applications/{id}"),
        format!("/v1/applications?job_id={job}"),
        "/v1/applications?q=wanda".to_owned(),
    ] {
        let answer = app.get(&app.admin_key, &path).await;
        assert!(
            answer.status().is_server_error(),
            "{path}: {}",
            answer.status()
        );
        let body = answer.text().await.unwrap();
        for personal in ["Wanda", "watched@example.com", id.as_str()] {
            assert!(!body.contains(personal), "{path} showed {personal}: {body}");
        }
    }
    db.close().await.unwrap();
    app.stop().await;
}
