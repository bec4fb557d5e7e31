//! Provider adapters for "Apply with LinkedIn / Indeed": the authorization
//! redirect, the code exchange and the user info, through the oauth2 crate on
//! an HTTP client that follows no redirects and gives up after
//! `oauth.timeout`. Tokens are used once, here, and never stored.

pub mod picture;

use std::time::Duration;

use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, basic::BasicClient,
};

use crate::{
    config::ProviderSettings,
    domain::imports::{ImportError, Profile},
};

/// The largest user-info answer read.
const MAX_USERINFO: usize = 64 * 1024;

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The HTTP client for providers: no redirects (a token or user-info answer
/// that redirects is a failure, and a picture may not lead elsewhere), and
/// every call bounded in time.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .expect("the HTTP client for providers builds")
}

fn client(settings: &ProviderSettings, redirect_uri: &str) -> anyhow::Result<ConfiguredClient> {
    let auth_type = if settings.credentials_in_body {
        AuthType::RequestBody
    } else {
        AuthType::BasicAuth
    };
    Ok(BasicClient::new(ClientId::new(settings.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            settings.client_secret.expose().to_owned(),
        ))
        .set_auth_uri(AuthUrl::new(settings.authorize_url.clone())?)
        .set_token_uri(oauth2::TokenUrl::new(settings.token_url.clone())?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned())?)
        .set_auth_type(auth_type))
}

/// Where to send the candidate to sign in, and the PKCE verifier to keep
/// (when the provider takes PKCE).
pub struct Authorization {
    pub url: String,
    pub pkce_verifier: Option<String>,
}

pub fn authorize(
    settings: &ProviderSettings,
    redirect_uri: &str,
    state: &str,
) -> anyhow::Result<Authorization> {
    let client = client(settings, redirect_uri)?;
    let state = state.to_owned();
    let mut request = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(settings.scopes.iter().cloned().map(Scope::new));
    let mut pkce_verifier = None;
    if settings.pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        pkce_verifier = Some(verifier.secret().clone());
    }
    let (url, _) = request.url();
    Ok(Authorization {
        url: url.to_string(),
        pkce_verifier,
    })
}

/// Exchanges the code for an access token and reads the user's profile with it.
pub async fn import_profile(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    redirect_uri: &str,
    code: String,
    pkce_verifier: Option<String>,
) -> Result<Profile, ImportError> {
    let client = client(settings, redirect_uri).map_err(|err| {
        tracing::error!(error = format!("{err:#}"), "provider misconfigured");
        ImportError::ProviderError
    })?;
    let mut exchange = client.exchange_code(AuthorizationCode::new(code));
    if let Some(verifier) = pkce_verifier {
        exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(verifier));
    }
    let token = exchange
        .request_async(http)
        .await
        .map_err(|err| match err {
            RequestTokenError::ServerResponse(response) => {
                tracing::warn!(error = %response.error(), "the provider refused the code");
                ImportError::ProviderError
            }
            other => {
                tracing::warn!(error = %other, "the token endpoint failed");
                ImportError::ProviderUnavailable
            }
        })?;
    let info = userinfo(http, &settings.userinfo_url, token.access_token().secret()).await?;
    Ok(Profile::from_userinfo(&info, &settings.picture_hosts))
}

async fn userinfo(
    http: &reqwest::Client,
    url: &str,
    access_token: &str,
) -> Result<serde_json::Value, ImportError> {
    let unavailable = |what: &str, err: &dyn std::fmt::Display| {
        tracing::warn!(error = %err, "{what}");
        ImportError::ProviderUnavailable
    };
    let response = http
        .get(url)
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| unavailable("the user-info endpoint failed", &err))?;
    if !response.status().is_success() {
        return Err(unavailable(
            "the user-info endpoint refused",
            &response.status(),
        ));
    }
    let body = read_capped(response, MAX_USERINFO)
        .await
        .map_err(|err| unavailable("reading the user info failed", &err))?
        .ok_or_else(|| unavailable("the user info is too large", &MAX_USERINFO))?;
    let info: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|err| unavailable("the user info is not JSON", &err))?;
    if !info.is_object() {
        return Err(unavailable("the user info is not an object", &"JSON"));
    }
    Ok(info)
}

/// The whole body if it is at most `max` bytes, else None (read no further).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
