//! The HTTP API: one `#[OpenApi]` struct per resource, combined here.

pub mod api_keys;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod country;
pub mod documents;
pub mod health;
pub mod intake;
pub mod jobs;

use poem_openapi::{OpenApiService, Tags};

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness.
    Operations,
    /// Job openings.
    Jobs,
    /// Applications: intake by the careers site, reads and corrections by recruiters.
    Applications,
    /// Files of an application.
    Documents,
    /// API keys (admin).
    ApiKeys,
    /// The audit log of access to personal data (admin).
    Audit,
}

pub type Api = (
    health::HealthApi,
    jobs::JobsApi,
    applications::ApplicationsApi,
    documents::DocumentsApi,
    api_keys::ApiKeysApi,
    audit::AuditApi,
);

pub fn service(server_url: &str) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            health::HealthApi,
            jobs::JobsApi,
            applications::ApplicationsApi,
            documents::DocumentsApi,
            api_keys::ApiKeysApi,
            audit::AuditApi,
        ),
        "applicant-vault",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Holds one employer's job-applicant data and forgets it on schedule. \
         Authenticate with `Authorization: Bearer KEY`; each operation names the roles it accepts.",
    )
    .server(server_url)
}

/// The spec as committed in `openapi/openapi.yaml`, independent of settings.
pub fn spec_yaml() -> String {
    service("http://127.0.0.1:8080").spec_yaml()
}

/// Page size: default 50, at most 200.
pub fn page_limit(limit: Option<u64>) -> u64 {
    limit.unwrap_or(50).clamp(1, 200)
}
