//! Headers every answer carries: `nosniff` everywhere; `no-store` wherever
//! personal data can be (the API, candidate pages, the OAuth redirects); and
//! for Swagger UI a content security policy that lets only its own inline
//! script (by hash) run, and no page frame it.

use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, header},
};

/// The policy of `/docs`, made for the page as served.
pub struct DocsPolicy(pub HeaderValue);

impl DocsPolicy {
    /// Allows exactly the inline scripts of `html` (by their SHA-256) and
    /// its inline styles; everything it fetches comes from this origin.
    pub fn for_page(html: &str) -> Self {
        use base64::{Engine, engine::general_purpose::STANDARD};
        use sha2::{Digest, Sha256};
        let hashes: Vec<String> = inline_scripts(html)
            .map(|script| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
            .collect();
        let policy = format!(
            "default-src 'none'; script-src {}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            hashes.join(" ")
        );
        Self(HeaderValue::from_str(&policy).expect("the policy is one line of ASCII"))
    }
}

/// The contents of each inline `<script …>…</script>` of a page, read as a
/// browser does: a script runs to the first `</script>` after its start, so
/// a `<script` inside one (Swagger UI's bundle has some) starts nothing.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        let start = rest.find("<script")?;
        let opened = &rest[start..];
        let body = opened.find('>')? + 1;
        let length = opened[body..].find("</script>")?;
        let script = &opened[body..body + length];
        rest = &opened[body + length + "</script>".len()..];
        Some(script)
    })
}

pub async fn security_headers<E: Endpoint>(
    next: E,
    req: Request,
    docs: Arc<DocsPolicy>,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = next.call(req).await.map(IntoResponse::into_response)?;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let personal = path.starts_with("/v1/")
        || path.starts_with("/oauth/")
        || super::Audience::of(&path) == super::Audience::Candidate;
    if personal && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if path == "/docs" || path.starts_with("/docs/") {
        headers.insert(header::CONTENT_SECURITY_POLICY, docs.0.clone());
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_policy_names_each_inline_script_by_hash() {
        let html = "<html><script charset=\"UTF-8\">a('<script')</script><p>x</p>\
                    <script>b()</script></html>";
        let scripts: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(scripts, ["a('<script')", "b()"]);
        let policy = DocsPolicy::for_page(html).0;
        let policy = policy.to_str().unwrap();
        assert_eq!(policy.matches("'sha256-").count(), 2);
        assert!(!policy.contains("script-src 'unsafe-inline'"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
