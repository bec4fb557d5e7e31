//! The HTTP edge: what every request meets before a handler does, and what
//! every answer carries. The server loop (timeouts, connection cap), body
//! limits, CORS for the careers page only, security headers, the client's
//! address behind proxies, request ids, and request logs and metrics by
//! route template.

pub mod body;
pub mod client;
pub mod cors;
pub mod headers;
pub mod request_id;
pub mod routes;
pub mod server;

use poem::{Request, http::header};

/// Who a path serves, which decides how its errors look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Candidate pages: every answer is HTML.
    Candidate,
    /// The API and everything else: JSON errors.
    Api,
}

impl Audience {
    pub fn of(path: &str) -> Self {
        if path.starts_with("/consent/") || path.starts_with("/privacy/") || path == "/privacy" {
            Audience::Candidate
        } else {
            Audience::Api
        }
    }
}

/// Whether the request's `Origin` is this service itself: the same host
/// (and port) the request was sent to, or the configured public origin.
pub fn is_own_origin(req: &Request, origin: &str, public_origin: &str) -> bool {
    if origin == public_origin {
        return true;
    }
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    req.header(header::HOST)
        .is_some_and(|sent_to| sent_to.eq_ignore_ascii_case(&authority))
}

/// The origin (`scheme://host[:port]`) of a URL, as browsers send it.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}
