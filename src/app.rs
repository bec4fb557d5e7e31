//! Builds the poem route and the shared state from settings, binds the
//! listener and runs until the shutdown future resolves.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use poem::{EndpointExt, Response, Route, endpoint::make_sync, http::StatusCode, web::Html};

use crate::{
    api,
    clock::Clock,
    config::Settings,
    domain::rate_limit::RateLimiter,
    edge::{
        self, body,
        body::BodyLimits,
        client::ClientAddress,
        cors::{self, CareersOrigins},
        headers::{self, DocsPolicy},
        routes::RouteTable,
        server::ConnectionLimits,
    },
    error::json_errors,
    pages,
    services::Services,
    worker,
};

/// The spec as committed in `openapi/openapi.yaml`, for the CLI.
pub fn spec_yaml() -> String {
    api::spec_yaml()
}

/// What every handler may use: the services core and, on top of it,
/// what only the HTTP layer needs. Cheap to clone; derefs to [`Services`].
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub limiter: Arc<Mutex<RateLimiter<Option<IpAddr>>>>,
    /// Sign-in requests of the privacy pages, per client address.
    pub privacy_limiter: Arc<Mutex<RateLimiter<Option<IpAddr>>>>,
    /// Calls to OAuth providers and picture hosts: no redirects, timed out.
    pub http: reqwest::Client,
    /// Who a request's client is, behind trusted proxies.
    pub client_address: ClientAddress,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl AppState {
    /// Connects the services core on the system clock.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        Ok(Self::over(
            Services::connect(settings, Clock::system()).await?,
        ))
    }

    /// The HTTP layer's state over a connected core.
    pub fn over(services: Services) -> Self {
        let careers = &services.settings.careers;
        let limiter = RateLimiter::new(careers.rate_limit_per_minute);
        let client_address = ClientAddress {
            header: Some(careers.client_ip_header.trim().to_owned())
                .filter(|header| !header.is_empty()),
            trusted_proxies: careers.trusted_proxies(),
        };
        Self {
            client_address,
            http: crate::oauth::http_client(services.settings.oauth.timeout.to_std()),
            limiter: Arc::new(Mutex::new(limiter)),
            privacy_limiter: Arc::new(Mutex::new(RateLimiter::new(
                services.settings.privacy.requests_per_minute_per_client,
            ))),
            services,
        }
    }
}

/// The whole HTTP surface: the API, its spec and Swagger UI, and the
/// candidate pages, behind the edge (see `crate::edge`). Outermost first:
/// the log and `Allow`, security headers, body limits, CORS, then routing.
pub fn routes(state: AppState) -> impl poem::Endpoint {
    let settings = Arc::clone(&state.settings);
    let metrics = Arc::clone(&state.metrics);
    let public_url = &settings.server.public_url;
    let public_origin = edge::origin_of(public_url).unwrap_or_default();
    let api = api::service(public_url);
    let raw_spec = api.spec();
    let spec = api::document(public_url).to_string();
    let routes = Arc::new(RouteTable::from_spec(&raw_spec));
    // Swagger UI embeds the document; give it the completed one.
    let docs_html = api.swagger_ui_html().replace(&raw_spec, &spec);
    let docs_policy = Arc::new(DocsPolicy::for_page(&docs_html));
    let docs = Html(docs_html);
    let spec_json = spec.clone();
    let origins = Arc::new(CareersOrigins {
        allowed: settings.careers.origins(),
        public_origin: public_origin.clone(),
    });
    let api_routes = json_errors(
        Route::new()
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
            // Browsers ask for it on every page; the service has no icon.
            .at(
                "/favicon.ico",
                make_sync(|_| {
                    Response::builder()
                        .status(StatusCode::NO_CONTENT)
                        .header("Cache-Control", "public, max-age=86400")
                        .finish()
                }),
            ),
    );
    let route = Route::new()
        .nest("/consent", pages::consent_routes(public_origin.clone()))
        .nest("/privacy", pages::privacy_routes(public_origin))
        .nest("/", api_routes);
    let uploads = &settings.uploads;
    let limits = BodyLimits {
        json: settings.server.max_json_bytes,
        form: settings.server.max_form_bytes,
        // Both files plus room for the text fields and multipart framing.
        intake: uploads.max_cv_bytes + uploads.max_picture_bytes + 1024 * 1024,
        // The CV in base64 (4 bytes for each 3) plus room for the rest of the JSON.
        indeed_apply: uploads.max_cv_bytes.div_ceil(3) * 4 + 1024 * 1024,
        idle: settings.server.body_idle_timeout.to_std(),
    };
    route
        .data(state)
        .around(move |next, req| cors::careers_cors(next, req, Arc::clone(&origins)))
        .around(move |next, req| body::limit_body(next, req, limits))
        .around(move |next, req| headers::security_headers(next, req, Arc::clone(&docs_policy)))
        .around(move |next, req| {
            edge::routes::log_and_allow(next, req, Arc::clone(&routes), Arc::clone(&metrics))
        })
}

/// The admin listener's routes: `/metrics` only.
fn admin_routes(services: Services) -> impl poem::Endpoint {
    Route::new().at(
        "/metrics",
        poem::endpoint::make(move |_| {
            let services = services.clone();
            async move {
                let text = services.metrics.scrape(&services).await;
                Response::builder()
                    .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
                    .body(text)
            }
        }),
    )
}

/// A bound, ready-to-run server; `port()` tells tests where it listens.
pub struct Application {
    state: AppState,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    /// `server.admin_listen`, unless set empty.
    admin: Option<(tokio::net::TcpListener, SocketAddr)>,
}

async fn bind(address: &str) -> anyhow::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))?;
    let local = listener
        .local_addr()
        .context("the listener has no address")?;
    Ok((listener, local))
}

impl Application {
    pub async fn build(state: AppState) -> anyhow::Result<Self> {
        let server = &state.settings.server;
        let (listener, local_addr) = bind(&server.listen).await?;
        let admin = match server.admin_listen.trim() {
            "" => None,
            address => Some(bind(address).await?),
        };
        Ok(Self {
            state,
            listener,
            local_addr,
            admin,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, address)| *address)
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
        let background = worker::spawn_background(self.state.services.clone())?;
        let mail_timeout = self.state.settings.mail.timeout.to_std() * 2 + Duration::from_secs(1);
        let server = &self.state.settings.server;
        let limits = ConnectionLimits {
            header_timeout: server.header_timeout.to_std(),
            max_connections: server.max_connections,
            shutdown_timeout: server.shutdown_timeout.to_std(),
        };
        let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin = self.admin.map(|(listener, _)| {
            let admin_limits = ConnectionLimits {
                max_connections: 16,
                ..limits
            };
            let endpoint = admin_routes(self.state.services.clone());
            tokio::spawn(edge::server::serve(
                listener,
                endpoint,
                admin_limits,
                async {
                    let _ = admin_stopped.await;
                },
            ))
        });
        let endpoint = routes(self.state);
        let result = edge::server::serve(self.listener, endpoint, limits, shutdown)
            .await
            .context("serving HTTP");
        let _ = stop_admin.send(());
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        background.stop(mail_timeout).await;
        result
    }
}
