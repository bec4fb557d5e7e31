//! The candidates' own pages over HTTP, as a browser without script uses
//! them: sign in by a link sent to the address (the same answer for known
//! and unknown addresses), then see, restrict, withdraw, object and erase.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{ApplicationForm, TestApp, spawn_app, spawn_app_with};

const LINK: &str = "privacy_link";

/// A browser that keeps no cookies and follows no redirects, so that each
/// test sees exactly what the service answered.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn ask_for_link(app: &TestApp, email: &str, lang: &str) -> (StatusCode, String) {
    let response = browser()
        .post(app.url("/privacy/requests"))
        .header(header::ORIGIN, "null")
        .form(&[("email", email), ("lang", lang)])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The sign-in link of the newest privacy mail to this application.
pub(crate) async fn link_in_mail(app: &TestApp, application_id: &str, nth: usize) -> String {
    let messages = app
        .messages_until(application_id, |items| {
            items
                .iter()
                .filter(|m| m["origin"] == LINK && m["status"] == "sent")
                .count()
                >= nth
        })
        .await;
    let sent: Vec<&Value> = messages.iter().filter(|m| m["origin"] == LINK).collect();
    let message = sent[nth - 1];
    let body = message["body"].as_str().unwrap();
    assert!(body.contains("{{privacy_url}}"), "no token stored: {body}");
    let mail = app
        .received_mail(message["message_id"].as_str().unwrap())
        .await
        .replace("=\r\n", "")
        .replace("=\n", "");
    app.url(&link_after(&mail, "/privacy/verify/"))
}

/// The link in a mail whose path starts with `prefix`, without its query:
/// a token of 256 bits.
pub(crate) fn link_after(mail: &str, prefix: &str) -> String {
    let start = mail.find(prefix).expect("a link") + prefix.len();
    let token: String = mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43, "256 bits, base64url: {token}");
    format!("{prefix}{token}")
}

/// Redeems a link: the session cookie, as `name=value`.
pub(crate) async fn redeem(link: &str) -> Option<String> {
    let shown = browser().get(link).send().await.unwrap();
    if shown.status() != StatusCode::OK {
        return None;
    }
    let response = browser()
        .post(link)
        .header(header::ORIGIN, "null")
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap();
    if response.status() != StatusCode::SEE_OTHER {
        return None;
    }
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/privacy"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    Some(cookie.split(';').next().unwrap().to_owned())
}

pub(crate) async fn sign_in(
    app: &TestApp,
    email: &str,
    application_id: &str,
    nth: usize,
) -> String {
    let (status, _) = ask_for_link(app, email, "en").await;
    assert_eq!(status, StatusCode::OK);
    let link = link_in_mail(app, application_id, nth).await;
    redeem(&link).await.expect("a fresh link starts a session")
}

pub(crate) async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let response = browser()
        .get(app.url(path))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

pub(crate) async fn press(app: &TestApp, cookie: &str, action: &str) -> reqwest::Response {
    browser()
        .post(app.url(&format!("/privacy/me/{action}")))
        .header(header::COOKIE, cookie)
        .header(header::ORIGIN, "null")
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap()
}

pub(crate) async fn apply(app: &TestApp, job: &str, email: &str) -> String {
    app.submit_ok(ApplicationForm::new(job, email)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn purge(app: &TestApp) -> usize {
    applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap()
        .applications
}

#[tokio::test]
async fn known_and_unknown_addresses_get_the_same_page_and_only_known_ones_a_mail() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    let (known_status, known) = ask_for_link(&app, "ADA@example.com", "en").await;
    let (unknown_status, unknown) = ask_for_link(&app, "nobody@example.com", "en").await;
    assert_eq!(known_status, StatusCode::OK);
    assert_eq!(unknown_status, StatusCode::OK);
    assert_eq!(known, unknown, "the page tells nothing about the address");
    assert!(known.contains("If we hold data for this address"));
    link_in_mail(&app, &id, 1).await;
    // Every request is counted, the unknown one too; one mail went.
    assert_eq!(app.count_rows("privacy_sign_ins").await, 2);
    assert_eq!(
        app.count_rows("outbox").await + app.count_rows("messages").await,
        2
    );
    // Past the hourly limit of the address: the same page, no mail.
    for _ in 0..3 {
        let (status, again) = ask_for_link(&app, "ada@example.com", "en").await;
        assert_eq!((status, again.as_str()), (StatusCode::OK, known.as_str()));
    }
    let links = app
        .messages_until(&id, |items| {
            items.iter().filter(|m| m["origin"] == LINK).count() >= 3
        })
        .await;
    assert_eq!(links.iter().filter(|m| m["origin"] == LINK).count(), 3);
    // A malformed address is an error page in the language asked in.
    let (status, body) = ask_for_link(&app, "not an address", "de").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("lang=\"de\"") && body.contains("E-Mail-Adresse"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_link_works_once_and_not_after_it_expires_and_sessions_end() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    ask_for_link(&app, "ada@example.com", "en").await;
    let link = link_in_mail(&app, &id, 1).await;
    // Opening the link changes nothing: a scanner may open it first.
    for _ in 0..2 {
        let shown = browser().get(&link).send().await.unwrap();
        assert_eq!(shown.status(), StatusCode::OK);
    }
    let cookie = redeem(&link).await.expect("the first use works");
    assert_eq!(redeem(&link).await, None, "a link works once");
    let (status, body) = page(&app, &cookie, "/privacy/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Your data"), "{body}");
    // A guessed session or link is nothing.
    let (status, _) = page(&app, "av_privacy=guess", "/privacy/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let guessed = app.url(&format!("/privacy/verify/{}", "A".repeat(43)));
    assert_eq!(browser().get(guessed).send().await.unwrap().status(), 404);

    // Sessions end after `privacy.session_ttl`, links after `link_ttl`.
    ask_for_link(&app, "ada@example.com", "en").await;
    let second = link_in_mail(&app, &id, 2).await;
    app.advance(Duration::from_secs(31 * 60));
    let (status, body) = page(&app, &cookie, "/privacy/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("Your session has ended"), "{body}");
    assert_eq!(redeem(&second).await, None, "an expired link");

    // Signing out ends the session at once.
    ask_for_link(&app, "ada@example.com", "en").await;
    let cookie = redeem(&link_in_mail(&app, &id, 3).await).await.unwrap();
    let out = press(&app, &cookie, "sign-out").await;
    assert_eq!(out.status(), StatusCode::OK);
    assert!(
        out.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = page(&app, &cookie, "/privacy/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn the_page_shows_every_application_of_the_address_and_nothing_of_others() {
    let app = spawn_app_with(&[("privacy.processors", "[\"Mailer Ltd\"]")]).await;
    let job = app.create_job("NL").await;
    let other_job = app.create_job("FR").await;
    apply(&app, &job, "ada@example.com").await;
    // The sign-in mail goes with the newest application.
    let newest = apply(&app, &other_job, "Ada@Example.com").await;
    app.submit_ok(
        ApplicationForm::new(&job, "grace@example.com").set("full_name", "Grace <b>Hopper</b>"),
    )
    .await;
    let cookie = sign_in(&app, "ada@example.com", &newest, 1).await;
    let (status, body) = page(&app, &cookie, "/privacy/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body.matches("<section class=\"application\">").count(),
        2,
        "{body}"
    );
    assert!(body.contains("Received") && body.contains("the application form"));
    assert!(body.contains("Mailer Ltd"));
    assert!(!body.contains("Grace") && !body.contains("grace@"));
    // Each view is recorded, with no personal data.
    let events = app
        .get_json(&app.admin_key, "/v1/audit-events?action=candidate.viewed")
        .await;
    let text = events.to_string();
    assert!(text.contains("candidate.viewed"), "{text}");
    assert!(!text.contains("ada@"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn a_restriction_freezes_the_data_for_recruiters_and_the_purge_until_lifted() {
    let app = spawn_app_with(&[("retention.after_decision", "1d")]).await;
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    let recruiter = app.create_key("recruiter", false).await;
    let rejected = app
        .send_json(
            Method::POST,
            &recruiter,
            &format!("/v1/applications/{id}/status"),
            &json!({ "status": "rejected" }),
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    let cookie = sign_in(&app, "ada@example.com", &id, 1).await;
    let restricted = press(&app, &cookie, "restrict").await;
    assert_eq!(restricted.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &cookie, "/privacy/me?done=restricted").await;
    assert!(
        body.contains("Processing of your data is now restricted"),
        "{body}"
    );
    assert!(body.contains("Lift the restriction"));

    // Every recruiter operation on it is refused, saying why.
    for (method, path, body) in [
        (Method::GET, format!("/v1/applications/{id}"), None),
        (Method::GET, format!("/v1/applications/{id}/history"), None),
        (Method::GET, format!("/v1/applications/{id}/messages"), None),
        (
            Method::POST,
            format!("/v1/applications/{id}/notes"),
            Some(json!({ "body": "call back" })),
        ),
        (
            Method::POST,
            format!("/v1/applications/{id}/status"),
            Some(json!({ "status": "screening", "reason": "second look" })),
        ),
        (
            Method::POST,
            format!("/v1/applications/{id}/messages"),
            Some(json!({ "subject": "Hello", "body": "Hi" })),
        ),
        (
            Method::PATCH,
            format!("/v1/applications/{id}"),
            Some(json!({ "phone": "+31 20 123 4567" })),
        ),
    ] {
        let response = app
            .send_json(
                method.clone(),
                &recruiter,
                &path,
                &body.unwrap_or(json!({})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "restricted", "{method} {path}: {error}");
    }
    let listed = app.get_json(&recruiter, "/v1/applications").await;
    assert_eq!(listed["items"], json!([]), "not listed to recruiters");
    // Admins see it, and since when it is restricted.
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert!(read["restricted_at"].is_string(), "{read}");

    // Past its purge date, the purge leaves it alone while restricted.
    app.advance(Duration::from_secs(3 * 86_400));
    assert_eq!(purge(&app).await, 0);
    let cookie = sign_in(&app, "ada@example.com", &id, 2).await;
    assert_eq!(
        press(&app, &cookie, "unrestrict").await.status(),
        StatusCode::SEE_OTHER
    );
    let read = app
        .get_json(&recruiter, &format!("/v1/applications/{id}"))
        .await;
    assert!(
        read.get("restricted_at").is_none_or(Value::is_null),
        "{read}"
    );
    assert_eq!(purge(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn erasing_everything_goes_through_the_purge_and_a_hold_keeps_what_it_holds() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let free = apply(&app, &job, "ada@example.com").await;
    let held = apply(&app, &job, "ada@example.com").await;
    let hold = format!("/v1/applications/{held}/legal-hold");
    let placed = app
        .send_json(
            Method::PUT,
            &app.admin_key,
            &hold,
            &json!({ "reason": "lawsuit" }),
        )
        .await;
    assert!(placed.status().is_success(), "{}", placed.status());
    let cookie = sign_in(&app, "ada@example.com", &held, 1).await;
    let (status, confirm) = page(&app, &cookie, "/privacy/me/erase").await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Yes, delete everything"));
    let erased = press(&app, &cookie, "erase").await;
    assert_eq!(erased.status(), StatusCode::OK);
    let body = erased.text().await.unwrap();
    assert!(
        body.contains("A legal obligation requires us to keep some"),
        "{body}"
    );
    let receipts = app.get_json(&app.admin_key, "/v1/purge-receipts").await;
    let receipts = receipts["items"].as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0]["application_id"], free.as_str());
    assert_eq!(receipts[0]["reason"], "subject_request");
    let gone = app
        .get(&app.admin_key, &format!("/v1/applications/{free}"))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // The held application stays, with the request on record, until the
    // hold lifts: then the purge takes it.
    assert_eq!(purge(&app).await, 0);
    let (_, body) = page(&app, &cookie, "/privacy/me").await;
    assert!(
        body.contains("Your open requests") && body.contains("Erasure"),
        "{body}"
    );
    let requests = app.get_json(&app.admin_key, "/v1/subject-requests").await;
    let request = &requests["items"][0];
    assert_eq!(
        (&request["kind"], &request["channel"], &request["status"]),
        (&json!("erasure"), &json!("self_service"), &json!("open")),
        "{requests}"
    );
    let lifted = app
        .send_json(Method::DELETE, &app.admin_key, &hold, &json!({}))
        .await;
    assert!(lifted.status().is_success());
    assert_eq!(purge(&app).await, 1);
    assert_eq!(app.count_rows("applications").await, 0);
    assert_eq!(app.count_rows("candidates").await, 0);
    let requests = app.get_json(&app.admin_key, "/v1/subject-requests").await;
    assert_eq!(requests["items"][0]["status"], "done", "{requests}");
    app.stop().await;
}

#[tokio::test]
async fn an_erasure_without_a_hold_ends_the_session_with_the_data() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    let cookie = sign_in(&app, "ada@example.com", &id, 1).await;
    let erased = press(&app, &cookie, "erase").await;
    assert_eq!(erased.status(), StatusCode::OK);
    assert!(
        erased
            .text()
            .await
            .unwrap()
            .contains("Your data is deleted")
    );
    assert_eq!(app.count_rows("applications").await, 0);
    assert_eq!(app.count_rows("privacy_sessions").await, 0);
    // Nothing personal stays: not in the database, not in the mail files
    // (the acknowledgment and the sign-in mail went too), and the request
    // is on record without it.
    let after = crate::purge::dump_database(&app).await;
    // The phone in full: its digits alone turn up in hashes and timestamps.
    for secret in ["ada@example.com", "Ada Lovelace", "+44 20 7946 0000"] {
        assert!(!after.contains(secret), "{secret:?} stayed:\n{after}");
    }
    for text in crate::purge::mail_files(&app) {
        assert!(!text.contains("ada@example.com"), "a mail file stayed");
    }
    let requests = app.get_json(&app.admin_key, "/v1/subject-requests").await;
    assert_eq!(requests["items"][0]["status"], "done", "{requests}");
    let (status, _) = page(&app, &cookie, "/privacy/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn withdrawing_consent_or_objecting_puts_the_application_back_on_its_schedule() {
    let app = spawn_app_with(&[("retention.after_decision", "10d")]).await;
    let job = app.create_job("NL").await;
    let id = app
        .submit_ok(ApplicationForm::new(&job, "ada@example.com").set("talent_pool_consent", "true"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rejected = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &format!("/v1/applications/{id}/status"),
            &json!({ "status": "rejected" }),
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["retention"]["rule"], "consent", "{read}");
    let cookie = sign_in(&app, "ada@example.com", &id, 1).await;
    assert_eq!(
        press(&app, &cookie, "object").await.status(),
        StatusCode::SEE_OTHER
    );
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["retention"]["rule"], "after_decision", "{read}");
    // Done at once, and on record as such.
    let requests = app.get_json(&app.admin_key, "/v1/subject-requests").await;
    assert_eq!(requests["items"][0]["kind"], "objection", "{requests}");
    assert_eq!(requests["items"][0]["status"], "done");
    assert_eq!(read["talent_pool_consent"], false);
    // Past its schedule, it is due now.
    app.advance(Duration::from_secs(11 * 86_400));
    assert_eq!(purge(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn every_page_speaks_the_candidates_language() {
    let app = spawn_app().await;
    for (lang, title) in [
        ("en", "See and manage your data"),
        ("nl", "Uw gegevens inzien en beheren"),
        ("fr", "Consulter et gérer vos données"),
        ("de", "Ihre Daten einsehen und verwalten"),
    ] {
        // From the browser's preference, then from the switch.
        let by_header = browser()
            .get(app.url("/privacy/requests"))
            .header(header::ACCEPT_LANGUAGE, format!("{lang}-XX, en;q=0.5"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let by_switch = browser()
            .get(app.url(&format!("/privacy/requests?lang={lang}")))
            .header(header::ACCEPT_LANGUAGE, "es")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for body in [&by_header, &by_switch] {
            assert!(body.contains(&format!("<html lang=\"{lang}\"")), "{body}");
            assert!(body.contains(title), "{lang}: {body}");
            assert!(
                body.contains("aria-current"),
                "the switch shows the page's language"
            );
        }
        let (status, sent) = ask_for_link(&app, "nobody@example.com", lang).await;
        assert_eq!(status, StatusCode::OK);
        assert!(sent.contains(&format!("<html lang=\"{lang}\"")));
        let (status, invalid) =
            page(&app, "", &format!("/privacy/verify/nothing?lang={lang}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(invalid.contains(&format!("<html lang=\"{lang}\"")));
    }
    // The sign-in mail is in the language asked in.
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    ask_for_link(&app, "ada@example.com", "nl").await;
    let link = link_in_mail(&app, &id, 1).await;
    let messages = app.messages_until(&id, |_| true).await;
    let mail = messages.iter().find(|m| m["origin"] == LINK).unwrap();
    assert!(
        mail["subject"].as_str().unwrap().contains("Uw link"),
        "{mail}"
    );
    assert!(link.contains("/privacy/verify/"));
    app.stop().await;
}

#[tokio::test]
async fn forms_from_other_sites_and_floods_are_refused() {
    let app = spawn_app_with(&[("privacy.requests_per_minute_per_client", "2")]).await;
    let forged = browser()
        .post(app.url("/privacy/requests"))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(ask_for_link(&app, "ada@example.com", "en").await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    app.stop().await;
}

pub(crate) async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser()
        .post(app.url(path))
        .header(header::COOKIE, cookie)
        .header(header::ORIGIN, "null")
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn candidates_correct_their_details_and_ask_for_other_corrections() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    let others = apply(&app, &job, "grace@example.com").await;
    let cookie = sign_in(&app, "ada@example.com", &id, 1).await;
    let (_, body) = page(&app, &cookie, "/privacy/me").await;
    assert!(
        body.contains("value=\"Ada Lovelace\""),
        "the details are shown: {body}"
    );
    let corrected = post_form(
        &app,
        &cookie,
        "/privacy/me/correct",
        &[
            ("lang", "en"),
            ("application_id", &id),
            ("full_name", "Augusta Ada King"),
            ("phone", ""),
            ("linkedin_url", "https://www.linkedin.com/in/ada"),
            ("indeed_url", ""),
        ],
    )
    .await;
    assert_eq!(corrected.status(), StatusCode::SEE_OTHER);
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["full_name"], "Augusta Ada King");
    assert!(read.get("phone").is_none_or(Value::is_null), "{read}");
    assert_eq!(read["linkedin_url"], "https://www.linkedin.com/in/ada");
    // Recruiters see it on the history, done by the candidate.
    let history = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}/history"))
        .await;
    assert!(
        history.to_string().contains("application.rectified"),
        "{history}"
    );

    // Bad details: a page saying what is wrong, nothing changed.
    let refused = post_form(
        &app,
        &cookie,
        "/privacy/me/correct",
        &[
            ("lang", "fr"),
            ("application_id", &id),
            ("full_name", " "),
            ("phone", "12"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("lang=\"fr\"") && body.contains("Vérifiez les champs"),
        "{body}"
    );
    // Someone else's application: not found, not changed.
    let guessed = post_form(
        &app,
        &cookie,
        "/privacy/me/correct",
        &[
            ("lang", "en"),
            ("application_id", &others),
            ("full_name", "Mallory"),
        ],
    )
    .await;
    assert_eq!(guessed.status(), StatusCode::NOT_FOUND);
    let theirs = app
        .get_json(&app.admin_key, &format!("/v1/applications/{others}"))
        .await;
    assert_eq!(theirs["full_name"], "Ada Lovelace");

    let asked = post_form(
        &app,
        &cookie,
        "/privacy/me/correction-request",
        &[
            ("lang", "en"),
            ("details", "My degree is from 1835, not 1833."),
        ],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let blank = post_form(
        &app,
        &cookie,
        "/privacy/me/correction-request",
        &[("details", " ")],
    )
    .await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let open = app
        .get_json(&app.admin_key, "/v1/subject-requests?status=open")
        .await;
    let open = open["items"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["kind"], "rectification");
    let (_, body) = page(&app, &cookie, "/privacy/me").await;
    assert!(
        body.contains("Your open requests") && body.contains("Correction"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_acknowledgment_is_in_the_language_applied_in_and_links_the_privacy_pages() {
    let app = spawn_app().await;
    let job = app.create_job("BE").await;
    let mut subjects = Vec::new();
    for (locale, email) in [("fr-BE", "ada@example.com"), ("es", "grace@example.com")] {
        let id = app
            .submit_ok(ApplicationForm::new(&job, email).set("locale", locale))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let read = app
            .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
            .await;
        let messages = app.messages_until(&id, |items| !items.is_empty()).await;
        let ack = &messages[0];
        assert!(
            ack["body"]
                .as_str()
                .unwrap()
                .contains("/privacy/requests?lang="),
            "{ack}"
        );
        subjects.push((
            read["locale"].clone(),
            ack["subject"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(subjects[0].0, "fr", "a served language is recorded");
    assert!(subjects[0].1.starts_with("Nous avons reçu"), "{subjects:?}");
    assert!(subjects[1].0.is_null(), "Spanish is not served: English");
    assert!(subjects[1].1.starts_with("We received"), "{subjects:?}");
    let refused = app
        .try_submit(
            &app.admin_key,
            ApplicationForm::new(&job, "x@example.com").set("locale", "not a tag"),
        )
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

/// The names and `data.json` of a ZIP archive.
pub(crate) fn read_archive(bytes: &[u8]) -> (Vec<String>, Value) {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names = archive
        .file_names()
        .map(|name| name.unwrap().into_owned())
        .collect();
    let data = std::io::read_to_string(archive.by_name("data.json").unwrap()).unwrap();
    (names, serde_json::from_str(&data).unwrap())
}

#[tokio::test]
async fn candidates_download_their_data_and_admins_export_it_for_a_letter() {
    let app = spawn_app().await;
    let job = app.create_job("NL").await;
    let id = apply(&app, &job, "ada@example.com").await;
    let cookie = sign_in(&app, "ada@example.com", &id, 1).await;
    let response = browser()
        .get(app.url("/privacy/me/export?lang=nl"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let (names, data) = read_archive(&bytes);
    assert!(names.iter().any(|n| n == "summary.html"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("files/")), "{names:?}");
    assert_eq!(data["applications"][0]["id"], id.as_str(), "{data}");
    let requests = app.get_json(&app.admin_key, "/v1/subject-requests").await;
    assert_eq!(requests["items"][0]["kind"], "access");
    assert_eq!(requests["items"][0]["status"], "done");
    // Without a session: the page saying so, no data.
    let (status, _) = page(&app, "", "/privacy/me/export").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A request by letter: the admin exports the same archive.
    let created = app
        .send_json(
            Method::POST,
            &app.admin_key,
            "/v1/subject-requests",
            &json!({ "channel": "letter", "kind": "access", "email": "ADA@example.com",
                     "identity_evidence": "Signed letter, address matches" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let request: Value = created.json().await.unwrap();
    let path = format!(
        "/v1/subject-requests/{}/export",
        request["id"].as_str().unwrap()
    );
    let exported = app.get(&app.admin_key, &path).await;
    assert_eq!(exported.status(), StatusCode::OK);
    let (_, data) = read_archive(&exported.bytes().await.unwrap());
    assert_eq!(data["applications"][0]["id"], id.as_str());
    let recruiter = app.create_key("recruiter", false).await;
    assert_eq!(
        app.get(&recruiter, &path).await.status(),
        StatusCode::FORBIDDEN
    );
    let unknown = app
        .send_json(
            Method::POST,
            &app.admin_key,
            "/v1/subject-requests",
            &json!({ "channel": "email", "kind": "access", "email": "nobody@example.com",
                     "identity_evidence": "Replied from the address" }),
        )
        .await;
    let unknown: Value = unknown.json().await.unwrap();
    let path = format!(
        "/v1/subject-requests/{}/export",
        unknown["id"].as_str().unwrap()
    );
    assert_eq!(
        app.get(&app.admin_key, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}
