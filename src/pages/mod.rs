//! Candidate-facing pages: plain HTML that works without JavaScript and on
//! a phone. Every answer here is a page, errors included; a form post is
//! taken only from the page itself (`Origin: null`, which browsers send
//! because the pages keep no referrer, or the service's own origin).

pub mod consent;

use chrono::{DateTime, Utc};
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get,
    http::{Method, StatusCode, header},
};

/// The candidate pages under `/consent`, with HTML errors and the
/// form-origin check.
pub fn routes(public_origin: String) -> impl Endpoint {
    Route::new()
        .at("/:token", get(consent::show).post(consent::act))
        .around(move |next, req| own_forms_only(next, req, public_origin.clone()))
        .catch_all_error(|err: poem::Error| async move {
            if err.is_from_response() {
                return err.into_response();
            }
            error_page(err.status())
        })
}

/// Refuses a form post sent from another site's page.
async fn own_forms_only<E: Endpoint>(
    next: E,
    req: Request,
    public_origin: String,
) -> poem::Result<Response> {
    if req.method() == Method::POST
        && let Some(origin) = req.header(header::ORIGIN)
        && origin != "null"
        && !crate::edge::is_own_origin(&req, origin, &public_origin)
    {
        return Ok(error_page(StatusCode::FORBIDDEN));
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// A page for an error status, saying nothing about any application.
pub fn error_page(status: StatusCode) -> Response {
    let (title, text) = match status {
        StatusCode::NOT_FOUND => (
            "Not found",
            "This page does not exist. Please use the link in your email.",
        ),
        StatusCode::FORBIDDEN => (
            "Not allowed",
            "Please use the buttons on the page the link in your email opens.",
        ),
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST => (
            "Not understood",
            "Please use the buttons on the page the link in your email opens.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT => (
            "Not understood",
            "What your browser sent could not be read. Please try again.",
        ),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => (
            "Please try again",
            "We could not do this just now. Please try again in a few minutes.",
        ),
        _ => (
            "Something went wrong",
            "We could not do this just now. Please try again later.",
        ),
    };
    let mut response = page(status, title, &format!("<h1>{title}</h1><p>{text}</p>"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECS.into());
    }
    response
}

pub(crate) fn date(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A small, self-contained page; the link's token must not leak through a
/// referrer, a cache or a frame. It declares no icon, so the browser asks
/// for none.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5;overflow-wrap:anywhere}}\
         button{{font-size:1rem;padding:.75rem 1rem;margin:.5rem 0;width:100%;border-radius:.4rem;\
         border:1px solid #245;background:#245;color:#fff}}\
         button.secondary{{background:#fff;color:#245}}\
         button:focus-visible{{outline:3px solid #f90;outline-offset:2px}}</style></head><body>{body}</body></html>"
    );
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(header::X_FRAME_OPTIONS, "DENY")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        )
        .body(html)
}
