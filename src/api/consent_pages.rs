//! The pages a retention reminder links to: `GET /consent/{token}` shows the
//! deletion date and two buttons and changes nothing (mail scanners open
//! links); only the page's `POST` acts. Plain HTML forms, no script, readable
//! on a phone. A token that is unknown, expired or used up answers 404 with a
//! page that says nothing about any application.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Form, Path},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::keys::hash_secret,
    store::{
        self,
        retention::{ChooseByLink, Chosen, LinkChoice},
    },
};

/// What the candidate chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Keep the application `consent.extension` longer.
    Extend,
    /// Delete it now.
    Withdraw,
}

impl From<Action> for LinkChoice {
    fn from(action: Action) -> Self {
        match action {
            Action::Extend => LinkChoice::Extend,
            Action::Withdraw => LinkChoice::Withdraw,
        }
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: Action,
}

/// A token longer than any we make is not looked up.
fn token_hash(token: &str) -> Option<String> {
    (token.len() <= 100).then(|| hash_secret(token))
}

#[handler]
pub async fn show(state: Data<&AppState>, token: Path<String>) -> Response {
    let now = Utc::now();
    let Some(hash) = token_hash(&token) else {
        return not_found();
    };
    match store::retention::link_view(&state.db, &state.policy, &hash, now).await {
        Ok(Some(valid)) if valid.used_for() != Some(LinkChoice::Withdraw) => {
            let kept = if valid.used_for() == Some(LinkChoice::Extend) {
                format!(
                    "<p>You asked us to keep it: your data will be deleted on <strong>{}</strong>.</p>",
                    date(valid.purge_after)
                )
            } else {
                format!(
                    "<p>Your data will be deleted on <strong>{}</strong>.</p>\
                     <form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"extend\">\
                     <button type=\"submit\">Keep my application until {}</button></form>",
                    date(valid.purge_after),
                    date(valid.extended_until)
                )
            };
            page(
                StatusCode::OK,
                "Your application",
                &format!(
                    "<h1>Your application for {}</h1>{kept}\
                     <form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"withdraw\">\
                     <button type=\"submit\" class=\"secondary\">Delete my data now</button></form>",
                    escape(&valid.job_title)
                ),
            )
        }
        Ok(_) => not_found(),
        Err(err) => unavailable(&err),
    }
}

#[handler]
pub async fn act(
    state: Data<&AppState>,
    token: Path<String>,
    form: Option<Form<ActionForm>>,
) -> Response {
    let Some(Form(ActionForm { action })) = form else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not understood",
            "<h1>Not understood</h1><p>Please use the buttons on the page the link in your email opens.</p>",
        );
    };
    let Some(token_hash) = token_hash(&token) else {
        return not_found();
    };
    let done = state
        .writer
        .run(ChooseByLink {
            token_hash,
            choice: action.into(),
            policy: Arc::clone(&state.policy),
            now: Utc::now(),
        })
        .await;
    match done {
        Ok(Chosen::Extended(until)) => page(
            StatusCode::OK,
            "Thank you",
            &format!(
                "<h1>Thank you</h1><p>We will keep your application until <strong>{}</strong>. \
                 You will hear from us before it is deleted.</p>",
                date(until)
            ),
        ),
        Ok(Chosen::Withdrawn) => page(
            StatusCode::OK,
            "Your data will be deleted",
            "<h1>Your data will be deleted</h1><p>Your application and every file of it \
             will be deleted in our next deletion run, within hours.</p>",
        ),
        Ok(Chosen::Invalid) => not_found(),
        Err(err) => unavailable(&err),
    }
}

fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link not valid",
        "<h1>This link is not valid</h1><p>It may have expired or have been used already.</p>",
    )
}

fn unavailable(err: &sea_orm::DbErr) -> Response {
    tracing::error!(error = %err, "consent page failed");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "<h1>Please try again later</h1><p>We could not record your choice just now.</p>",
    )
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A small, self-contained page; the link's token must not leak through a
/// referrer, a cache or a frame.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font-size:1rem;padding:.75rem 1rem;margin:.5rem 0;width:100%;border-radius:.4rem;\
         border:1px solid #245;background:#245;color:#fff}}\
         button.secondary{{background:#fff;color:#245}}</style></head><body>{body}</body></html>"
    );
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .header("X-Frame-Options", "DENY")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        )
        .body(html)
}
