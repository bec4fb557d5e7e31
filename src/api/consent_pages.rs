//! The pages a retention reminder links to: `GET /consent/{token}` shows the
//! deletion date and two buttons and changes nothing (mail scanners open
//! links); only the page's `POST` acts. Plain HTML forms, no script, readable
//! on a phone. A token that is unknown, expired or used up answers 404 with a
//! page that says nothing about any application.

use chrono::{DateTime, Utc};
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Form, Path},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::{keys::hash_secret, retention::ConsentKind},
    store::{self, audit::Actor, entity::consent_link},
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

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Extend => "extend",
            Action::Withdraw => "withdraw",
        }
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: Action,
}

/// A link that works now, and what it is about.
struct Valid {
    link: consent_link::Model,
    job_title: String,
    purge_after: DateTime<Utc>,
    extended_until: DateTime<Utc>,
}

/// The link behind a token, unless unknown, expired, used up by a
/// withdrawal, or its application is gone.
async fn valid(
    db: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Valid>, sea_orm::DbErr> {
    if token.len() > 100 {
        return Ok(None);
    }
    let Some(link) = store::retention::find_link(db, &hash_secret(token), now).await? else {
        return Ok(None);
    };
    let Some(application) = store::applications::find(db, link.application_id).await? else {
        return Ok(None);
    };
    let Some(facts) = store::retention::facts(db, &application).await? else {
        return Ok(None);
    };
    let Some(job) = store::jobs::get(db, application.job_id).await? else {
        return Ok(None);
    };
    let retention = state.policy.retention(&facts, now);
    Ok(Some(Valid {
        purge_after: retention.purge_after,
        extended_until: state.policy.extended_at(&facts, now),
        job_title: job.title,
        link,
    }))
}

#[handler]
pub async fn show(state: Data<&AppState>, token: Path<String>) -> Response {
    let now = Utc::now();
    match valid(&state.db, &state, &token, now).await {
        Ok(Some(valid)) if valid.link.used_for.as_deref() != Some(Action::Withdraw.as_str()) => {
            let kept = if valid.link.used_for.as_deref() == Some(Action::Extend.as_str()) {
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

/// What a POST did.
enum Done {
    Extended(DateTime<Utc>),
    Withdrawn,
    Invalid,
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
    let app_state = (*state).clone();
    let token = token.0;
    let done = state
        .writer
        .write(move |txn| {
            let (state, token) = (app_state.clone(), token.clone());
            Box::pin(async move { choose(txn, &state, &token, action).await })
        })
        .await;
    match done {
        Ok(Done::Extended(until)) => page(
            StatusCode::OK,
            "Thank you",
            &format!(
                "<h1>Thank you</h1><p>We will keep your application until <strong>{}</strong>. \
                 You will hear from us before it is deleted.</p>",
                date(until)
            ),
        ),
        Ok(Done::Withdrawn) => page(
            StatusCode::OK,
            "Your data will be deleted",
            "<h1>Your data will be deleted</h1><p>Your application and every file of it \
             will be deleted in our next deletion run, within hours.</p>",
        ),
        Ok(Done::Invalid) => not_found(),
        Err(err) => unavailable(&err),
    }
}

/// Records the choice, once: the same choice again answers the same page.
async fn choose(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    token: &str,
    action: Action,
) -> Result<Done, sea_orm::DbErr> {
    let now = Utc::now();
    let Some(valid) = valid(txn, state, token, now).await? else {
        return Ok(Done::Invalid);
    };
    let used_for = valid.link.used_for.as_deref();
    let application_id = valid.link.application_id;
    match (action, used_for) {
        (Action::Extend, Some("extend")) => return Ok(Done::Extended(valid.purge_after)),
        (Action::Withdraw, Some("withdraw")) => return Ok(Done::Withdrawn),
        // Withdrawn: the link is used up.
        (Action::Extend, Some("withdraw")) => return Ok(Done::Invalid),
        _ => {}
    }
    let kind = match action {
        Action::Extend => ConsentKind::Extension,
        Action::Withdraw => ConsentKind::Erasure,
    };
    let candidate = Actor::default();
    let consent =
        store::retention::record_consent(txn, application_id, kind, "link".to_owned(), &candidate)
            .await?;
    store::retention::use_link(txn, &valid.link.token_hash, action.as_str(), now).await?;
    store::retention::refresh(txn, &state.policy, &[application_id]).await?;
    store::audit::record(
        txn,
        &candidate,
        "consent.recorded",
        Some(application_id),
        Some(consent.id),
    )
    .await?;
    tracing::info!(%application_id, kind = kind.as_str(), "consent given through a link");
    Ok(match action {
        Action::Extend => Done::Extended(valid.extended_until),
        Action::Withdraw => Done::Withdrawn,
    })
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
