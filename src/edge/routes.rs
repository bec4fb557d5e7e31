//! The route templates of the service (`/v1/imports/{id}`, not the path a
//! request named): for the `Allow` header of a 405, and for request logs,
//! which must never carry a token, an import id or anything a client put in
//! a path.

use std::{sync::Arc, time::Instant};

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{StatusCode, header},
};
use tracing::Instrument;

use super::request_id::{self, RequestId};
use crate::metrics::Metrics;

/// One template: its segments, and the methods it answers.
struct Template {
    path: String,
    segments: Vec<String>,
    methods: String,
}

/// The templates of the API (from its spec) and of the other routes.
pub struct RouteTable(Vec<Template>);

/// Routes outside the spec, with the methods they answer.
const OTHER_ROUTES: &[(&str, &str)] = &[
    ("/consent/{token}", "GET, POST"),
    ("/privacy/requests", "GET, POST"),
    ("/privacy/verify/{token}", "GET, POST"),
    ("/privacy/me", "GET"),
    ("/privacy/me/erase", "GET, POST"),
    ("/privacy/me/export", "GET"),
    ("/privacy/me/{action}", "POST"),
    ("/openapi.json", "GET"),
    ("/docs", "GET"),
    ("/favicon.ico", "GET"),
];

impl RouteTable {
    pub fn from_spec(spec_json: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec_json).unwrap_or_default();
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        let api = paths.into_iter().map(|(path, operations)| {
            let methods = operations
                .as_object()
                .map(|ops| {
                    ops.keys()
                        .map(|m| m.to_uppercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            (path, methods)
        });
        let other = OTHER_ROUTES
            .iter()
            .map(|(path, methods)| (path.to_string(), methods.to_string()));
        Self(
            api.chain(other)
                .map(|(path, methods)| Template {
                    segments: path.split('/').map(str::to_owned).collect(),
                    path,
                    methods,
                })
                .collect(),
        )
    }

    fn find(&self, path: &str) -> Option<&Template> {
        let parts: Vec<&str> = path.split('/').collect();
        // A literal segment beats a parameter (`/v1/jobs/x` is not `/v1/{id}`).
        self.0
            .iter()
            .filter(|template| {
                template.segments.len() == parts.len()
                    && template
                        .segments
                        .iter()
                        .zip(&parts)
                        .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
            })
            .max_by_key(|template| {
                template
                    .segments
                    .iter()
                    .filter(|s| !s.starts_with('{'))
                    .count()
            })
    }

    /// The template a path matches, or `(unmatched)`: never the path itself.
    pub fn template(&self, path: &str) -> &str {
        self.find(path).map_or("(unmatched)", |t| t.path.as_str())
    }

    fn methods(&self, path: &str) -> Option<&str> {
        self.find(path).map(|t| t.methods.as_str())
    }
}

/// Gives each request its id (see [`RequestId`]), adds `Allow` to a 405,
/// and logs and counts each request by method, route template, status and
/// duration (ids only: paths and query strings may hold tokens, names or
/// emails, so neither is logged nor a label).
pub async fn log_and_allow<E: Endpoint>(
    next: E,
    req: Request,
    routes: Arc<RouteTable>,
    metrics: Arc<Metrics>,
) -> poem::Result<Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let id = RequestId::of(&req);
    let span = tracing::info_span!("request", request_id = %id.0);
    let started = Instant::now();
    let mut response = next
        .get_response(req)
        .instrument(span.clone())
        .await
        .into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = routes.methods(&path)
        && let Ok(value) = methods.parse()
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
        .headers_mut()
        .insert(request_id::HEADER, id.header_value());
    let route = routes.template(&path);
    let elapsed = started.elapsed();
    metrics.request(method.as_str(), route, response.status().as_u16(), elapsed);
    span.in_scope(|| {
        tracing::info!(
            %method,
            route,
            status = response.status().as_u16(),
            duration_ms = elapsed.as_millis() as u64,
            "request"
        )
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_templates_and_nothing_of_the_path_remains() {
        let spec = r#"{"paths": {
            "/v1/imports/{id}": {"get": {}},
            "/v1/jobs": {"get": {}, "post": {}},
            "/v1/jobs/{id}": {"get": {}, "patch": {}}
        }}"#;
        let routes = RouteTable::from_spec(spec);
        assert_eq!(
            routes.template("/v1/imports/0b8a8f4e-1d2c-4c5a-9c7e-5f2b1a3d4e5f"),
            "/v1/imports/{id}"
        );
        assert_eq!(routes.template("/consent/sekrit-token"), "/consent/{token}");
        assert_eq!(routes.template("/v1/jobs"), "/v1/jobs");
        assert_eq!(routes.template("/v1/ada@example.com"), "(unmatched)");
        assert_eq!(routes.methods("/v1/jobs/x"), Some("GET, PATCH"));
    }
}
