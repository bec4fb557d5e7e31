//! Real browsers: Debian's headless Chromium, driven over WebDriver by
//! chromedriver: the consent page on a 375 px wide phone, Swagger UI's "Try
//! it out", and the example careers page from `examples/careers-page/`
//! submitting an application from another origin.
//!
//! Without Chromium and chromedriver the tests say they skipped; with
//! `REQUIRE_BROWSER_TESTS` set (as CI does) they fail instead.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use applicant_vault::{
    domain::{
        keys::{hash_secret, random_token},
        lang::Lang,
    },
    edge::server::{ConnectionLimits, serve},
    pages::text::Texts,
    retention::links::CreateLink,
};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{ApplicationForm, TestApp, pdf, spawn_app_with};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How WebDriver names an element in its answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn browser_or_skip(test: &str) -> bool {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var_os("REQUIRE_BROWSER_TESTS").is_none(),
            "{test}: no Chromium or chromedriver, and REQUIRE_BROWSER_TESTS is set"
        );
        eprintln!("{test}: skipped (install chromium and chromium-driver to run it)");
    }
    present
}

/// A chromedriver process and one browser session in it.
struct Browser {
    driver: Child,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
    downloads: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        // A WebDriver command that hangs fails the test instead.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "mobileEmulation": { "deviceMetrics": { "width": 375, "height": 812, "pixelRatio": 2.0 } },
            "prefs": {
                "download.default_directory": downloads.path().display().to_string(),
                "download.prompt_for_download": false,
            },
        });
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "goog:loggingPrefs": { "browser": "ALL" },
            } } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"));
        Self {
            driver,
            session: format!("{base}/session/{id}"),
            http,
            _profile: profile,
            downloads,
        }
    }

    /// The ZIP file the browser downloads next (it is taken away, so that
    /// the one after is the next download); waits up to twenty seconds.
    async fn downloaded_zip(&self) -> Vec<u8> {
        for _ in 0..200 {
            let done = std::fs::read_dir(self.downloads.path())
                .unwrap()
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|path| path.extension().is_some_and(|e| e == "zip"));
            if let Some(path) = done {
                let bytes = std::fs::read(&path).unwrap();
                std::fs::remove_file(&path).unwrap();
                return bytes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no download arrived");
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The first element matching `css`, waiting up to ten seconds for it.
    async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no {css} in:\n{}\nconsole: {:?}",
            self.source().await,
            self.console_errors().await
        );
    }

    /// Waits up to ten seconds for the first `css` element to read `expected`
    /// (a click's navigation may still be under way).
    async fn wait_for_text(&self, css: &str, expected: &str) {
        let mut seen = String::new();
        for _ in 0..100 {
            if let Some(element) = self.try_find(css).await {
                seen = self.text(&element).await;
                if seen.trim() == expected {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css} reads {seen:?}, not {expected:?}, in:\n{}",
            self.source().await
        );
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let found = self
            .command(
                Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT].as_str().map(str::to_owned)
    }

    async fn click(&self, element: &str) {
        let done = self
            .command(
                Method::POST,
                &format!("/element/{element}/click"),
                Some(json!({})),
            )
            .await;
        assert!(done.is_null(), "click: {done}");
    }

    /// A click as input events (what a page without scripts gets from a
    /// person), not through chromedriver's scripted click.
    async fn press(&self, element: &str) {
        let done = self
            .command(
                Method::POST,
                "/actions",
                Some(json!({ "actions": [{
                    "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
                    "actions": [
                        { "type": "pointerMove", "duration": 0, "x": 0, "y": 0,
                          "origin": { ELEMENT: element } },
                        { "type": "pointerDown", "button": 0 },
                        { "type": "pointerUp", "button": 0 },
                    ],
                }] })),
            )
            .await;
        assert!(done.is_null(), "press: {done}");
    }

    async fn type_into(&self, element: &str, text: &str) {
        let done = self
            .command(
                Method::POST,
                &format!("/element/{element}/value"),
                Some(json!({ "text": text })),
            )
            .await;
        assert!(done.is_null(), "typing: {done}");
    }

    async fn clear(&self, element: &str) {
        self.command(
            Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
    }

    async fn text(&self, element: &str) -> String {
        self.command(Method::GET, &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn source(&self) -> String {
        self.command(Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn script(&self, script: &str) -> Value {
        self.command(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// What the page logged as errors (failed loads, CSP refusals).
    async fn console_errors(&self) -> Vec<String> {
        let logs = self
            .command(Method::POST, "/se/log", Some(json!({ "type": "browser" })))
            .await;
        logs.as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .filter_map(|entry| entry["message"].as_str().map(str::to_owned))
            .collect()
    }

    async fn quit(mut self) {
        let _ = self.http.delete(&self.session).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A loopback address no one listens on (yet).
async fn free_address() -> String {
    let placeholder = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    placeholder.local_addr().unwrap().to_string()
}

/// A live consent link for a fresh application of `app`.
async fn consent_link(app: &TestApp, job: &str, email: &str) -> (String, String) {
    let id = app.submit_ok(ApplicationForm::new(job, email)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = random_token();
    app.state
        .writer
        .run(CreateLink {
            token_hash: hash_secret(&token),
            application_id: id.parse().unwrap(),
            expires_at: chrono::Utc::now() + chrono::TimeDelta::days(1),
        })
        .await
        .unwrap();
    (id, app.url(&format!("/consent/{token}")))
}

/// The consent page on a 375 px phone: both buttons work from the page as
/// the browser shows it. The page holds no script and its policy forbids
/// any, so what works here works with JavaScript off.
#[tokio::test(flavor = "multi_thread")]
async fn a_candidate_keeps_or_deletes_from_the_consent_page_on_a_phone() {
    if !browser_or_skip("consent page") {
        return;
    }
    let app = spawn_app_with(&[("retention.after_decision", "30d")]).await;
    let job = app.create_job("DE").await;
    let browser = Browser::start().await;

    let (kept, link) = consent_link(&app, &job, "keep@example.com").await;
    browser.goto(&link).await;
    let keep = browser.find("form input[value=extend] ~ button").await;
    assert_eq!(browser.script("return window.innerWidth").await, 375);
    let fits = browser
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "no horizontal scroll at 375 px");
    assert_eq!(browser.script("return document.scripts.length").await, 0);
    assert_eq!(
        browser.script("return document.documentElement.lang").await,
        "en"
    );
    browser.press(&keep).await;
    browser.wait_for_text("h1", "Thank you").await;
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{kept}"))
        .await;
    assert_eq!(read["retention"]["rule"], "consent");

    let (deleted, link) = consent_link(&app, &job, "delete@example.com").await;
    browser.goto(&link).await;
    let delete = browser.find("button.secondary").await;
    browser.press(&delete).await;
    browser
        .wait_for_text("h1", "Your data will be deleted")
        .await;
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{deleted}"))
        .await;
    assert_eq!(read["retention"]["rule"], "erasure");

    // A used or unknown link is a page too, not JSON.
    browser.goto(&app.url("/consent/not-a-token")).await;
    browser.wait_for_text("h1", "This link is not valid").await;
    let errors = browser.console_errors().await;
    assert!(
        errors
            .iter()
            .all(|e| !e.contains("/consent/") || e.contains("404")),
        "the pages load clean: {errors:?}"
    );
    assert!(errors.len() <= 1, "only the 404 itself: {errors:?}");
    browser.quit().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn swagger_ui_authorizes_and_tries_out_creating_a_job() {
    if !browser_or_skip("swagger ui") {
        return;
    }
    // Swagger UI calls the server the spec names (`server.public_url`), so
    // the service listens where that says.
    let address = free_address().await;
    let public_url = format!("http://{address}");
    let app = spawn_app_with(&[
        ("server.listen", &address),
        ("server.public_url", &public_url),
    ])
    .await;
    let browser = Browser::start().await;
    browser.goto(&app.url("/docs")).await;
    let authorize = browser.find("button.authorize").await;
    browser.click(&authorize).await;
    let input = browser
        .find(".modal-ux input[type=text], .modal-ux input")
        .await;
    browser.type_into(&input, &app.admin_key).await;
    let confirm = browser.find(".modal-ux button.authorize").await;
    browser.click(&confirm).await;
    let close = browser
        .find(".modal-ux button.btn-done, .modal-ux .close-modal")
        .await;
    browser.click(&close).await;

    let operation = browser
        .find("#operations-Jobs-create_job .opblock-summary")
        .await;
    browser.click(&operation).await;
    let try_it = browser
        .find("#operations-Jobs-create_job .try-out__btn")
        .await;
    browser.click(&try_it).await;
    let body = browser
        .find("#operations-Jobs-create_job textarea.body-param__text")
        .await;
    browser.clear(&body).await;
    browser
        .type_into(&body, r#"{"title": "Tried out", "country": "DE"}"#)
        .await;
    let execute = browser
        .find("#operations-Jobs-create_job button.execute")
        .await;
    browser.click(&execute).await;
    browser
        .wait_for_text(
            "#operations-Jobs-create_job .live-responses-table tr.response .response-col_status",
            "201",
        )
        .await;
    let jobs = app.get_json(&app.admin_key, "/v1/jobs").await;
    assert!(
        jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|job| job["title"] == "Tried out")
    );
    let errors = browser.console_errors().await;
    assert!(
        errors
            .iter()
            .all(|e| !e.contains("Content Security Policy")),
        "the policy lets Swagger UI work: {errors:?}"
    );
    browser.quit().await;
    app.stop().await;
}

/// Serves the example careers page, pointed at `vault` with `key`, on
/// `listener`; dropping the sender stops it.
fn serve_careers_page(
    listener: tokio::net::TcpListener,
    vault: &str,
    key: &str,
) -> tokio::sync::oneshot::Sender<()> {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/careers-page/index.html"
    ))
    .unwrap()
    .replace("http://127.0.0.1:8080", vault)
    .replace("av_replace-with-your-publishable-key", key);
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let endpoint = poem::endpoint::make_sync(move |_| poem::web::Html(page.clone()));
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(10),
        max_connections: 64,
        shutdown_timeout: Duration::from_secs(1),
    };
    tokio::spawn(serve(listener, endpoint, limits, async {
        let _ = stopped.await;
    }));
    stop
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_careers_page_submits_an_application_from_its_origin_only() {
    if !browser_or_skip("careers page") {
        return;
    }
    // The page's port is known only once bound, so the listed origin is
    // taken first and the vault started with it.
    let listed = format!("http://{}", free_address().await);
    let app = spawn_app_with(&[("careers.origins", &listed)]).await;
    let key = app.create_key("careers-site", true).await;
    app.send_json(
        Method::POST,
        &app.admin_key,
        "/v1/jobs",
        &json!({ "title": "Analytical engineer", "country": "DE", "location": "Berlin" }),
    )
    .await;

    // Served from the listed origin: jobs load, the CV goes up.
    let listener = tokio::net::TcpListener::bind(listed.trim_start_matches("http://"))
        .await
        .unwrap();
    let stop = serve_careers_page(listener, &app.address, &key);
    let origin = listed.clone();
    let cv = pdf(40_000, 9);
    let cv_file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(cv_file.path(), &cv).unwrap();

    let browser = Browser::start().await;
    browser.goto(&origin).await;
    browser.find("#job option").await;
    for (name, value) in [
        ("full_name", "Ada Lovelace"),
        ("email", "ada.page@example.com"),
        ("phone", "+44 20 7946 0000"),
    ] {
        let input = browser.find(&format!("input[name={name}]")).await;
        browser.type_into(&input, value).await;
    }
    let file = browser.find("input[type=file]").await;
    browser
        .type_into(&file, &cv_file.path().display().to_string())
        .await;
    let submit = browser.find("button[type=submit]").await;
    browser.click(&submit).await;
    let result = browser.find("#result:not([hidden])").await;
    let text = browser.text(&result).await;
    let id = text
        .split("reference ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(")."))
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    let (read, bytes) = app.read_with_first_document(&id).await;
    assert_eq!(read["full_name"], "Ada Lovelace");
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        hex::encode(Sha256::digest(&cv)),
        "the CV arrives byte for byte"
    );
    let _ = stop.send(());

    // The same page from an origin not listed: the browser refuses it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}", listener.local_addr().unwrap());
    let stop_other = serve_careers_page(listener, &app.address, &key);
    browser.goto(&other).await;
    let error = browser.find("#error:not([hidden])").await;
    assert!(browser.text(&error).await.starts_with("Sorry"));
    assert!(browser.try_find("#job option").await.is_none());
    assert_eq!(app.count_rows("applications").await, 1);
    let _ = stop_other.send(());
    browser.quit().await;
    app.stop().await;
}

/// The privacy pages on a 375 px phone, in German from the browser's
/// preference: ask for a link, open it, confirm, restrict, then erase
/// everything, pressing the buttons as a person does. No script anywhere.
/// One candidate's rights in one language, from asking for a link to
/// erasing everything: correct, download, object, restrict, erase.
async fn every_right_in(browser: &Browser, app: &TestApp, job: &str, lang: Lang, heading: &str) {
    let t = Texts::of(lang);
    let email = format!("ada.{lang}@example.com");
    let cv = pdf(30_000, 4);
    let id = app
        .submit_ok(
            ApplicationForm::new(job, &email)
                .set("locale", &format!("{lang}-BE"))
                .file("cv", cv.clone(), "cv.pdf"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    browser
        .goto(&app.url(&format!("/privacy/requests?lang={lang}")))
        .await;
    browser.wait_for_text("h1", heading).await;
    assert_eq!(
        browser.script("return document.documentElement.lang").await,
        lang.as_str()
    );
    assert_eq!(browser.script("return document.scripts.length").await, 0);
    let fits = browser
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "no horizontal scroll at 375 px");
    let field = browser.find("input[type=email]").await;
    browser.type_into(&field, &email).await;
    let send = browser.find("form button[type=submit]").await;
    browser.press(&send).await;
    browser.wait_for_text("h1", t.sent_title).await;

    let link = crate::privacy::link_in_mail(app, &id, 1).await;
    browser.goto(&format!("{link}?lang={lang}")).await;
    let open = browser.find("form button[type=submit]").await;
    browser.press(&open).await;
    browser.wait_for_text("h1", t.me_title).await;
    let fits = browser
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "the data page fits a phone too");

    // Correct the name.
    let name = browser.find("input[name=full_name]").await;
    browser.clear(&name).await;
    browser.type_into(&name, "Ada King").await;
    let save = browser
        .find("form[action='/privacy/me/correct'] button")
        .await;
    browser.press(&save).await;
    browser.wait_for_text("p.notice", t.done_corrected).await;
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(read["full_name"], "Ada King", "{read}");

    // Download everything: the archive lands in the browser's downloads.
    let download = browser.find("a[href^='/privacy/me/export']").await;
    browser.press(&download).await;
    let archive = browser.downloaded_zip().await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a ZIP");
    let data: Value = serde_json::from_reader(zip.by_name("data.json").unwrap()).unwrap();
    assert_eq!(data["applications"][0]["id"], id.as_str());
    assert_eq!(data["applications"][0]["contact"]["full_name"], "Ada King");
    let summary = std::io::read_to_string(zip.by_name("summary.html").unwrap()).unwrap();
    assert!(summary.contains(&format!("lang=\"{lang}\"")), "{summary}");
    let file = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().into_owned())
        .find(|n| n.starts_with("files/"))
        .expect("the CV");
    let mut sent = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name(&file).unwrap(), &mut sent).unwrap();
    assert_eq!(sent, cv, "the CV byte for byte");

    // Object to the talent pool, then restrict processing.
    let object = browser
        .find("form[action='/privacy/me/object'] button")
        .await;
    browser.press(&object).await;
    browser.wait_for_text("p.notice", t.done_objected).await;
    let restrict = browser
        .find("form[action='/privacy/me/restrict'] button")
        .await;
    browser.press(&restrict).await;
    browser.wait_for_text("p.notice", t.done_restricted).await;
    let read = app
        .get_json(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert!(read["restricted_at"].is_string(), "{read}");

    // Erase everything, behind a confirmation.
    let erase = browser.find("a.danger").await;
    browser.press(&erase).await;
    let confirm = browser.find("button.danger").await;
    browser.press(&confirm).await;
    browser.wait_for_text("h1", t.erased_title).await;
    let gone = app
        .get(&app.admin_key, &format!("/v1/applications/{id}"))
        .await;
    assert_eq!(gone.status(), 404);
    // The session went with the data.
    browser
        .goto(&app.url(&format!("/privacy/me?lang={lang}")))
        .await;
    browser.wait_for_text("h1", t.expired_title).await;
}

/// Each language: a candidate exercises every right alone, on a phone.
#[tokio::test(flavor = "multi_thread")]
async fn a_candidate_exercises_every_right_on_the_privacy_pages_in_each_language() {
    if !browser_or_skip("privacy pages") {
        return;
    }
    let app = spawn_app_with(&[]).await;
    let job = app.create_job("BE").await;
    let browser = Browser::start().await;
    for (lang, heading) in [
        (Lang::De, "Ihre Daten einsehen und verwalten"),
        (Lang::En, "See and manage your data"),
        (Lang::Nl, "Uw gegevens inzien en beheren"),
        (Lang::Fr, "Consulter et gérer vos données"),
    ] {
        every_right_in(&browser, &app, &job, lang, heading).await;
    }
    assert_eq!(app.count_rows("applications").await, 0);
    browser.quit().await;
    app.stop().await;
}
