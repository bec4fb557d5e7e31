//! Starts the real server on a random port with a fresh database and store.
//! SQLite and a local folder by default; PostgreSQL when `TEST_DATABASE_URL`
//! is set (a fresh database per test, dropped afterwards) and S3 when
//! `TEST_S3_ENDPOINT` is set (a fresh prefix per test in `TEST_S3_BUCKET`).

use applicant_vault::{
    app::{AppState, Application},
    config::Settings,
    domain::keys::{Role, Secret},
    store::api_keys::CreateKey,
};
use futures_util::TryStreamExt;
use reqwest::multipart::{Form, Part};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

pub struct TestApp {
    pub address: String,
    /// The admin listener (`/metrics`).
    pub admin_address: String,
    pub client: reqwest::Client,
    pub admin_key: String,
    pub state: AppState,
    /// The settings as `APPLICANT_VAULT__…` variables, for running the CLI on
    /// the same database and store.
    pub env: Vec<(String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _database: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

/// The person test tools act for (`On-Behalf-Of`).
pub const ACTOR: &str = "recruiter-7";

/// Settings overrides as `(dotted.key, value)` pairs, like environment variables.
pub type Overrides<'a> = &'a [(&'a str, &'a str)];

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: Overrides<'_>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env: Vec<(String, String)> = vec![
        var("server.listen", "127.0.0.1:0"),
        var("server.admin_listen", "127.0.0.1:0"),
        var("storage.orphan_grace", "1h"),
    ];
    let database = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) => {
            let database = PgDatabase::create(&admin_url).await;
            env.push(var("database.url", &database.url));
            Some(database)
        }
        Err(_) => {
            let path = dir.path().join("vault.db");
            env.push(var(
                "database.url",
                &format!("sqlite://{}?mode=rwc", path.display()),
            ));
            None
        }
    };
    match std::env::var("TEST_S3_ENDPOINT") {
        Ok(endpoint) => {
            let bucket = std::env::var("TEST_S3_BUCKET")
                .unwrap_or_else(|_| "applicant-vault-test".to_owned());
            env.push(var(
                "storage.url",
                &format!("s3://{bucket}/test-{}", Uuid::new_v4().simple()),
            ));
            env.push(var("storage.options.aws_endpoint", &endpoint));
            env.push(var("storage.options.aws_allow_http", "true"));
            env.push(var("storage.options.aws_region", "us-east-1"));
            env.push(var("storage.options.aws_access_key_id", "testing"));
            env.push(var("storage.options.aws_secret_access_key", "testing"));
        }
        Err(_) => {
            let objects = dir.path().join("objects");
            env.push(var("storage.url", &format!("file://{}", objects.display())));
        }
    }
    // The file transport's folder is the test's own, whatever the transport.
    let outbox = dir.path().join("outbox");
    env.push(var("mail.dir", &outbox.display().to_string()));
    if let Ok(smtp_url) = std::env::var("TEST_SMTP_URL") {
        env.push(var("mail.transport", "smtp"));
        env.push(var("mail.smtp_url", &smtp_url));
    }
    env.extend(overrides.iter().map(|(k, v)| var(k, v)));
    start(env, database, dir).await
}

/// Starts the server on settings `env`, with a new admin key.
async fn start(
    env: Vec<(String, String)>,
    database: Option<PgDatabase>,
    dir: tempfile::TempDir,
) -> TestApp {
    let settings = Settings::from_layers(None, env.clone()).expect("test settings");
    let state = AppState::connect(settings).await.expect("connecting");
    let admin = Secret::generate();
    state
        .writer
        .run(CreateKey {
            name: "test admin".into(),
            role: Role::Admin,
            publishable: false,
            secret_hash: admin.hash(),
            actor: Default::default(),
        })
        .await
        .expect("admin key");
    let app = Application::build(state.clone()).await.expect("binding");
    let address = format!("http://127.0.0.1:{}", app.port());
    let admin_address = format!(
        "http://{}",
        app.admin_addr().expect("the tests serve metrics")
    );
    let (shutdown, stop) = oneshot::channel();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop.await;
    }));
    // The service purges and reminds once as it starts: a test begins after
    // that round, so that it never runs in the middle of the test (on a
    // loaded machine it can start late).
    for _ in 0..3000 {
        if state.metrics.retention_runs() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    TestApp {
        address,
        admin_address,
        client: reqwest::Client::new(),
        admin_key: admin.expose().to_owned(),
        state,
        env,
        shutdown: Some(shutdown),
        server: Some(server),
        _database: database,
        _dir: dir,
    }
}

fn var(key: &str, value: &str) -> (String, String) {
    (
        format!("APPLICANT_VAULT__{}", key.replace('.', "__").to_uppercase()),
        value.to_owned(),
    )
}

/// A test PDF of exactly `size` bytes (at least 17), distinct per `seed`.
pub fn pdf(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%".to_vec();
    bytes.extend((0..size.saturating_sub(17)).map(|i| b'a' + ((i as u8) ^ seed) % 26));
    bytes.extend_from_slice(b"\n%%EOF\n");
    bytes
}

pub fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    bytes
}

/// A valid intake form; tests change the fields they are about.
pub struct ApplicationForm {
    pub fields: Vec<(&'static str, String)>,
    pub files: Vec<(&'static str, Vec<u8>, &'static str)>,
}

impl ApplicationForm {
    pub fn new(job_id: &str, email: &str) -> Self {
        Self {
            fields: vec![
                ("job_id", job_id.to_owned()),
                ("full_name", "Ada Lovelace".to_owned()),
                ("email", email.to_owned()),
                ("phone", "+44 20 7946 0000".to_owned()),
                (
                    "cover_letter",
                    "I would love to work on engines.".to_owned(),
                ),
                ("privacy_notice_version", "2026-01".to_owned()),
                ("source", "careers-site".to_owned()),
            ],
            files: vec![("cv", pdf(2048, 1), "cv.pdf")],
        }
    }

    pub fn set(mut self, name: &'static str, value: &str) -> Self {
        self.fields.retain(|(n, _)| *n != name);
        self.fields.push((name, value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.fields.retain(|(n, _)| *n != name);
        self.files.retain(|(n, ..)| *n != name);
        self
    }

    pub fn file(mut self, name: &'static str, bytes: Vec<u8>, file_name: &'static str) -> Self {
        self.files.retain(|(n, ..)| *n != name);
        self.files.push((name, bytes, file_name));
        self
    }

    fn into_form(self) -> Form {
        let mut form = Form::new();
        for (name, value) in self.fields {
            form = form.text(name, value);
        }
        for (name, bytes, file_name) in self.files {
            // The client's claimed type is deliberately misleading: only bytes count.
            let part = Part::bytes(bytes)
                .file_name(file_name)
                .mime_str("application/pdf")
                .expect("mime");
            form = form.part(name, part);
        }
        form
    }
}

impl TestApp {
    /// Moves the service's clock forward: what would expire or fall due
    /// over `by` does so at once.
    pub fn advance(&self, by: std::time::Duration) {
        self.state.clock.advance(by);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn create_key(&self, role: &str, publishable: bool) -> String {
        let response = self
            .client
            .post(self.url("/v1/api-keys"))
            .bearer_auth(&self.admin_key)
            .json(
                &json!({ "name": format!("{role} key"), "role": role, "publishable": publishable }),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["secret"].as_str().unwrap().to_owned()
    }

    pub async fn create_job(&self, country: &str) -> String {
        let response = self
            .client
            .post(self.url("/v1/jobs"))
            .bearer_auth(&self.admin_key)
            .json(&json!({ "title": "Analytical engineer", "country": country }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn submit(
        &self,
        key: &str,
        form: ApplicationForm,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/v1/applications"))
            .bearer_auth(key)
            .multipart(form.into_form());
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        request.send().await.expect("request")
    }

    /// Submits without an Idempotency-Key; the error when no answer came.
    pub async fn try_submit(
        &self,
        key: &str,
        form: ApplicationForm,
    ) -> reqwest::Result<reqwest::Response> {
        self.client
            .post(self.url("/v1/applications"))
            .bearer_auth(key)
            .multipart(form.into_form())
            .send()
            .await
    }

    /// Submits a valid application as admin and returns its JSON.
    pub async fn submit_ok(&self, form: ApplicationForm) -> Value {
        let response = self.submit(&self.admin_key, form, None).await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    /// Submits a valid application as admin and returns it as a recruiter
    /// reads it (the submitter's answer holds ids and status only).
    pub async fn submit_and_read(&self, form: ApplicationForm) -> Value {
        let submitted = self.submit_ok(form).await;
        let id = submitted["id"].as_str().expect("an id");
        self.get_json(&self.admin_key, &format!("/v1/applications/{id}"))
            .await
    }

    /// Sends `body` as JSON with `method` to `path`.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        key: &str,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.json_request(method, key, path, body)
            .send()
            .await
            .expect("request")
    }

    /// Sends `body` as JSON like [`Self::send_json`], as a tool acting for [`ACTOR`].
    pub async fn act(
        &self,
        method: reqwest::Method,
        key: &str,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.json_request(method, key, path, body)
            .header("On-Behalf-Of", ACTOR)
            .send()
            .await
            .expect("request")
    }

    fn json_request(
        &self,
        method: reqwest::Method,
        key: &str,
        path: &str,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(key)
            .json(body)
    }

    /// GETs `path` and returns its JSON, asserting a 200.
    pub async fn get_json(&self, key: &str, path: &str) -> Value {
        let response = self.get(key, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON")
    }

    /// Asserts that the application's history holds each of these audit actions.
    pub async fn assert_history_has(&self, application_id: &str, expected: &[&str]) {
        let history = self
            .get_json(
                &self.admin_key,
                &format!("/v1/applications/{application_id}/history"),
            )
            .await;
        let actions: Vec<&str> = history["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for action in expected {
            assert!(actions.contains(action), "{action} in {actions:?}");
        }
    }

    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request")
    }

    /// The application as an admin reads it, and the bytes of its first
    /// document as an admin downloads them.
    pub async fn read_with_first_document(&self, id: &str) -> (Value, bytes::Bytes) {
        let application = self
            .get_json(&self.admin_key, &format!("/v1/applications/{id}"))
            .await;
        let document = application["documents"][0]["id"].as_str().unwrap();
        let bytes = self
            .get(
                &self.admin_key,
                &format!("/v1/applications/{id}/documents/{document}"),
            )
            .await
            .bytes()
            .await
            .unwrap();
        (application, bytes)
    }

    /// Every object key in the store.
    pub async fn object_keys(&self) -> Vec<String> {
        let objects: Vec<_> = self
            .state
            .blobs
            .list_documents()
            .try_collect()
            .await
            .expect("listing");
        objects.into_iter().map(|o| o.key).collect()
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        let row = self
            .state
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.state.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("a row");
        row.try_get("", "n").expect("n")
    }

    /// The mail with this Message-ID as the transport received it: from
    /// the maildir of the SMTP server at `TEST_SMTP_URL` (`TEST_SMTP_MAILDIR`),
    /// else from the `.eml` folder. Waits up to ten seconds for it.
    pub async fn received_mail(&self, message_id: &str) -> String {
        let header = format!("Message-ID: {message_id}");
        for _ in 0..100 {
            if let Some(mail) = self.mails().into_iter().find(|m| m.contains(&header)) {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no mail with {header} arrived");
    }

    /// Every mail the transport holds.
    pub fn mails(&self) -> Vec<String> {
        let folders = match std::env::var("TEST_SMTP_MAILDIR") {
            Ok(maildir) if std::env::var("TEST_SMTP_URL").is_ok() => {
                vec![format!("{maildir}/new"), format!("{maildir}/cur")]
            }
            _ => vec![self.state.settings.mail.dir.clone()],
        };
        folders
            .iter()
            .filter_map(|folder| std::fs::read_dir(folder).ok())
            .flatten()
            .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
            .collect()
    }

    /// Waits until `check` holds for the application's messages (ten seconds at most).
    pub async fn messages_until(
        &self,
        application_id: &str,
        check: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let path = format!("/v1/applications/{application_id}/messages");
        let mut items = Vec::new();
        for _ in 0..100 {
            let listed: Value = self.get(&self.admin_key, &path).await.json().await.unwrap();
            items = listed["items"].as_array().cloned().unwrap_or_default();
            if check(&items) {
                return items;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("messages never reached the expected state: {items:#?}");
    }

    /// Another instance of the service on the same database, store and
    /// mail folder (with its own admin key), as in a deployment of several.
    pub async fn second_instance(&self) -> TestApp {
        start(
            self.env.clone(),
            None,
            tempfile::tempdir().expect("temp dir"),
        )
        .await
    }

    /// Stops the server and starts a new one on the same database, store
    /// and mail folder (with a new admin key), as after a restart.
    pub async fn restart(mut self) -> TestApp {
        self.halt().await;
        let database = self._database.take();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        start(std::mem::take(&mut self.env), database, dir).await
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.halt().await;
    }

    async fn halt(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("join").expect("server result");
        }
    }
}

/// A PostgreSQL database made for one test and dropped after it: a copy of
/// a template this test process migrated once, so that no test waits for
/// the migrations.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

/// The migrated template of this process (`av_test_tpl_<pid>`).
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

fn database_url(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}

/// Makes and migrates this process's template, first dropping the templates
/// of test processes that are gone.
async fn migrated_template(admin_url: &str) -> String {
    use migration::{Migrator, MigratorTrait};
    let admin = Database::connect(admin_url)
        .await
        .expect("connecting to PostgreSQL");
    let stale = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'av_test_tpl_%'",
        ))
        .await
        .expect("listing templates");
    for row in stale {
        let name: String = row.try_get("", "datname").expect("a name");
        let pid = name.trim_start_matches("av_test_tpl_");
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
    let name = format!("av_test_tpl_{}", std::process::id());
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("dropping an earlier template");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating the template database");
    let template = Database::connect(database_url(admin_url, &name))
        .await
        .expect("connecting to the template");
    Migrator::up(&template, None)
        .await
        .expect("migrating the template");
    // A database is copied only while nobody is connected to it.
    template.close().await.expect("closing the template");
    name
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Self {
        let template = TEMPLATE.get_or_init(|| migrated_template(admin_url)).await;
        let name = format!("av_test_{}", Uuid::new_v4().simple());
        let admin = Database::connect(admin_url)
            .await
            .expect("connecting to PostgreSQL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("creating the test database from the template");
        Self {
            admin_url: admin_url.to_owned(),
            url: database_url(admin_url, &name),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs outside async context: use a small runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&sql).await;
                }
            });
        })
        .join();
    }
}
