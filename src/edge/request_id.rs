//! `X-Request-Id`: every answer carries one, and every log line of the
//! request names it. A caller's own id is kept when it is a plain token
//! (1 to 64 letters, digits, `-`, `_`, `.`); anything else is replaced, so
//! a header cannot smuggle text into the logs.

use poem::{Request, http::HeaderValue};

pub const HEADER: &str = "x-request-id";

/// The request's id, as the caller gave it or made here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn of(req: &Request) -> Self {
        req.header(HEADER)
            .filter(|given| valid(given))
            .map(|given| Self(given.to_owned()))
            .unwrap_or_else(|| Self(uuid::Uuid::now_v7().simple().to_string()))
    }

    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).expect("a request id is a plain token")
    }
}

fn valid(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(header: Option<&str>) -> RequestId {
        let mut builder = Request::builder();
        if let Some(value) = header {
            builder = builder.header(HEADER, value);
        }
        RequestId::of(&builder.finish())
    }

    #[test]
    fn a_plain_token_is_kept_and_anything_else_replaced() {
        assert_eq!(with(Some("req-42.a_b")).0, "req-42.a_b");
        for bad in [
            "",
            "has space",
            "new\nline",
            &"x".repeat(65),
            "ada@example.com",
        ] {
            let made = with(Some(bad)).0;
            assert_ne!(made, bad);
            assert_eq!(made.len(), 32, "{made}");
        }
        let (a, b) = (with(None), with(None));
        assert_ne!(a, b, "each request gets its own");
    }
}
