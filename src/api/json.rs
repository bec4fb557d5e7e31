//! JSON answers written straight from serde. poem-openapi's `Json` first
//! turns the answer into a `serde_json::Value` tree (a map and a copy of
//! every string, per object) and then writes that tree: for a page of 50
//! applications that was a quarter of the service's work per request. The
//! answers read most often use this payload instead; the spec is the same
//! (the type's own schema, the same content type), and a unit test holds
//! each type's serde output to what its `ToJSON` gives.

use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::Payload,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
};
use serde::Serialize;

/// A 200 answer with `T` as JSON; `T`'s schema documents it.
pub struct SerdeJson<T>(pub T);

/// What poem-openapi's `Json` answers, so the spec does not change.
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Type> Payload for SerdeJson<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        content_type.starts_with("application/json")
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Room for a page of 50 applications, so the body is not grown (and
/// copied) a dozen times on its way there.
const BODY_CAPACITY: usize = 16 * 1024;

impl<T: Serialize + Send> IntoResponse for SerdeJson<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(BODY_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => Response::builder().content_type(CONTENT_TYPE).body(body),
            Err(err) => {
                // Only a type whose Serialize can fail (none here) gets here.
                tracing::error!(error = %err, "an answer could not be written as JSON");
                crate::error::ApiError::internal().into_response()
            }
        }
    }
}

impl<T: Type + Serialize + Send> ApiResponse for SerdeJson<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Writes a time as poem-openapi does (`to_rfc3339`), for `serialize_with`.
pub fn rfc3339<S: serde::Serializer>(
    at: &chrono::DateTime<chrono::Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.to_rfc3339())
}

/// [`rfc3339`] for an optional time (absent ones are skipped by the caller).
pub fn rfc3339_opt<S: serde::Serializer>(
    at: &Option<chrono::DateTime<chrono::Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}
