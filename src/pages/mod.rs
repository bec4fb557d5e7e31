//! Candidate-facing pages: plain HTML that works without JavaScript and on
//! a phone. Every answer here is a page, errors included; a form post is
//! taken only from the page itself (`Origin: null`, which browsers send
//! because the pages keep no referrer, or the service's own origin).

pub mod consent;
pub mod privacy;
pub mod text;

use crate::domain::lang::Lang;
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get,
    http::{Method, StatusCode, header},
};

/// The candidate pages under `/consent`.
pub fn consent_routes(public_origin: String) -> impl Endpoint {
    candidate_pages(
        Route::new().at("/:token", get(consent::show).post(consent::act)),
        public_origin,
    )
}

/// The candidate pages under `/privacy`.
pub fn privacy_routes(public_origin: String) -> impl Endpoint {
    candidate_pages(
        Route::new()
            .at(
                "/requests",
                get(privacy::requests_form).post(privacy::request_link),
            )
            .at(
                "/verify/:token",
                get(privacy::verify_form).post(privacy::verify),
            )
            .at(
                "/email/:token",
                get(privacy::email_form).post(privacy::confirm_email),
            )
            .at("/me", get(privacy::me))
            .at("/me/email", poem::post(privacy::change_email))
            .at("/me/erase", get(privacy::erase_form).post(privacy::act))
            .at("/me/correct", poem::post(privacy::correct))
            .at("/me/export", get(privacy::export))
            .at(
                "/me/correction-request",
                poem::post(privacy::ask_for_correction),
            )
            .at("/me/:action", poem::post(privacy::act)),
        public_origin,
    )
}

/// Candidate pages with HTML errors and the form-origin check.
fn candidate_pages(route: Route, public_origin: String) -> impl Endpoint {
    route
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

/// A token's hash; a token longer than any we make is not looked up.
fn token_hash(token: &str) -> Option<String> {
    (token.len() <= 100).then(|| crate::domain::keys::hash_secret(token))
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
    page_in(Lang::En, status, title, body)
}

/// A page in a candidate's language (see [`page`]).
pub(crate) fn page_in(lang: Lang, status: StatusCode, title: &str, body: &str) -> Response {
    let title = escape(title);
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5;overflow-wrap:anywhere}}\
         button{{font-size:1rem;padding:.75rem 1rem;margin:.5rem 0;width:100%;border-radius:.4rem;\
         border:1px solid #245;background:#245;color:#fff}}\
         button.secondary{{background:#fff;color:#245}}\
         button.danger,a.danger{{background:#a12;border-color:#a12;color:#fff}}\
         a.button{{display:block;text-align:center;padding:.75rem 1rem;border-radius:.4rem;border:1px solid #245;\
         background:#245;color:#fff;text-decoration:none}}\
         label{{display:block;margin-top:1rem;font-weight:600}}\
         input:not([type=hidden]),textarea{{font-size:1rem;padding:.6rem;width:100%;box-sizing:border-box;border:1px solid #555;border-radius:.3rem}}\
         .error{{color:#a12;font-weight:600}}.notice{{background:#eef6ee;padding:.5rem 1rem;border-radius:.3rem}}\
         ul.langs{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}}\
         section.application{{border-top:1px solid #ccc;margin-top:1rem}}dt{{font-weight:600}}dd{{margin:0 0 .5rem}}\
         button:focus-visible,a:focus-visible,input:focus-visible{{outline:3px solid #f90;outline-offset:2px}}</style></head><body>{body}</body></html>"
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
