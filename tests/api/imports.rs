//! "Apply with LinkedIn / Indeed" driven the way a browser does: follow each
//! redirect by hand, against a mock provider that checks each provider's
//! rules, then use the import once in the form.

use serde_json::{Value, json};

use crate::{
    helpers::{ApplicationForm, TestApp, png, spawn_app, spawn_app_with},
    mock_provider::{MockProvider, Style, TokenMode},
};

const RETURN_TO: &str = "http://localhost:3000/apply?job=engineer";

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 302, "expected a redirect");
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn linkedin_profile(mock: &MockProvider) -> Value {
    json!({
        "sub": "782bbtaQ",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
        "email_verified": true,
        "picture": mock.picture_url(),
        "locale": { "country": "GB", "language": "en" }
    })
}

/// The app with LinkedIn on one mock and Indeed on another.
struct Setup {
    app: TestApp,
    linkedin: MockProvider,
    indeed: MockProvider,
    job: String,
}

async fn setup(extra: &[(&str, &str)]) -> Setup {
    let linkedin = MockProvider::start(Style::Linkedin).await;
    let indeed = MockProvider::start(Style::Indeed).await;
    linkedin.set_profile(linkedin_profile(&linkedin));
    linkedin.set_picture(png());
    indeed
        .set_profile(json!({ "sub": "ind-1", "email": "ada@example.com", "email_verified": true }));
    let mut settings = linkedin.settings("linkedin");
    settings.extend(indeed.settings("indeed"));
    let mut overrides: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    overrides.push(("oauth.return_origins", "http://localhost:3000"));
    overrides.extend_from_slice(extra);
    let app = spawn_app_with(&overrides).await;
    let job = app.create_job("DE").await;
    Setup {
        app,
        linkedin,
        indeed,
        job,
    }
}

impl Setup {
    async fn start(&self, provider: &str, job: &str, return_to: &str) -> reqwest::Response {
        browser()
            .get(self.app.url(&format!("/oauth/{provider}/start")))
            .query(&[("job_id", job), ("return_to", return_to)])
            .send()
            .await
            .unwrap()
    }

    /// Start, then the provider's sign-in page; returns the callback URL the
    /// provider sends the browser to, pointed at the test server (which sits
    /// behind `server.public_url` as behind a proxy).
    async fn callback_url(&self, provider: &str) -> String {
        let to_provider = location(&self.start(provider, &self.job, RETURN_TO).await);
        let mock = if provider == "linkedin" {
            &self.linkedin
        } else {
            &self.indeed
        };
        assert!(to_provider.starts_with(&mock.address), "{to_provider}");
        let back = location(&browser().get(&to_provider).send().await.unwrap());
        let public = format!("http://127.0.0.1:8080/oauth/{provider}/callback?");
        assert!(back.starts_with(&public), "{back}");
        back.replace("http://127.0.0.1:8080", &self.app.address)
    }

    async fn follow(&self, callback: &str) -> reqwest::Response {
        browser().get(callback).send().await.unwrap()
    }

    /// The whole sign-in; returns the import id from the return URL.
    async fn import(&self, provider: &str) -> String {
        let callback = self.callback_url(provider).await;
        let back = location(&self.follow(&callback).await);
        result(&back, "import_id").unwrap_or_else(|| panic!("no import_id in {back}"))
    }

    async fn stop(self) {
        self.linkedin.stop();
        self.indeed.stop();
        self.app.stop().await;
    }
}

/// The value of `name` in a return URL on the careers site.
fn result(url: &str, name: &str) -> Option<String> {
    assert!(
        url.starts_with("http://localhost:3000/apply?job=engineer"),
        "{url}"
    );
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn form_with_import(job: &str, import_id: &str) -> ApplicationForm {
    ApplicationForm::new(job, "")
        .without("full_name")
        .without("email")
        .without("source")
        .set("import_id", import_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_linkedin_import_fills_what_the_form_left_empty_once() {
    let s = setup(&[]).await;
    let careers = s.app.create_key("careers-site", true).await;
    let import_id = s.import("linkedin").await;

    let import = s
        .app
        .get_json(&careers, &format!("/v1/imports/{import_id}"))
        .await;
    assert_eq!(import["provider"], "linkedin");
    assert_eq!(import["full_name"], "Ada Lovelace");
    assert_eq!(import["given_name"], "Ada");
    assert_eq!(import["email"], "ada@example.com");
    assert_eq!(import["locale"], "en-GB");
    assert_eq!(import["job_id"], s.job.as_str());
    assert_eq!(import["picture_url"], s.linkedin.picture_url().as_str());
    assert_eq!(
        s.linkedin.picture_requests(),
        0,
        "fetched only on submission"
    );

    let response = s
        .app
        .submit(
            &careers,
            form_with_import(&s.job, &import_id).set("phone", "+44 20 7946 0001"),
            None,
        )
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let submitted: Value = response.json().await.unwrap();
    let application = s
        .app
        .get_json(
            &s.app.admin_key,
            &format!("/v1/applications/{}", submitted["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(application["full_name"], "Ada Lovelace");
    assert_eq!(application["email"], "ada@example.com");
    assert_eq!(application["source"], "linkedin");
    assert_eq!(
        application["provenance"],
        json!({
            "full_name": "linkedin", "email": "linkedin", "phone": "form",
            "cover_letter": "form", "cv": "form", "picture": "linkedin"
        })
    );
    let picture = application["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "picture")
        .expect("the imported picture");
    assert_eq!(picture["content_type"], "image/png");
    let id = application["id"].as_str().unwrap();
    let download = s
        .app
        .get(
            &s.app.admin_key,
            &format!(
                "/v1/applications/{id}/documents/{}",
                picture["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(download.bytes().await.unwrap().to_vec(), png());
    assert_eq!(s.linkedin.picture_requests(), 1);
    assert!(
        s.linkedin.refusals().is_empty(),
        "{:?}",
        s.linkedin.refusals()
    );

    // Single use: gone from the API and refused a second time.
    assert_eq!(s.app.count_rows("oauth_imports").await, 0);
    let again = s
        .app
        .get(&careers, &format!("/v1/imports/{import_id}"))
        .await;
    assert_eq!(again.status(), 404);
    let reused = s
        .app
        .submit(&careers, form_with_import(&s.job, &import_id), None)
        .await;
    assert_eq!(reused.status(), 404);
    assert_eq!(s.app.count_rows("applications").await, 1);
    assert_eq!(s.app.object_keys().await.len(), 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_indeed_import_signs_in_with_pkce_and_basic_auth() {
    let s = setup(&[]).await;
    let import_id = s.import("indeed").await;
    assert!(s.indeed.refusals().is_empty(), "{:?}", s.indeed.refusals());
    let import = s
        .app
        .get_json(&s.app.admin_key, &format!("/v1/imports/{import_id}"))
        .await;
    assert_eq!(import["provider"], "indeed");
    assert_eq!(import["email"], "ada@example.com");
    assert!(import.get("full_name").is_none());

    // Indeed gives no name: the form gives it, and says so.
    let application = s
        .app
        .submit_and_read(form_with_import(&s.job, &import_id).set("full_name", "Ada King"))
        .await;
    assert_eq!(application["full_name"], "Ada King");
    assert_eq!(application["email"], "ada@example.com");
    assert_eq!(application["source"], "indeed");
    assert_eq!(application["provenance"]["full_name"], "form");
    assert_eq!(application["provenance"]["email"], "indeed");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mock_refuses_a_client_that_breaks_the_providers_rules() {
    // LinkedIn's style behind Indeed's settings (PKCE, basic auth) fails at the
    // provider, so the tests above would catch a client in the wrong style.
    let mock = MockProvider::start(Style::Linkedin).await;
    mock.set_profile(json!({ "name": "Ada" }));
    let mut settings = mock.settings("linkedin");
    for (key, value) in settings.iter_mut() {
        if key.ends_with(".credentials_in_body") {
            *value = "false".into();
        }
    }
    let overrides: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("oauth.return_origins", "http://localhost:3000")])
        .collect();
    let app = spawn_app_with(&overrides).await;
    let job = app.create_job("DE").await;
    let to_provider = location(
        &browser()
            .get(app.url("/oauth/linkedin/start"))
            .query(&[("job_id", job.as_str()), ("return_to", RETURN_TO)])
            .send()
            .await
            .unwrap(),
    );
    let back = location(&browser().get(&to_provider).send().await.unwrap())
        .replace("http://127.0.0.1:8080", &app.address);
    let to_site = location(&browser().get(&back).send().await.unwrap());
    assert_eq!(
        result(&to_site, "import_error").as_deref(),
        Some("provider_error")
    );
    assert_eq!(mock.refusals().len(), 1, "{:?}", mock.refusals());
    assert_eq!(app.count_rows("oauth_imports").await, 0);
    mock.stop();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_works_once_and_only_with_its_provider() {
    let s = setup(&[]).await;
    let callback = s.callback_url("linkedin").await;
    // Sent to the other provider's callback: refused, and not used up.
    let elsewhere = callback.replace("/oauth/linkedin/", "/oauth/indeed/");
    let response = s.follow(&elsewhere).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("state"),
        "{body}"
    );

    let first = s.follow(&callback).await;
    assert!(result(&location(&first), "import_id").is_some());
    let replay = s.follow(&callback).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(s.app.count_rows("oauth_imports").await, 1);
    assert_eq!(s.app.count_rows("oauth_states").await, 0);
    assert_eq!(
        s.linkedin.token_requests(),
        1,
        "a replay never reaches the provider"
    );

    let unknown = s.app.url("/oauth/linkedin/callback?code=x&state=made-up");
    assert_eq!(s.follow(&unknown).await.status(), 400);
    let missing = s.app.url("/oauth/linkedin/callback?code=x");
    assert_eq!(s.follow(&missing).await.status(), 400);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_state_is_refused() {
    let s = setup(&[("oauth.state_ttl", "1s")]).await;
    let callback = s.callback_url("linkedin").await;
    s.app.advance(std::time::Duration::from_millis(1500));
    let response = s.follow(&callback).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    assert_eq!(s.linkedin.token_requests(), 0);
    assert_eq!(s.app.count_rows("oauth_imports").await, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn return_to_must_be_on_an_allowed_origin() {
    let s = setup(&[]).await;
    for evil in [
        "https://evil.example/apply",
        "http://evil@localhost:3000/apply",
        "http://localhost:3000@evil.example/apply",
        "https://localhost:3000/apply",
        "http://localhost:3001/apply",
        "http://localhost:3000.evil.example/apply",
        "//evil.example/apply",
        "/apply",
        "javascript:alert(1)",
    ] {
        let response = s.start("linkedin", &s.job, evil).await;
        assert_eq!(response.status(), 400, "{evil}");
        assert!(response.headers().get("location").is_none());
    }
    assert_eq!(s.app.count_rows("oauth_states").await, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_is_not_open_sends_the_candidate_back_with_an_error() {
    let s = setup(&[]).await;
    let unknown = "01930000-0000-7000-8000-000000000000";
    let back = location(&s.start("linkedin", unknown, RETURN_TO).await);
    assert_eq!(
        result(&back, "import_error").as_deref(),
        Some("job_not_open")
    );
    assert_eq!(s.app.count_rows("oauth_states").await, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_errors_and_outages_return_to_the_careers_site_with_import_error() {
    let s = setup(&[]).await;
    s.linkedin.set_deny(true);
    let back = location(&s.follow(&s.callback_url("linkedin").await).await);
    assert_eq!(
        result(&back, "import_error").as_deref(),
        Some("access_denied")
    );
    s.linkedin.set_deny(false);

    s.linkedin.set_token_mode(TokenMode::Garbage);
    let back = location(&s.follow(&s.callback_url("linkedin").await).await);
    assert_eq!(
        result(&back, "import_error").as_deref(),
        Some("provider_unavailable")
    );
    s.linkedin.set_token_mode(TokenMode::Normal);

    // A code the provider does not know (a forged or replayed callback).
    let callback = s.callback_url("linkedin").await;
    let forged = regex_replace_code(&callback, "forged");
    let back = location(&s.follow(&forged).await);
    assert_eq!(
        result(&back, "import_error").as_deref(),
        Some("provider_error")
    );
    assert_eq!(s.app.count_rows("oauth_imports").await, 0);
    s.stop().await;

    // A token endpoint that does not answer at all.
    let closed = crate::smtp_sink::free_port();
    let token_url = format!("http://127.0.0.1:{closed}/token");
    let s = setup(&[("oauth.linkedin.token_url", &token_url)]).await;
    let started = std::time::Instant::now();
    let back = location(&s.follow(&s.callback_url("linkedin").await).await);
    assert_eq!(
        result(&back, "import_error").as_deref(),
        Some("provider_unavailable")
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(s.app.count_rows("oauth_imports").await, 0);
    s.stop().await;
}

fn regex_replace_code(callback: &str, code: &str) -> String {
    let mut url = url::Url::parse(callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code" {
                code.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn user_info_without_a_verified_email_imports_no_email() {
    let s = setup(&[]).await;
    s.linkedin
        .set_profile(json!({ "sub": "x", "name": "Ada Lovelace" }));
    let without = s.import("linkedin").await;
    s.linkedin.set_profile(json!({
        "sub": "x", "name": "Ada Lovelace", "email": "ada@example.com", "email_verified": false
    }));
    let unverified = s.import("linkedin").await;
    for import_id in [&without, &unverified] {
        let import = s
            .app
            .get_json(&s.app.admin_key, &format!("/v1/imports/{import_id}"))
            .await;
        assert_eq!(import["full_name"], "Ada Lovelace");
        assert!(import.get("email").is_none(), "{import}");
    }
    // The form must give the address; a refused form leaves the import usable.
    let refused = s
        .app
        .submit(&s.app.admin_key, form_with_import(&s.job, &without), None)
        .await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("email"),
        "{body}"
    );
    let application = s
        .app
        .submit_and_read(form_with_import(&s.job, &without).set("email", "ada@example.org"))
        .await;
    assert_eq!(application["email"], "ada@example.org");
    assert_eq!(application["provenance"]["email"], "form");
    assert_eq!(application["provenance"]["full_name"], "linkedin");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pictures_come_only_from_listed_hosts_and_within_the_size_limit() {
    let s = setup(&[("uploads.max_picture_bytes", "1000")]).await;
    // "localhost" is not in picture_hosts (only 127.0.0.1 is).
    let elsewhere = s.linkedin.picture_url().replace("127.0.0.1", "localhost");
    s.linkedin.set_profile(json!({
        "name": "Ada Lovelace", "email": "ada@example.com", "email_verified": true,
        "picture": elsewhere
    }));
    let import_id = s.import("linkedin").await;
    let import = s
        .app
        .get_json(&s.app.admin_key, &format!("/v1/imports/{import_id}"))
        .await;
    assert!(import.get("picture_url").is_none());
    let application = s
        .app
        .submit_and_read(form_with_import(&s.job, &import_id))
        .await;
    assert_eq!(application["documents"].as_array().unwrap().len(), 1);
    assert!(application["provenance"].get("picture").is_none());

    // Listed, but larger than the limit: left out, the application goes on.
    s.linkedin.set_profile(linkedin_profile(&s.linkedin));
    let mut big = png();
    big.resize(1001, 0);
    s.linkedin.set_picture(big);
    let import_id = s.import("linkedin").await;
    let application = s
        .app
        .submit_and_read(form_with_import(&s.job, &import_id).set("email", "ada2@example.com"))
        .await;
    assert_eq!(application["documents"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.linkedin.picture_requests(),
        1,
        "only the listed host was asked"
    );

    // A picture the form sends wins over the import's, which is not fetched.
    s.linkedin.set_picture(png());
    let import_id = s.import("linkedin").await;
    let application = s
        .app
        .submit_and_read(
            form_with_import(&s.job, &import_id)
                .set("email", "ada3@example.com")
                .file("picture", png(), "me.png"),
        )
        .await;
    assert_eq!(application["provenance"]["picture"], "form");
    assert_eq!(s.linkedin.picture_requests(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unused_import_is_deleted_when_it_expires() {
    let s = setup(&[("oauth.import_ttl", "1s"), ("oauth.sweep_interval", "1s")]).await;
    let import_id = s.import("linkedin").await;
    assert_eq!(s.app.count_rows("oauth_imports").await, 1);
    let mut gone = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if s.app.count_rows("oauth_imports").await == 0 {
            gone = true;
            break;
        }
    }
    assert!(gone, "the sweep deletes the expired import's row");
    let read = s
        .app
        .get(&s.app.admin_key, &format!("/v1/imports/{import_id}"))
        .await;
    assert_eq!(read.status(), 404);
    let submitted = s
        .app
        .submit(&s.app.admin_key, form_with_import(&s.job, &import_id), None)
        .await;
    assert_eq!(submitted.status(), 404);
    assert_eq!(s.app.count_rows("applications").await, 0);
    assert!(s.app.object_keys().await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_is_for_the_job_it_was_started_for() {
    let s = setup(&[]).await;
    let import_id = s.import("linkedin").await;
    let other = s.app.create_job("FR").await;
    let response = s
        .app
        .submit(&s.app.admin_key, form_with_import(&other, &import_id), None)
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(s.app.count_rows("applications").await, 0);
    assert_eq!(s.app.count_rows("oauth_imports").await, 1);
    s.stop().await;
}

#[tokio::test]
async fn providers_without_a_client_id_are_404() {
    let app = spawn_app().await;
    let job = app.create_job("DE").await;
    for path in [
        format!("/oauth/linkedin/start?job_id={job}&return_to=http://localhost:3000/"),
        "/oauth/indeed/callback?code=x&state=y".to_owned(),
    ] {
        let response = browser().get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let response = app
        .get(
            &app.admin_key,
            "/v1/imports/01930000-0000-4000-8000-000000000000",
        )
        .await;
    assert_eq!(response.status(), 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn starting_sign_ins_is_rate_limited_per_address() {
    let s = setup(&[("careers.rate_limit_per_minute", "2")]).await;
    for _ in 0..2 {
        assert_eq!(s.start("linkedin", &s.job, RETURN_TO).await.status(), 302);
    }
    let limited = s.start("linkedin", &s.job, RETURN_TO).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(s.app.count_rows("oauth_states").await, 2);
    s.stop().await;
}
