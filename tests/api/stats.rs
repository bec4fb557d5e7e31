//! The partner statistics over HTTP: who may read them, what they count
//! (exactly, with noise off), that a release never changes (repeated reads,
//! purges, restarts), that noise is there and stated when on, and that
//! months are published only once closed.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ApplicationForm, TestApp, spawn_app_with};

const PATH: &str = "/v1/stats/applications";

async fn set_status(app: &TestApp, id: &str, status: &str) {
    let response = app
        .send_json(
            Method::POST,
            &app.admin_key,
            &format!("/v1/applications/{id}/status"),
            &json!({ "status": status }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "to {status}");
}

async fn apply(app: &TestApp, job: &str, email: &str, source: &str) -> String {
    let form = ApplicationForm::new(job, email).set("source", source);
    app.submit_ok(form).await["id"].as_str().unwrap().to_owned()
}

/// Moves the clock just past the next release.
async fn until_published(app: &TestApp, key: &str) {
    let table = app.get_json(key, PATH).await;
    let next: chrono::DateTime<chrono::Utc> =
        table["next_release_at"].as_str().unwrap().parse().unwrap();
    let wait = (next - app.state.now()).to_std().unwrap() + Duration::from_secs(60);
    app.advance(wait);
}

async fn purge(app: &TestApp) -> usize {
    applicant_vault::retention::service::run(&app.state, &|_| {})
        .await
        .unwrap()
        .applications
}

/// The row of a source and country in a month's release.
fn row<'a>(month: &'a Value, source: &str, country: &str) -> &'a Value {
    month["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == source && r["country"] == country)
        .unwrap_or_else(|| panic!("a row for {source} {country}"))
}

fn counts(row: &Value) -> [i64; 5] {
    ["applications", "hired", "rejected", "withdrawn", "open"].map(|m| {
        row[m]
            .as_i64()
            .unwrap_or_else(|| panic!("{m} shown in {row}"))
    })
}

#[tokio::test]
async fn partners_read_the_true_counts_without_noise_and_they_never_change() {
    let app = spawn_app_with(&[
        ("stats.noise", "false"),
        ("stats.publish_delay", "1d"),
        ("stats.sources", "jobfair"),
        ("retention.after_decision", "1d"),
    ])
    .await;
    let partner = app.create_key("partner", false).await;
    let nl = app.create_job("NL").await;
    let fr = app.create_job("FR").await;

    // Ada applies twice this month: only her first application counts.
    let ada = apply(&app, &nl, "ada@example.com", "careers-site").await;
    let ada_again = apply(&app, &fr, "ADA@example.com", "jobfair").await;
    let grace = apply(&app, &nl, "grace@example.com", "jobfair").await;
    let _linus = apply(&app, &fr, "linus@example.com", "linkedin").await;
    let dennis = apply(&app, &nl, "dennis@example.com", "careers-site").await;
    set_status(&app, &ada, "rejected").await;
    set_status(&app, &ada_again, "rejected").await;
    for status in ["screening", "interview", "offer", "hired"] {
        set_status(&app, &grace, status).await;
    }

    for role in ["recruiter", "careers-site"] {
        let key = app.create_key(role, false).await;
        let response = app.get(&key, PATH).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
    }
    // The month is open: nothing is published, and the answer says when.
    let table = app.get_json(&partner, PATH).await;
    assert_eq!(table["months"], json!([]));
    assert_eq!(app.count_rows("stats_releases").await, 0);

    until_published(&app, &partner).await;
    // The decided applications go before anyone reads the month: their
    // counts come from the purge's counters.
    assert_eq!(purge(&app).await, 3);
    let table = app.get_json(&partner, PATH).await;
    let months = table["months"].as_array().unwrap();
    assert_eq!(months.len(), 1, "{table}");
    let month = &months[0];
    assert!(month.get("epsilon").is_none(), "no noise, no epsilon");
    assert_eq!(month["noise_scale"], 0.0);
    assert_eq!(month["error_bound_95"], 0);
    assert_eq!(month["sensitivity"], 2);
    //                                       apps hired rejected withdrawn open
    assert_eq!(counts(row(month, "form", "NL")), [2, 0, 1, 0, 1]);
    assert_eq!(counts(row(month, "jobfair", "NL")), [1, 1, 0, 0, 0]);
    // "linkedin" sent by the form is not a channel: the form's row.
    assert_eq!(counts(row(month, "form", "FR")), [1, 0, 0, 0, 1]);
    assert_eq!(counts(row(month, "jobfair", "FR")), [0, 0, 0, 0, 0]);
    let rows = month["rows"].as_array().unwrap();
    // Every source (4 channels, the label, other) for both countries.
    assert_eq!(rows.len(), 6 * 2);
    let total: i64 = rows.iter().map(|r| counts(r)[0]).sum();
    assert_eq!(total, 4, "four candidates, one application each");

    // Decisions and purges after the release change nothing in it, nor
    // does a restart; a second read spends nothing more.
    set_status(&app, &dennis, "withdrawn").await;
    app.advance(Duration::from_secs(2 * 86_400));
    assert_eq!(purge(&app).await, 1);
    let app = app.restart().await;
    // (The restart set the clock back to today: name the month.)
    let name = month["month"].as_str().unwrap();
    let again = app
        .get_json(&partner, &format!("{PATH}?from={name}&to={name}"))
        .await;
    assert_eq!(again["months"][0]["rows"], month["rows"]);
    assert_eq!(
        again["months"][0]["budget_spent_at"],
        month["budget_spent_at"]
    );
    assert_eq!(app.count_rows("stats_ledger").await, 1);
    // The admin's key has a budget of its own.
    app.get_json(&app.admin_key, &format!("{PATH}?from={name}&to={name}"))
        .await;
    assert_eq!(app.count_rows("stats_ledger").await, 2);
    app.stop().await;
}

#[tokio::test]
async fn noisy_releases_state_their_guarantee_and_answer_the_same_every_time() {
    let app = spawn_app_with(&[
        ("stats.epsilon_per_month", "0.5"),
        ("stats.publish_delay", "1d"),
        ("stats.min_count", "3"),
    ])
    .await;
    let partner = app.create_key("partner", false).await;
    let nl = app.create_job("NL").await;
    app.create_job("DE").await;
    for i in 0..12 {
        apply(&app, &nl, &format!("c{i}@example.com"), "careers-site").await;
    }
    until_published(&app, &partner).await;
    let table = app.get_json(&partner, PATH).await;
    let month = &table["months"][0];
    assert_eq!(month["epsilon"], "0.5");
    assert_eq!(month["noise_scale"], 4.0, "sensitivity 2 / epsilon 0.5");
    // P(|X| > b) = 2 p^(b+1) / (1 + p) with p = exp(-1/4): b = 12.
    assert_eq!(month["error_bound_95"], 12);
    assert_eq!(month["min_count"], 3);
    assert!(
        table["guarantee"]
            .as_str()
            .unwrap()
            .contains("differentially private")
    );
    let values: Vec<&Value> = month["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| ["applications", "hired", "rejected", "withdrawn", "open"].map(|m| &r[m]))
        .collect();
    // Four channels and `other`, for both countries.
    assert_eq!(values.len(), 5 * 2 * 5);
    // Hidden under min_count, or at least min_count.
    assert!(
        values
            .iter()
            .all(|v| v.is_null() || v.as_u64().unwrap() >= 3)
    );
    assert!(values.iter().any(|v| v.is_null()));
    // 48 cells have a true count of 0; noise of scale 4 lifts each to 3 or
    // more with probability about 0.26, so all 48 stay hidden with
    // probability about 4e-7. Without noise none would show.
    let nl_form = row(month, "form", "NL");
    let lifted = values.len()
        - values.iter().filter(|v| v.is_null()).count()
        - [&nl_form["applications"], &nl_form["open"]]
            .iter()
            .filter(|v| !v.is_null())
            .count();
    assert!(lifted > 0, "noise must lift some zero: {month}");

    // The same values on every read, from every key.
    let again = app.get_json(&partner, PATH).await;
    assert_eq!(again["months"], table["months"]);
    let other = app.create_key("partner", false).await;
    let theirs = app.get_json(&other, PATH).await;
    assert_eq!(theirs["months"][0]["rows"], month["rows"]);
    app.stop().await;
}

#[tokio::test]
async fn a_range_is_checked_and_months_before_the_first_job_are_not_released() {
    let app = spawn_app_with(&[("stats.noise", "false"), ("stats.publish_delay", "0s")]).await;
    let partner = app.create_key("partner", false).await;
    for bad in ["from=2026-13", "to=26-01", "from=1999-12", "to=2026-1"] {
        let response = app.get(&partner, &format!("{PATH}?{bad}")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].as_str().is_some(), "{bad}: {body}");
    }
    // No job yet: nothing to release, whatever the range.
    let table = app.get_json(&partner, PATH).await;
    assert_eq!(table["months"], json!([]));
    app.create_job("NL").await;
    until_published(&app, &partner).await;
    use chrono::Datelike;
    let now = app.state.now();
    let this_month = now.format("%Y-%m");
    let last_month = (now - chrono::TimeDelta::days(now.day().into())).format("%Y-%m");
    // A `from` after `to` selects nothing; a `to` in the future ends at the
    // last published month; a range wider than 36 months keeps its last 36.
    for (range, released) in [
        (format!("from={last_month}&to=2001-01"), 0),
        (format!("from={last_month}&to=9999-12"), 1),
        (format!("from=2000-01&to={last_month}"), 1),
        (format!("from={this_month}"), 0),
    ] {
        let table = app.get_json(&partner, &format!("{PATH}?{range}")).await;
        let months = table["months"].as_array().unwrap();
        assert_eq!(months.len(), released, "{range}: {table}");
    }
    let from = (now - chrono::TimeDelta::days(200)).format("%Y-%m");
    let table = app.get_json(&partner, &format!("{PATH}?from={from}")).await;
    let months = table["months"].as_array().unwrap();
    assert_eq!(months.len(), 1, "only the month the first job was made in");
    assert_eq!(app.count_rows("stats_releases").await, 1);
    app.stop().await;
}
