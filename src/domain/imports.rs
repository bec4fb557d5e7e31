//! Rules of "Apply with LinkedIn / Indeed": which pages a sign-in may return
//! to, what of a provider's user info is kept, where a picture may come from,
//! and where each field of an application came from.

use std::collections::BTreeMap;

use poem_openapi::Enum;
use url::{Origin, Url};

use super::fields::{self, Email};

/// A provider candidates can import their profile from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[oai(rename_all = "lowercase")]
pub enum Provider {
    Linkedin,
    Indeed,
}

stored_as_text!(Provider {
    Linkedin => "linkedin",
    Indeed => "indeed",
});

/// Why a sign-in came back without an import, as `import_error=` tells the careers site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The candidate declined at the provider.
    AccessDenied,
    /// The provider answered with another OAuth error, or refused the code.
    ProviderError,
    /// The provider did not answer, timed out, or answered something unreadable.
    ProviderUnavailable,
    /// The job closed while the candidate was signing in.
    JobNotOpen,
}

impl ImportError {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportError::AccessDenied => "access_denied",
            ImportError::ProviderError => "provider_error",
            ImportError::ProviderUnavailable => "provider_unavailable",
            ImportError::JobNotOpen => "job_not_open",
        }
    }

    /// The provider's `error=` on the callback.
    pub fn from_provider(error: &str) -> Self {
        if error == "access_denied" {
            ImportError::AccessDenied
        } else {
            ImportError::ProviderError
        }
    }
}

/// A page to send the candidate back to: an absolute http(s) URL without
/// credentials whose origin is one of `allowed`. Anything else would make us
/// an open redirect.
pub fn return_to(raw: &str, allowed: &[Origin]) -> Result<Url, &'static str> {
    let url = Url::parse(raw.trim()).map_err(|_| "return_to: must be an absolute URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("return_to: must be an http or https URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("return_to: must not carry a user name or password");
    }
    if !allowed.contains(&url.origin()) {
        return Err("return_to: this origin is not in oauth.return_origins");
    }
    Ok(url)
}

/// `return_to` with one parameter set (replacing any earlier import result).
pub fn with_result(mut url: Url, name: &str, value: &str) -> String {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "import_id" && k != "import_error")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in &kept {
            query.append_pair(k, v);
        }
        query.append_pair(name, value);
    }
    url.to_string()
}

/// What is kept of a provider's user info: only fields that pass the same
/// checks as the form's, and the email only when the provider verified it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub full_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub profile_url: Option<String>,
    pub picture_url: Option<String>,
}

impl Profile {
    /// Reads OpenID Connect user info (LinkedIn's and Indeed's).
    pub fn from_userinfo(info: &serde_json::Value, picture_hosts: &[String]) -> Self {
        let text = |key: &'static str| {
            info[key]
                .as_str()
                .and_then(|v| fields::required_text(key, v, 200).ok())
        };
        let given_name = text("given_name");
        let family_name = text("family_name");
        let full_name = text("name").or_else(|| {
            let joined = [given_name.as_deref(), family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            fields::required_text("name", &joined, 200).ok()
        });
        let verified = matches!(&info["email_verified"], serde_json::Value::Bool(true))
            || info["email_verified"].as_str() == Some("true");
        let email = info["email"]
            .as_str()
            .filter(|_| verified)
            .and_then(|v| Email::parse("email", v).ok())
            .map(|e| e.address);
        let profile_url = info["profile"]
            .as_str()
            .and_then(|v| fields::web_url("profile", Some(v)).ok().flatten());
        let picture_url = info["picture"]
            .as_str()
            .and_then(|v| fields::web_url("picture", Some(v)).ok().flatten())
            .filter(|v| picture_allowed(v, picture_hosts));
        Self {
            full_name,
            given_name,
            family_name,
            email,
            locale: locale(&info["locale"]),
            profile_url,
            picture_url,
        }
    }
}

/// `en-US` from `"en-US"`, `"en_US"` or LinkedIn's `{"language": "en", "country": "US"}`.
fn locale(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.replace('_', "-"),
        serde_json::Value::Object(o) => {
            let language = o.get("language")?.as_str()?;
            match o.get("country").and_then(|c| c.as_str()) {
                Some(country) => format!("{language}-{country}"),
                None => language.to_owned(),
            }
        }
        _ => return None,
    };
    let valid = !text.is_empty()
        && text.len() <= 40
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then_some(text)
}

/// Whether a picture may be fetched from `url`: its host (or `host:port`) is
/// listed, and it is https (plain http only on the loopback host).
pub fn picture_allowed(url: &str, hosts: &[String]) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    let secure = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    let with_port = url.port().map(|p| format!("{host}:{p}"));
    secure
        && url.username().is_empty()
        && url.password().is_none()
        && hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host) || with_port.as_deref().is_some_and(|hp| h == hp))
}

/// Where each field of an application came from: `form`, a provider
/// (`linkedin`, `indeed`) or `indeed-apply`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance(BTreeMap<&'static str, &'static str>);

impl Provenance {
    pub fn record(&mut self, field: &'static str, origin: &'static str) {
        self.0.insert(field, origin);
    }

    /// The form's value when it gave one, else the import's; notes which.
    pub fn pick(
        &mut self,
        field: &'static str,
        form: Option<String>,
        import: Option<String>,
        provider: &'static str,
    ) -> Option<String> {
        let form = form.filter(|v| !v.trim().is_empty());
        let (value, origin) = match (form, import) {
            (Some(value), _) => (Some(value), "form"),
            (None, Some(value)) => (Some(value), provider),
            (None, None) => (None, ""),
        };
        if value.is_some() {
            self.record(field, origin);
        }
        value
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a map of strings is JSON")
    }

    pub fn parse(json: &str) -> BTreeMap<String, String> {
        serde_json::from_str(json).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn origins() -> Vec<Origin> {
        vec![Url::parse("http://localhost:3000").unwrap().origin()]
    }

    #[test]
    fn return_to_must_be_on_a_listed_origin_without_credentials() {
        assert!(return_to("http://localhost:3000/apply?job=1#top", &origins()).is_ok());
        for bad in [
            "https://localhost:3000/apply",
            "http://localhost:3001/apply",
            "http://evil@localhost:3000/apply",
            "http://a:b@localhost:3000/",
            "http://localhost:3000.evil.com/",
            "http://evil.com/?http://localhost:3000",
            "javascript:alert(1)//localhost:3000",
            "//localhost:3000/apply",
            "/apply",
        ] {
            assert!(return_to(bad, &origins()).is_err(), "{bad}");
        }
    }

    #[test]
    fn results_replace_earlier_ones_in_the_return_url() {
        let url = Url::parse("http://localhost:3000/apply?job=1&import_error=x").unwrap();
        assert_eq!(
            with_result(url, "import_id", "abc"),
            "http://localhost:3000/apply?job=1&import_id=abc"
        );
    }

    #[test]
    fn userinfo_keeps_checked_fields_and_only_a_verified_email() {
        let hosts = vec!["media.licdn.com".to_owned()];
        let linkedin = json!({
            "sub": "x", "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
            "email": "ada@example.com", "email_verified": true,
            "picture": "https://media.licdn.com/dms/image/ada.jpg",
            "locale": { "country": "GB", "language": "en" }
        });
        let profile = Profile::from_userinfo(&linkedin, &hosts);
        assert_eq!(profile.full_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(profile.email.as_deref(), Some("ada@example.com"));
        assert_eq!(profile.locale.as_deref(), Some("en-GB"));
        assert!(profile.picture_url.is_some());

        let unverified = json!({
            "given_name": "Ada", "family_name": "Lovelace",
            "email": "ada@example.com", "email_verified": false,
            "picture": "https://evil.example/ada.jpg", "locale": "en_GB\u{0}"
        });
        let profile = Profile::from_userinfo(&unverified, &hosts);
        assert_eq!(profile.full_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(profile.email, None);
        assert_eq!(profile.picture_url, None);
        assert_eq!(profile.locale, None);

        let bare = Profile::from_userinfo(&json!({ "sub": "x" }), &hosts);
        assert_eq!(bare, Profile::default());
    }

    #[test]
    fn pictures_come_only_from_listed_hosts_over_https() {
        let hosts = vec!["media.licdn.com".to_owned(), "127.0.0.1".to_owned()];
        assert!(picture_allowed("https://media.licdn.com/a.jpg", &hosts));
        assert!(picture_allowed("https://MEDIA.licdn.com/a.jpg", &hosts));
        assert!(picture_allowed("http://127.0.0.1:8123/a.jpg", &hosts));
        assert!(!picture_allowed("http://media.licdn.com/a.jpg", &hosts));
        assert!(!picture_allowed(
            "https://media.licdn.com.evil.com/a.jpg",
            &hosts
        ));
        assert!(!picture_allowed("https://x@media.licdn.com/a.jpg", &hosts));
        assert!(!picture_allowed("https://evil.com/media.licdn.com", &hosts));
    }

    #[test]
    fn the_form_wins_and_the_import_fills_what_it_left_empty() {
        let mut provenance = Provenance::default();
        let name = provenance.pick(
            "full_name",
            Some(" ".into()),
            Some("Ada".into()),
            "linkedin",
        );
        let email = provenance.pick(
            "email",
            Some("a@example.com".into()),
            Some("b@example.com".into()),
            "linkedin",
        );
        let phone = provenance.pick("phone", None, None, "linkedin");
        assert_eq!(name.as_deref(), Some("Ada"));
        assert_eq!(email.as_deref(), Some("a@example.com"));
        assert_eq!(phone, None);
        assert_eq!(
            provenance.to_json(),
            r#"{"email":"form","full_name":"linkedin"}"#
        );
    }
}
