//! The one API error type. Every variant is a documented status with a JSON
//! body `{ "error": code, "message": text }`; database and store failures
//! become a logged 503 or 500 that shows the client nothing internal.

use poem::{Endpoint, EndpointExt, IntoResponse, Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};
use sea_orm::DbErr;

use crate::domain::fields::FieldError;

#[derive(Object, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// A stable machine-readable code, such as `not_found`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
}

#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// The request is malformed.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No API key, or an unknown or revoked one.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The key's role may not do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request conflicts with the current state.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// It existed, and was erased.
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// A file or the request is too large.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// A file is of a type we do not accept.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A field is missing or invalid.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many requests; retry after the given number of seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// An internal error.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A dependency (database, object store) is unavailable, or the disk is
    /// full; nothing was stored. Retry after the given number of seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        error: code.to_owned(),
        message: message.into(),
    })
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(body("bad_request", message))
    }
    pub fn unauthorized() -> Self {
        Self::Unauthorized(body(
            "unauthorized",
            "send a valid API key as `Authorization: Bearer KEY`",
        ))
    }
    /// A request that authenticates by signature, unsigned or signed wrongly.
    pub fn bad_signature(message: impl Into<String>) -> Self {
        Self::Unauthorized(body("unauthorized", message))
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(body("forbidden", message))
    }
    /// An application its candidate restricted, to a recruiter.
    pub fn restricted() -> Self {
        Self::Forbidden(body(
            "restricted",
            "the candidate has restricted the processing of this application: it is kept, \
             but cannot be read or changed until they lift the restriction",
        ))
    }
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(body("not_found", format!("{what} not found")))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(body("conflict", message))
    }
    pub fn gone(message: impl Into<String>) -> Self {
        Self::Gone(body("erased", message))
    }
    /// An `Idempotency-Key` sent again with a different request.
    pub fn idempotency_key_reused() -> Self {
        Self::Unprocessable(body(
            "idempotency_key_reused",
            "Idempotency-Key: this key was used for a different request; nothing was stored",
        ))
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::PayloadTooLarge(body("too_large", message))
    }
    pub fn unsupported_type(message: impl Into<String>) -> Self {
        Self::UnsupportedMediaType(body("unsupported_file_type", message))
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Unprocessable(body("invalid", message))
    }
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::TooManyRequests(
            body(
                "rate_limited",
                "too many requests from this address; retry later",
            ),
            retry_after_secs,
        )
    }
    pub fn unavailable(what: &str) -> Self {
        Self::Unavailable(
            body(
                "unavailable",
                format!("the {what} is unavailable; nothing was stored, retry later"),
            ),
            RETRY_AFTER_SECS,
        )
    }
    pub fn internal() -> Self {
        Self::Internal(body("internal", "an internal error occurred"))
    }

    /// Logs a failure of a dependency (our error contexts name operations and
    /// object keys, never personal data) and answers 503.
    pub fn from_infrastructure(dependency: &str, err: &anyhow::Error) -> Self {
        tracing::error!(dependency, error = format!("{err:#}"), "request failed");
        Self::unavailable(dependency)
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        Self::invalid(err.to_string())
    }
}

/// How long a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 5;

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if crate::store::is_unavailable(&err) {
            tracing::error!(error = %err, "database unavailable");
            Self::unavailable("database")
        } else {
            tracing::error!(error = %err, "database error");
            Self::internal()
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Turns every error that is not already one of ours (poem-openapi's parse
/// errors, unknown routes, wrong methods) into the same JSON shape.
pub fn json_errors(endpoint: impl Endpoint + 'static) -> impl Endpoint {
    endpoint.catch_all_error(|err: poem::Error| async move {
        if err.is_from_response() {
            return err.into_response();
        }
        let status = err.status();
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource".to_owned()),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", err.to_string()),
            StatusCode::UNAUTHORIZED => (
                "unauthorized",
                "send a valid API key as `Authorization: Bearer KEY`".to_owned(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("too_large", err.to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", err.to_string()),
            status if status.is_server_error() => {
                tracing::error!(error = %err, "unhandled error");
                ("internal", "an internal error occurred".to_owned())
            }
            _ => ("bad_request", err.to_string()),
        };
        json_response(status, code, &message)
    })
}

pub fn json_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message });
    let mut response = poem::web::Json(body).with_status(status).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(poem::http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
    }
    response
}
