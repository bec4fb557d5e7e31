//! The pages a retention reminder links to: `GET /consent/{token}` shows the
//! deletion date and two buttons and changes nothing (mail scanners open
//! links); only the page's `POST` acts. Plain HTML forms, no script, readable
//! on a phone. A token that is unknown, expired or used up answers 404 with a
//! page that says nothing about any application.

use std::sync::Arc;

use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Form, Path},
};
use serde::Deserialize;

use super::{date, error_page, escape, page};
use crate::{
    app::AppState,
    domain::keys::hash_secret,
    retention::links::{self, ChooseByLink, Chosen, LinkChoice},
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
    let now = state.now();
    let Some(hash) = token_hash(&token) else {
        return not_found();
    };
    match links::link_view(&state.db, &state.policy, &hash, now).await {
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
        return error_page(StatusCode::BAD_REQUEST);
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
    error_page(StatusCode::SERVICE_UNAVAILABLE)
}
