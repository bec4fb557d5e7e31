//! The rights that need the employer or a second address: what a legal
//! hold tells the candidate, the mail before an employer lifts a
//! restriction, and an email change confirmed from the new address.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    export::assert_valid,
    helpers::{TestApp, spawn_app},
    privacy::{apply, browser, link_after, page, post_form, press, read_archive, redeem, sign_in},
    smtp_sink::{SmtpSink, free_port, spawn_app_with_relay},
};

#[tokio::test]
async fn a_hold_tells_the_candidate_its_kind_and_its_reason_unless_confidential() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let open = apply(&app, &job, "ada@example.com").await;
    let secret = apply(&app, &job, "ada@example.com").await;
    let plain = apply(&app, &job, "ada@example.com").await;
    for (id, body, category, confidential) in [
        (
            &open,
            json!({ "reason": "Tax audit of 2026", "category": "statutory" }),
            "statutory",
            false,
        ),
        (
            &secret,
            json!({ "reason": "Smith v. Employer", "category": "litigation", "confidential": true }),
            "litigation",
            true,
        ),
        (
            &plain,
            json!({ "reason": "Kept for the works council", "category": null, "confidential": null }),
            "other",
            false,
        ),
    ] {
        let path = format!("/v1/applications/{id}/legal-hold");
        let placed = app
            .send_json(Method::PUT, &app.admin_key, &path, &body)
            .await;
        assert!(placed.status().is_success(), "{}", placed.status());
        let hold: Value = placed.json().await.unwrap();
        assert_eq!(
            (&hold["category"], &hold["confidential"]),
            (&json!(category), &json!(confidential)),
            "{hold}"
        );
    }
    let unknown = app
        .send_json(
            Method::PUT,
            &app.admin_key,
            &format!("/v1/applications/{open}/legal-hold"),
            &json!({ "reason": "x", "category": "whim" }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    let cookie = sign_in(&app, "ada@example.com", &plain, 1).await;
    let (status, body) = page(&app, &cookie, "/privacy/me").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "a legal retention period",
        "Tax audit of 2026",
        "a legal claim or dispute",
        "another legal obligation",
        "Kept for the works council",
    ] {
        assert!(body.contains(shown), "{shown} is not on the page: {body}");
    }
    assert!(!body.contains("Smith v. Employer"), "a confidential reason");
    let (_, german) = page(&app, &cookie, "/privacy/me?lang=de").await;
    assert!(german.contains("eine gesetzliche Aufbewahrungsfrist"));
    assert!(german.contains("ein Rechtsstreit oder eine Forderung"));
    assert!(!german.contains("Smith v. Employer"));

    let response = browser()
        .get(app.url("/privacy/me/export?lang=fr"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("Smith v. Employer"),
        "a confidential reason stays out of the archive"
    );
    let (_, data) = read_archive(&bytes);
    assert_valid(&data);
    let hold_of = |id: &str| {
        data["applications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["retention"]["legal_hold"].clone())
            .unwrap()
    };
    assert_eq!(
        (&hold_of(&open)["category"], &hold_of(&open)["reason"]),
        (&json!("statutory"), &json!("Tax audit of 2026"))
    );
    assert_eq!(
        (&hold_of(&secret)["category"], &hold_of(&secret)["reason"]),
        (&json!("litigation"), &Value::Null)
    );
    app.stop().await;
}

/// The mails a sink received, with quoted-printable soft breaks undone.
fn sink_mails(sink: &SmtpSink) -> Vec<String> {
    sink.received()
        .iter()
        .map(|mail| mail.replace("=\r\n", "").replace("=\n", ""))
        .collect()
}

async fn lift(app: &TestApp, key: &str, id: &str) -> reqwest::Response {
    app.send_json(
        Method::DELETE,
        key,
        &format!("/v1/applications/{id}/restriction"),
        &json!({}),
    )
    .await
}

#[tokio::test]
async fn the_employer_lifts_a_restriction_only_once_the_candidate_is_mailed() {
    let port = free_port();
    let app = spawn_app_with_relay(port).await;
    let sink = SmtpSink::start(port).await;
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    let recruiter = app.create_key("recruiter", false).await;
    let read = format!("/v1/applications/{id}");
    assert_eq!(
        lift(&app, &app.admin_key, &id).await.status(),
        StatusCode::NOT_FOUND,
        "nothing to lift"
    );

    // The candidate restricts processing from their page.
    let asked = browser()
        .post(app.url("/privacy/requests"))
        .header(header::ORIGIN, "null")
        .form(&[("email", "ada@example.com"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    let mut link = None;
    for _ in 0..100 {
        link = sink_mails(&sink)
            .iter()
            .find(|m| m.contains("/privacy/verify/"))
            .map(|m| link_after(m, "/privacy/verify/"));
        if link.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cookie = redeem(&app.url(&link.expect("a sign-in mail")))
        .await
        .unwrap();
    assert_eq!(
        press(&app, &cookie, "restrict").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get(&recruiter, &read).await.status(), 403);

    // The relay is down: the mail waits, and so does the lift.
    sink.stop();
    assert_eq!(
        lift(&app, &recruiter, &id).await.status(),
        StatusCode::FORBIDDEN,
        "only admins lift restrictions"
    );
    let announced = lift(&app, &app.admin_key, &id).await;
    assert_eq!(announced.status(), StatusCode::ACCEPTED);
    let announced: Value = announced.json().await.unwrap();
    assert_eq!(announced["application_id"], id.as_str());
    assert!(announced["restricted_at"].is_string(), "{announced}");
    let message_id = announced["message_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let still = app.get(&recruiter, &read).await;
    assert_eq!(
        still.status(),
        StatusCode::FORBIDDEN,
        "lifted before the mail"
    );
    let again: Value = lift(&app, &app.admin_key, &id).await.json().await.unwrap();
    assert_eq!(
        again["message_id"],
        message_id.as_str(),
        "one mail, not two"
    );
    let admin_view = app.get_json(&app.admin_key, &read).await;
    assert!(admin_view["restricted_at"].is_string(), "{admin_view}");

    // Once the mail is out, the restriction is gone.
    let sink = SmtpSink::start(port).await;
    let messages = app
        .messages_until(&id, |m| {
            m.iter()
                .any(|m| m["origin"] == "restriction_lifted" && m["status"] == "sent")
        })
        .await;
    let lifts = messages
        .iter()
        .filter(|m| m["origin"] == "restriction_lifted")
        .count();
    assert_eq!(lifts, 1);
    let mut unrestricted = None;
    for _ in 0..50 {
        let response = app.get(&recruiter, &read).await;
        if response.status() == StatusCode::OK {
            unrestricted = Some(response.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unrestricted = unrestricted.expect("readable once the candidate was told");
    assert!(
        unrestricted.get("restricted_at").is_none_or(Value::is_null),
        "{unrestricted}"
    );
    let mail = sink_mails(&sink)
        .into_iter()
        .find(|m| m.contains(&message_id))
        .expect("the mail the relay received");
    assert!(mail.contains("ada@example.com"), "{mail}");
    assert!(
        mail.contains("/privacy/requests"),
        "it says how to restrict again"
    );
    assert_eq!(
        lift(&app, &app.admin_key, &id).await.status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
    sink.stop();
}

async fn ask_for_change(app: &TestApp, cookie: &str, email: &str) -> reqwest::Response {
    post_form(
        app,
        cookie,
        "/privacy/me/email",
        &[("email", email), ("lang", "en")],
    )
    .await
}

/// The confirmation link of the `nth` email-change mail of an application,
/// and the mail as sent.
async fn change_link(app: &TestApp, application_id: &str, nth: usize) -> (String, String) {
    let messages = app
        .messages_until(application_id, |m| {
            m.iter()
                .filter(|m| m["origin"] == "email_change" && m["status"] == "sent")
                .count()
                >= nth
        })
        .await;
    let message = messages
        .iter()
        .filter(|m| m["origin"] == "email_change")
        .nth(nth - 1)
        .unwrap();
    let mail = app
        .received_mail(message["message_id"].as_str().unwrap())
        .await
        .replace("=\r\n", "")
        .replace("=\n", "");
    (app.url(&link_after(&mail, "/privacy/email/")), mail)
}

/// Presses the button of an email change's link in a browser with `cookie`.
async fn confirm(app: &TestApp, link: &str, cookie: &str) -> reqwest::Response {
    let path = link.strip_prefix(&app.url("")).unwrap();
    post_form(app, cookie, path, &[("lang", "en")]).await
}

#[tokio::test]
async fn a_new_address_replaces_the_old_one_once_its_link_is_followed() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let first = apply(&app, &job, "ada@example.com").await;
    let latest = apply(&app, &job, "ada@example.com").await;
    let grace = apply(&app, &job, "grace@example.com").await;
    let cookie = sign_in(&app, "ada@example.com", &latest, 1).await;

    let refused = ask_for_change(&app, &cookie, "not an address").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let asked = ask_for_change(&app, &cookie, "Ada.New@Example.com").await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &cookie, "/privacy/me?done=email_sent").await;
    assert!(body.contains("We have sent a link to your new address"));
    let (link, mail) = change_link(&app, &latest, 1).await;
    let to = mail.lines().find(|l| l.starts_with("To: ")).unwrap();
    assert!(to.ends_with("<Ada.New@Example.com>"), "{to}");
    // Until it is followed, nothing changes; a scanner's GET changes nothing.
    let shown = browser().get(&link).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    assert!(shown.text().await.unwrap().contains("Use this address"));
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{first}"))
        .await;
    assert_eq!(read["email"], "ada@example.com");

    // Another candidate's browser following it changes only Ada's data.
    let grace_cookie = sign_in(&app, "grace@example.com", &grace, 1).await;
    let followed = confirm(&app, &link, &grace_cookie).await;
    assert_eq!(followed.status(), StatusCode::OK);
    assert!(
        followed
            .text()
            .await
            .unwrap()
            .contains("Your email address is changed")
    );
    for id in [&first, &latest] {
        let read = app
            .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
            .await;
        assert_eq!(read["email"], "Ada.New@Example.com", "{read}");
    }
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{grace}"))
        .await;
    assert_eq!(read["email"], "grace@example.com");
    assert_eq!(
        confirm(&app, &link, &cookie).await.status(),
        StatusCode::NOT_FOUND,
        "a link works once"
    );
    // Ada's session followed her data; the old address holds nothing now.
    let (status, body) = page(&app, &cookie, "/privacy/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Ada.New@Example.com"), "{body}");
    assert!(!body.contains("grace@example.com"));
    app.assert_history_has(&first, &["application.rectified"])
        .await;
    let requests = app.get_json(&app.admin_key, "/v1/subject-requests").await;
    let rectified = requests["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "rectification")
        .cloned()
        .expect("on record");
    assert_eq!(rectified["status"], "done", "{rectified}");

    // A link followed too late does nothing; the browser that asked sees
    // its page again when it follows one in time.
    let asked = ask_for_change(&app, &cookie, "ada@example.org").await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let (late, _) = change_link(&app, &latest, 2).await;
    app.advance(Duration::from_secs(31 * 60));
    assert_eq!(
        browser().get(&late).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        confirm(&app, &late, &cookie).await.status(),
        StatusCode::NOT_FOUND
    );
    let cookie = sign_in(&app, "Ada.New@Example.com", &latest, 2).await;
    assert_eq!(
        ask_for_change(&app, &cookie, "ada@example.org")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (link, _) = change_link(&app, &latest, 3).await;
    let followed = confirm(&app, &link, &cookie).await;
    assert_eq!(followed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        followed.headers()[header::LOCATION],
        "/privacy/me?lang=en&done=email_changed"
    );
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{first}"))
        .await;
    assert_eq!(read["email"], "ada@example.org");

    // A few changes an hour at most (three by default).
    for _ in 0..3 {
        assert_eq!(
            ask_for_change(&app, &cookie, "ada@example.net")
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        ask_for_change(&app, &cookie, "ada@example.net")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
}
