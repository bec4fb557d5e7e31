//! The pages a retention reminder links to: `GET /consent/{token}` shows the
//! deletion date and two buttons and changes nothing (mail scanners open
//! links); only the page's `POST` acts. Plain HTML forms, no script, readable
//! on a phone. A token that is unknown, expired or used up answers 404 with a
//! page that says nothing about any application.

use std::sync::Arc;

use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Form, Path, Query},
};
use serde::Deserialize;

use super::{error_page, escape, page_in, privacy::language, text::Texts, token_hash};
use crate::{
    app::AppState,
    domain::lang::Lang,
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
    lang: Option<String>,
}

/// A sentence with its `{job}` and `{date}` filled in, escaped, the date in
/// bold.
fn fill(text: &str, job: &str, date: &str) -> String {
    escape(text)
        .replace("{job}", &escape(job))
        .replace("{date}", &format!("<strong>{}</strong>", escape(date)))
}

#[derive(Deserialize)]
pub struct LangChoice {
    lang: Option<String>,
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    req: &Request,
    token: Path<String>,
    query: Query<LangChoice>,
) -> Response {
    let now = state.now();
    let Some(hash) = token_hash(&token) else {
        return not_found(language(req, query.lang.as_deref(), None));
    };
    match links::link_view(&state.db, &state.policy, &hash, now).await {
        Ok(Some(valid)) if valid.used_for() != Some(LinkChoice::Withdraw) => {
            let lang = language(req, query.lang.as_deref(), valid.lang);
            let t = Texts::of(lang);
            let job = &valid.job_title;
            let hidden = format!("<input type=\"hidden\" name=\"lang\" value=\"{lang}\">");
            let kept = if valid.used_for() == Some(LinkChoice::Extend) {
                format!(
                    "<p>{}</p>",
                    fill(t.consent_kept, job, &lang.date(valid.purge_after))
                )
            } else {
                format!(
                    "<p>{}</p>\
                     <form method=\"post\">{hidden}<input type=\"hidden\" name=\"action\" value=\"extend\">\
                     <button type=\"submit\">{}</button></form>",
                    fill(t.consent_deleted_on, job, &lang.date(valid.purge_after)),
                    escape(t.consent_keep_button)
                        .replace("{date}", &lang.date(valid.extended_until)),
                )
            };
            let title = t.consent_title.replace("{job}", job);
            page_in(
                lang,
                StatusCode::OK,
                &title,
                &format!(
                    "<h1>{}</h1>{kept}\
                     <form method=\"post\">{hidden}<input type=\"hidden\" name=\"action\" value=\"withdraw\">\
                     <button type=\"submit\" class=\"secondary\">{}</button></form>",
                    fill(t.consent_title, job, ""),
                    escape(t.consent_delete_button),
                ),
            )
        }
        Ok(_) => not_found(language(req, query.lang.as_deref(), None)),
        Err(err) => unavailable(&err),
    }
}

#[handler]
pub async fn act(
    state: Data<&AppState>,
    req: &Request,
    token: Path<String>,
    form: Option<Form<ActionForm>>,
) -> Response {
    let Some(Form(ActionForm { action, lang })) = form else {
        return error_page(StatusCode::BAD_REQUEST);
    };
    let lang = language(req, lang.as_deref(), None);
    let t = Texts::of(lang);
    let Some(token_hash) = token_hash(&token) else {
        return not_found(lang);
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
        Ok(Chosen::Extended(until)) => page_in(
            lang,
            StatusCode::OK,
            t.thanks_title,
            &format!(
                "<h1>{}</h1><p>{}</p>",
                escape(t.thanks_title),
                fill(t.thanks_text, "", &lang.date(until))
            ),
        ),
        Ok(Chosen::Withdrawn) => page_in(
            lang,
            StatusCode::OK,
            t.withdrawn_title,
            &format!(
                "<h1>{}</h1><p>{}</p>",
                escape(t.withdrawn_title),
                escape(t.withdrawn_text)
            ),
        ),
        Ok(Chosen::Invalid) => not_found(lang),
        Err(err) => unavailable(&err),
    }
}

fn not_found(lang: Lang) -> Response {
    let t = Texts::of(lang);
    page_in(
        lang,
        StatusCode::NOT_FOUND,
        t.invalid_link_title,
        &format!(
            "<h1>{}</h1><p>{}</p>",
            escape(t.invalid_link_title),
            escape(t.consent_invalid_text)
        ),
    )
}

fn unavailable(err: &sea_orm::DbErr) -> Response {
    tracing::error!(error = %err, "consent page failed");
    error_page(StatusCode::SERVICE_UNAVAILABLE)
}
