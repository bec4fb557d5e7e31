//! CORS, only where a careers page calls from the browser: listing jobs,
//! submitting an application, reading an import (and their preflights).
//! Origins on `careers.origins` (exact scheme, host and port) get the CORS
//! headers; another origin is refused there (403). Everywhere else an
//! `Origin` header changes nothing: no CORS headers, no refusal, so Swagger
//! UI and the candidate pages work as any same-origin page does.

use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};

use super::is_own_origin;
use crate::error::json_response;

/// The careers page's operations: a method and a path template.
const CAREERS_ROUTES: &[(Method, &str)] = &[
    (Method::GET, "/v1/jobs"),
    (Method::POST, "/v1/applications"),
    (Method::GET, "/v1/imports/{id}"),
];

/// The origins allowed, as browsers serialise them, and the service's own.
pub struct CareersOrigins {
    pub allowed: Vec<String>,
    pub public_origin: String,
}

fn careers_method(path: &str) -> Option<&'static Method> {
    CAREERS_ROUTES.iter().find_map(|(method, template)| {
        let fits = match template.strip_suffix("{id}") {
            Some(prefix) => path
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/')),
            None => path == *template,
        };
        fits.then_some(method)
    })
}

pub async fn careers_cors<E: Endpoint>(
    next: E,
    req: Request,
    origins: Arc<CareersOrigins>,
) -> poem::Result<Response> {
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let Some(method) =
        careers_method(req.uri().path()).filter(|method| preflight || req.method() == *method)
    else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let origin = req
        .header(header::ORIGIN)
        .map(str::to_owned)
        .filter(|origin| !is_own_origin(&req, origin, &origins.public_origin));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let allowed = origin
        .as_ref()
        .map(|origin| origins.allowed.iter().any(|o| o == origin));
    if allowed == Some(false) {
        let mut refused = json_response(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this origin is not on careers.origins",
        );
        vary(&mut refused);
        return Ok(refused);
    }
    if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        if let Some(origin) = &origin {
            allow_origin(headers, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(method.as_str()),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type, idempotency-key"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        vary(&mut response);
        return Ok(response);
    }
    let mut response = next.call(req).await.map(IntoResponse::into_response)?;
    if let Some(origin) = &origin {
        allow_origin(response.headers_mut(), origin);
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    vary(&mut response);
    Ok(response)
}

fn allow_origin(headers: &mut poem::http::HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
}

fn vary(response: &mut Response) {
    response.headers_mut().append(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_careers_pages_operations_are_cors_routes() {
        assert_eq!(careers_method("/v1/jobs"), Some(&Method::GET));
        assert_eq!(careers_method("/v1/applications"), Some(&Method::POST));
        assert_eq!(careers_method("/v1/imports/abc"), Some(&Method::GET));
        for other in [
            "/v1/jobs/abc",
            "/v1/imports/",
            "/v1/imports/a/b",
            "/v1/applications/abc",
            "/consent/x",
            "/docs",
        ] {
            assert_eq!(careers_method(other), None, "{other}");
        }
    }
}
