//! An OAuth provider on 127.0.0.1 for the import tests, in either style:
//! LinkedIn's (client credentials in the token request's body, and a PKCE
//! verifier refused) or Indeed's (PKCE S256 required, credentials by HTTP
//! basic auth). It checks what a real provider checks, so a client that sends
//! the wrong thing fails here as it would there.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use poem::{
    EndpointExt, Request, Response, Route, Server, get, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::{Data, Form, Json, Query},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Style {
    /// Credentials in the form body; a PKCE verifier is `invalid_client`.
    Linkedin,
    /// PKCE S256 required; credentials only by HTTP basic auth.
    Indeed,
}

/// How the token endpoint behaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TokenMode {
    Normal,
    /// 200 with an HTML page.
    Garbage,
}

pub const CLIENT_ID: &str = "vault-client";
pub const CLIENT_SECRET: &str = "vault-secret";

struct Grant {
    redirect_uri: String,
    challenge: Option<String>,
}

struct MockState {
    style: Style,
    deny: bool,
    token_mode: TokenMode,
    profile: Value,
    picture: Vec<u8>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Value>,
    /// Each failed check, for the tests to show.
    refusals: Vec<String>,
    token_requests: usize,
    picture_requests: usize,
}

type Shared = Arc<Mutex<MockState>>;

pub struct MockProvider {
    pub address: String,
    shared: Shared,
    server: JoinHandle<()>,
}

impl MockProvider {
    pub async fn start(style: Style) -> Self {
        let shared: Shared = Arc::new(Mutex::new(MockState {
            style,
            deny: false,
            token_mode: TokenMode::Normal,
            profile: json!({}),
            picture: Vec::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refusals: Vec::new(),
            token_requests: 0,
            picture_requests: 0,
        }));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("binding the mock provider");
        let port = acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("a TCP address")
            .port();
        let routes = Route::new()
            .at("/authorize", get(authorize))
            .at("/token", post(token))
            .at("/userinfo", get(userinfo))
            .at("/picture.png", get(picture))
            .data(shared.clone());
        let server = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(routes).await;
        });
        Self {
            address: format!("http://127.0.0.1:{port}"),
            shared,
            server,
        }
    }

    /// The settings overrides that point `provider` at this mock.
    pub fn settings(&self, provider: &str) -> Vec<(String, String)> {
        let style = self.shared.lock().unwrap().style;
        let key = |k: &str| format!("oauth.{provider}.{k}");
        vec![
            (key("client_id"), CLIENT_ID.to_owned()),
            (key("client_secret"), CLIENT_SECRET.to_owned()),
            (key("authorize_url"), format!("{}/authorize", self.address)),
            (key("token_url"), format!("{}/token", self.address)),
            (key("userinfo_url"), format!("{}/userinfo", self.address)),
            (key("pkce"), (style == Style::Indeed).to_string()),
            (
                key("credentials_in_body"),
                (style == Style::Linkedin).to_string(),
            ),
            (key("picture_hosts"), "127.0.0.1".to_owned()),
        ]
    }

    /// What userinfo answers from now on.
    pub fn set_profile(&self, profile: Value) {
        self.shared.lock().unwrap().profile = profile;
    }

    pub fn set_picture(&self, bytes: Vec<u8>) {
        self.shared.lock().unwrap().picture = bytes;
    }

    /// The candidate declines at the provider.
    pub fn set_deny(&self, deny: bool) {
        self.shared.lock().unwrap().deny = deny;
    }

    pub fn set_token_mode(&self, mode: TokenMode) {
        self.shared.lock().unwrap().token_mode = mode;
    }

    pub fn refusals(&self) -> Vec<String> {
        self.shared.lock().unwrap().refusals.clone()
    }

    pub fn token_requests(&self) -> usize {
        self.shared.lock().unwrap().token_requests
    }

    pub fn picture_requests(&self) -> usize {
        self.shared.lock().unwrap().picture_requests
    }

    pub fn picture_url(&self) -> String {
        format!("{}/picture.png", self.address)
    }

    pub fn stop(self) {
        self.server.abort();
    }
}

fn refuse(shared: &Shared, status: StatusCode, error: &str, why: &str) -> Response {
    shared.lock().unwrap().refusals.push(why.to_owned());
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(json!({ "error": error, "error_description": why }).to_string())
}

fn random() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[handler]
fn authorize(Query(query): Query<HashMap<String, String>>, shared: Data<&Shared>) -> Response {
    let shared = shared.0;
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    let style = shared.lock().unwrap().style;
    if get("response_type") != "code" || get("client_id") != CLIENT_ID {
        return refuse(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "authorize: bad client or response type",
        );
    }
    let redirect_uri = get("redirect_uri");
    let state = get("state");
    if redirect_uri.is_empty() || state.is_empty() || get("scope").is_empty() {
        return refuse(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "authorize: missing redirect_uri, state or scope",
        );
    }
    let challenge = query.get("code_challenge").cloned();
    match style {
        Style::Indeed if challenge.is_none() || get("code_challenge_method") != "S256" => {
            return refuse(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "authorize: PKCE S256 required",
            );
        }
        Style::Linkedin if challenge.is_some() => {
            return refuse(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "authorize: no PKCE here",
            );
        }
        _ => {}
    }
    let mut back = url::Url::parse(&redirect_uri).expect("redirect_uri is a URL");
    let mut mock = shared.lock().unwrap();
    if mock.deny {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "the member declined")
            .append_pair("state", &state);
    } else {
        let code = random();
        mock.codes.insert(
            code.clone(),
            Grant {
                redirect_uri,
                challenge,
            },
        );
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state);
    }
    Response::builder()
        .status(StatusCode::FOUND)
        .header("Location", back.to_string())
        .finish()
}

/// The client id and secret from `Authorization: Basic`, URL-decoded (RFC 6749 2.3.1).
fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let header = req.header("Authorization")?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(header).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

#[handler]
fn token(
    req: &Request,
    Form(form): Form<HashMap<String, String>>,
    shared: Data<&Shared>,
) -> Response {
    let shared = shared.0;
    let get = |k: &str| form.get(k).cloned();
    let (style, mode) = {
        let mut mock = shared.lock().unwrap();
        mock.token_requests += 1;
        (mock.style, mock.token_mode)
    };
    if mode == TokenMode::Garbage {
        return Response::builder()
            .content_type("text/html")
            .body("<html><body>Something went wrong</body></html>");
    }
    if get("grant_type").as_deref() != Some("authorization_code") {
        return refuse(
            shared,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "token: grant_type",
        );
    }
    let credentials_ok = match style {
        Style::Linkedin => {
            req.header("Authorization").is_none()
                && get("client_id").as_deref() == Some(CLIENT_ID)
                && get("client_secret").as_deref() == Some(CLIENT_SECRET)
        }
        Style::Indeed => {
            get("client_secret").is_none()
                && basic_credentials(req) == Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned()))
        }
    };
    if !credentials_ok {
        return refuse(
            shared,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "token: credentials in the wrong place or wrong",
        );
    }
    if style == Style::Linkedin && get("code_verifier").is_some() {
        return refuse(
            shared,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "token: a code_verifier was sent",
        );
    }
    let Some(grant) = get("code").and_then(|code| shared.lock().unwrap().codes.remove(&code))
    else {
        return refuse(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "token: unknown or used code",
        );
    };
    if get("redirect_uri").as_deref() != Some(grant.redirect_uri.as_str()) {
        return refuse(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "token: redirect_uri differs",
        );
    }
    if let Some(challenge) = grant.challenge {
        let verified = get("code_verifier").is_some_and(|verifier| {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
        });
        if !verified {
            return refuse(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "token: PKCE verifier does not match",
            );
        }
    }
    let access_token = random();
    let mut mock = shared.lock().unwrap();
    let profile = mock.profile.clone();
    mock.tokens.insert(access_token.clone(), profile);
    poem::IntoResponse::into_response(Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": random(),
        "scope": "openid profile email",
    })))
}

#[handler]
fn userinfo(req: &Request, shared: Data<&Shared>) -> Response {
    let shared = shared.0;
    let bearer = req
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    let profile = shared.lock().unwrap().tokens.get(bearer).cloned();
    match profile {
        Some(profile) => poem::IntoResponse::into_response(Json(profile)),
        None => refuse(
            shared,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "userinfo: bad token",
        ),
    }
}

#[handler]
fn picture(shared: Data<&Shared>) -> Response {
    let mut mock = shared.0.lock().unwrap();
    mock.picture_requests += 1;
    Response::builder()
        .content_type("image/png")
        .body(mock.picture.clone())
}
