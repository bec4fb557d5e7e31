//! Builds the poem route and the shared state from settings, binds the
//! listener and runs until the shutdown future resolves.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server,
    endpoint::make_sync,
    get,
    http::{Method, StatusCode, header},
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
    middleware::Cors,
    web::Html,
};
use sea_orm::DatabaseConnection;
use tokio::io::AsyncReadExt;

use crate::{
    api,
    blobs::Blobs,
    config::Settings,
    domain::{keys::HashKey, rate_limit::RateLimiter, retention::Policy},
    error::{json_errors, json_response},
    jobs,
    store::{
        secrets::{self, EnsureKey},
        writer::Writer,
    },
    telemetry,
};

/// What every handler may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// For reads; on SQLite, a pool whose connections read beside the writer.
    pub db: DatabaseConnection,
    /// The one way to write (see `store::writer`).
    pub writer: Writer,
    pub blobs: Blobs,
    pub settings: Arc<Settings>,
    /// The retention policy, checked when the settings were loaded.
    pub policy: Arc<Policy>,
    pub limiter: Arc<Mutex<RateLimiter<Option<IpAddr>>>>,
    /// Wakes the mail deliverer when a mail is queued.
    pub mail_queued: Arc<tokio::sync::Notify>,
    /// Calls to OAuth providers and picture hosts: no redirects, timed out.
    pub http: reqwest::Client,
    /// Keys the hashes of intake keys, request fingerprints and tombstones.
    pub intake_hash: HashKey,
}

impl AppState {
    /// Connects to the database (migrating it) and the object store.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let writer = settings.database.connect_writer().await?;
        let db = settings.database.connect_reader().await?;
        let blobs = settings.storage.build()?;
        let intake_hash = writer
            .run(EnsureKey {
                name: secrets::INTAKE,
                now: chrono::Utc::now(),
            })
            .await
            .context("reading the service's keys")?;
        let limiter = RateLimiter::new(settings.careers.rate_limit_per_minute);
        let policy = settings
            .policy()
            .expect("settings are validated when they are loaded");
        Ok(Self {
            intake_hash,
            http: crate::oauth::http_client(settings.oauth.timeout()),
            policy: Arc::new(policy),
            db,
            writer,
            blobs,
            settings: Arc::new(settings),
            limiter: Arc::new(Mutex::new(limiter)),
            mail_queued: Arc::new(tokio::sync::Notify::new()),
        })
    }
}

/// The whole HTTP surface: the API, its spec and Swagger UI.
pub fn routes(state: AppState) -> impl poem::Endpoint {
    let api = api::service(&state.settings.server.public_url);
    let raw_spec = api.spec();
    let spec = api::document(&state.settings.server.public_url).to_string();
    let allowed = Arc::new(AllowedMethods::from_spec(&raw_spec));
    // Swagger UI embeds the document; give it the completed one.
    let docs = Html(api.swagger_ui_html().replace(&raw_spec, &spec));
    let spec_json = spec.clone();
    let cors = Cors::new()
        .allow_origins(state.settings.careers.origins.iter().map(String::as_str))
        .allow_methods(["GET", "POST"])
        .allow_headers(["authorization", "content-type", "idempotency-key"])
        .max_age(600);
    let route = Route::new()
        .nest("/", api)
        .at(
            "/openapi.json",
            make_sync(move |_| {
                Response::builder()
                    .content_type("application/json")
                    .body(spec_json.clone())
            }),
        )
        .nest("/docs", make_sync(move |_| docs.clone()))
        .at(
            "/consent/:token",
            get(api::consent_pages::show).post(api::consent_pages::act),
        );
    let uploads = &state.settings.uploads;
    let limits = BodyLimits {
        // Both files plus room for the text fields and multipart framing.
        intake: uploads.max_cv_bytes + uploads.max_picture_bytes + 1024 * 1024,
        // The CV in base64 (4 bytes for each 3) plus room for the rest of the JSON.
        indeed_apply: uploads.max_cv_bytes.div_ceil(3) * 4 + 1024 * 1024,
    };
    json_errors(route.with(cors).data(state))
        .around(move |next, req| limit_upload_body(next, req, limits))
        .around(move |next, req| add_allow_header(next, req, allowed.clone()))
        .around(telemetry::log_request)
}

/// The methods each documented path answers, for the `Allow` header that a
/// 405 must carry.
struct AllowedMethods(Vec<(Vec<String>, String)>);

impl AllowedMethods {
    fn from_spec(spec_json: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec_json).unwrap_or_default();
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        Self(
            paths
                .into_iter()
                .map(|(path, operations)| {
                    let segments = path.split('/').map(str::to_owned).collect();
                    let methods = operations
                        .as_object()
                        .map(|ops| {
                            ops.keys()
                                .map(|m| m.to_uppercase())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    (segments, methods)
                })
                .collect(),
        )
    }

    fn for_path(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(template, methods)| {
            let fits = template.len() == parts.len()
                && template
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()));
            fits.then_some(methods.as_str())
        })
    }
}

async fn add_allow_header<E: Endpoint>(
    next: E,
    req: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = next.call(req).await?.into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allowed.for_path(&path)
        && let Ok(value) = methods.parse()
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Ok(response)
}

/// The largest bodies the routes that take files accept.
#[derive(Clone, Copy)]
struct BodyLimits {
    intake: u64,
    indeed_apply: u64,
}

/// Refuses an intake body larger than any valid one before it is spooled to
/// disk: by its Content-Length (413), or, for a chunked body, by cutting it
/// off at the limit so the form fails to parse (400).
async fn limit_upload_body<E: Endpoint>(
    next: E,
    mut req: Request,
    limits: BodyLimits,
) -> poem::Result<Response> {
    let limit = match req.uri().path() {
        "/v1/applications" => Some(limits.intake),
        "/v1/integrations/indeed-apply" => Some(limits.indeed_apply),
        _ => None,
    };
    if req.method() == Method::POST
        && let Some(max_body) = limit
    {
        let declared = req
            .header(header::CONTENT_LENGTH)
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(length) if length > max_body => {
                return Ok(json_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    &format!("the request is larger than {max_body} bytes"),
                ));
            }
            Some(_) => {}
            None => {
                let body = req.take_body().into_async_read().take(max_body);
                req.set_body(Body::from_async_read(body));
            }
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// A bound, ready-to-run server; `port()` tells tests where it listens.
pub struct Application {
    state: AppState,
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
}

impl Application {
    pub async fn build(state: AppState) -> anyhow::Result<Self> {
        let listen = state.settings.server.listen.clone();
        let acceptor = TcpListener::bind(listen.as_str())
            .into_acceptor()
            .await
            .with_context(|| format!("binding {listen}"))?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .context("the listener has no address")?;
        Ok(Self {
            state,
            acceptor,
            local_addr,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves, with background jobs beside, until `shutdown` resolves; then
    /// lets in-flight requests finish within the configured timeout.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let background = jobs::spawn_background(self.state.clone())?;
        let mail_timeout = Duration::from_secs(self.state.settings.mail.timeout_secs * 2 + 1);
        let timeout: Duration = self.state.settings.server.shutdown_timeout();
        let endpoint = routes(self.state);
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(endpoint, shutdown, Some(timeout))
            .await
            .context("serving HTTP");
        background.stop(mail_timeout).await;
        result
    }
}
