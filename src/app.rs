//! Builds the poem route and the shared state from settings, binds the
//! listener and runs until the shutdown future resolves.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use poem::{
    EndpointExt, Route, Server,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
    middleware::Cors,
};
use sea_orm::DatabaseConnection;

use crate::{
    api, blobs::Blobs, config::Settings, domain::rate_limit::RateLimiter, error::json_errors, jobs,
    store, telemetry,
};

/// What every handler may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub blobs: Blobs,
    pub settings: Arc<Settings>,
    pub limiter: Arc<Mutex<RateLimiter<Option<IpAddr>>>>,
}

impl AppState {
    /// Connects to the database (migrating it) and the object store.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let db = settings.database.connect().await?;
        store::migrate(&db).await?;
        let blobs = settings.storage.build()?;
        Ok(Self::new(settings, db, blobs))
    }

    pub fn new(settings: Settings, db: DatabaseConnection, blobs: Blobs) -> Self {
        let limiter = RateLimiter::new(settings.careers.rate_limit_per_minute);
        Self {
            db,
            blobs,
            settings: Arc::new(settings),
            limiter: Arc::new(Mutex::new(limiter)),
        }
    }
}

/// The whole HTTP surface: the API, its spec and Swagger UI.
pub fn routes(state: AppState) -> impl poem::Endpoint {
    let api = api::service(&state.settings.server.public_url);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let cors = Cors::new()
        .allow_origins(state.settings.careers.origins.iter().map(String::as_str))
        .allow_methods(["GET", "POST"])
        .allow_headers(["authorization", "content-type", "idempotency-key"])
        .max_age(600);
    let route = Route::new()
        .nest("/", api)
        .at("/openapi.json", spec)
        .nest("/docs", docs);
    json_errors(route.with(cors).data(state)).around(telemetry::log_request)
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
        let background = jobs::spawn_background(self.state.clone());
        let timeout: Duration = self.state.settings.server.shutdown_timeout();
        let endpoint = routes(self.state);
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(endpoint, shutdown, Some(timeout))
            .await
            .context("serving HTTP");
        background.abort();
        result
    }
}
