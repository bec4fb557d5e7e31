//! The HTTP API: one `#[OpenApi]` struct per resource, combined here.

pub mod api_keys;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod country;
pub mod documents;
pub mod health;
pub mod holds;
pub mod imports;
pub mod indeed_apply;
pub mod intake;
pub mod interviews;
pub mod jobs;
pub mod json;
pub mod messages;
pub mod notes;
pub mod oauth;
pub mod pipeline;
pub mod receipts;
mod receive;
pub mod spec;
pub mod stats;
pub mod subject_requests;
pub mod text;
pub mod upload;

use poem_openapi::{OpenApiService, Tags, types::MaybeUndefined};

use crate::error::{ApiError, ApiResult};

/// Implements poem-openapi's `Type` for a field type that is its own raw
/// value, with the given schema name and schema.
macro_rules! impl_field_type {
    ($ty:ty, $name:expr, $schema:expr) => {
        impl poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                $schema
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }
    };
}
pub(crate) use impl_field_type;

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
    /// "Apply with LinkedIn / Indeed": the candidate's sign-in (in the
    /// browser) and the imported profile that prefills the form.
    Imports,
    /// Applications that job boards post by themselves.
    Integrations,
    /// Anonymous statistics for partners, with differential privacy.
    Statistics,
    /// Data-subject requests (access, rectification, erasure, restriction,
    /// objection, withdrawal of consent) and their deadlines (admin).
    SubjectRequests,
}

/// Declares the API's parts once: the `Api` type and the value serving it.
/// The parts come in groups, since poem-openapi combines at most 16 in one
/// tuple.
macro_rules! api {
    ($(($($module:ident::$part:ident),+ $(,)?)),+ $(,)?) => {
        pub type Api = ($(($($module::$part,)+),)+);

        fn parts() -> Api {
            ($(($($module::$part,)+),)+)
        }
    };
}

api!(
    // The recruitment procedure.
    (
        health::HealthApi,
        jobs::JobsApi,
        applications::ApplicationsApi,
        pipeline::PipelineApi,
        notes::NotesApi,
        interviews::InterviewsApi,
        messages::MessagesApi,
        holds::HoldsApi,
        receipts::ReceiptsApi,
        documents::DocumentsApi,
    ),
    // Administration and the privacy officer.
    (
        api_keys::ApiKeysApi,
        audit::AuditApi,
        subject_requests::SubjectRequestsApi,
    ),
    // Candidates' sign-ins, job boards and partners.
    (
        oauth::OAuthApi,
        imports::ImportsApi,
        indeed_apply::IndeedApplyApi,
        stats::StatsApi,
    ),
);

pub fn service(server_url: &str) -> OpenApiService<Api, ()> {
    OpenApiService::new(parts(), "applicant-vault", env!("CARGO_PKG_VERSION"))
        .description(
            "Holds one employer's job-applicant data and forgets it on schedule. \
             Authenticate with `Authorization: Bearer KEY`; each operation names the roles it accepts.",
        )
        .license(poem_openapi::LicenseObject::new("Apache-2.0").url("https://www.apache.org/licenses/LICENSE-2.0"))
        .server(server_url)
}

pub use spec::{document, spec_yaml};

/// A field that may be left out but not set to null.
pub fn not_null<T>(field: &str, value: MaybeUndefined<T>) -> ApiResult<Option<T>> {
    match value {
        MaybeUndefined::Null => Err(ApiError::bad_request(format!("{field}: must not be null"))),
        MaybeUndefined::Value(value) => Ok(Some(value)),
        MaybeUndefined::Undefined => Ok(None),
    }
}

/// Page size: default 50, at most 200.
pub fn page_limit(limit: Option<u64>) -> u64 {
    limit.unwrap_or(50).clamp(1, 200)
}
