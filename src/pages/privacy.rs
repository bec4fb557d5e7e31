//! The privacy pages: `/privacy/requests` asks for a sign-in link by email
//! (the same answer whether or not we hold data for the address),
//! `/privacy/verify/{token}` redeems it behind a button (mail scanners open
//! links), and `/privacy/me` shows the candidate everything we hold and lets
//! them download it, restrict its processing, withdraw consent or object to
//! the talent pool, and erase it all. Plain forms, no script; each page in
//! the candidate's language with a switch to the others.

use std::{collections::BTreeSet, sync::Arc, time::Instant};

use askama::Template;
use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Form, Path, Query},
};
use serde::Deserialize;

use super::{page_in, text::Texts, token_hash};
use crate::{
    app::AppState,
    domain::{
        fields::{self, Email},
        keys::hash_secret,
        lang::Lang,
        subject_request::SubjectRequestKind,
    },
    privacy::{
        candidate_actor,
        email::{self, AskForEmailChange, ConfirmEmailChange},
        rights::{self, AskForCorrection, Correct, Restrict, Withdraw},
        session::{self, AskForLink, EndSessions, StartSession},
    },
    retention::{policy::RetentionRule, records::facts_of},
    store::{self, applications::Rectification, audit::Access, entity::legal_hold},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// `(code, own name, is it the page's)` of each language, for the switch.
type Switch = Vec<(&'static str, &'static str, bool)>;

fn switch(lang: Lang) -> Switch {
    Lang::ALL
        .iter()
        .map(|l| (l.as_str(), l.name(), *l == lang))
        .collect()
}

#[derive(Template)]
#[template(path = "requests.html", config = "src/pages/askama.toml")]
struct RequestsPage {
    t: &'static Texts,
    lang: Lang,
    switch: Switch,
    invalid: bool,
}

#[derive(Template)]
#[template(path = "message.html", config = "src/pages/askama.toml")]
struct MessagePage {
    t: &'static Texts,
    lang: Lang,
    switch: Switch,
    title: &'static str,
    text: &'static str,
    more: Option<&'static str>,
    again: bool,
}

/// A link's page: one button that does what the link is for (mail
/// scanners open links; only a person presses buttons).
#[derive(Template)]
#[template(path = "verify.html", config = "src/pages/askama.toml")]
struct ConfirmPage {
    t: &'static Texts,
    lang: Lang,
    switch: Switch,
    title: &'static str,
    text: &'static str,
    button: &'static str,
}

fn confirm_page(
    lang: Lang,
    title: &'static str,
    text: &'static str,
    button: &'static str,
) -> Response {
    let page = ConfirmPage {
        t: Texts::of(lang),
        lang,
        switch: switch(lang),
        title,
        text,
        button,
    };
    render(lang, StatusCode::OK, title, &page)
}

#[derive(Template)]
#[template(path = "erase.html", config = "src/pages/askama.toml")]
struct ErasePage {
    t: &'static Texts,
    lang: Lang,
    switch: Switch,
}

#[derive(Template)]
#[template(path = "me.html", config = "src/pages/askama.toml")]
struct MePage {
    t: &'static Texts,
    lang: Lang,
    switch: Switch,
    notice: Option<&'static str>,
    applications: Vec<ApplicationView>,
    processors: Vec<String>,
    restricted: bool,
    /// Open requests: their kind in words and when they are due.
    requests: Vec<(&'static str, String)>,
}

/// One application as its candidate sees it.
struct ApplicationView {
    id: uuid::Uuid,
    full_name: String,
    email: String,
    phone: String,
    linkedin_url: String,
    indeed_url: String,
    job: String,
    applied: String,
    status: &'static str,
    deleted: String,
    why: &'static str,
    sources: String,
    talent_pool: bool,
    held: bool,
    held_until: Option<String>,
    /// A hold's category in words, and its reason unless confidential.
    hold_kind: Option<&'static str>,
    hold_reason: Option<String>,
    restricted_since: Option<String>,
}

fn render(lang: Lang, status: StatusCode, title: &str, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => page_in(lang, status, title, &body),
        Err(err) => {
            tracing::error!(error = %err, "a privacy page failed to render");
            super::error_page(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn message(
    lang: Lang,
    status: StatusCode,
    title: &'static str,
    text: &'static str,
    again: bool,
) -> Response {
    let t = Texts::of(lang);
    let page = MessagePage {
        t,
        lang,
        switch: switch(lang),
        title,
        text,
        more: None,
        again,
    };
    render(lang, status, title, &page)
}

/// The error page of a status, in the candidate's language.
fn error(lang: Lang, status: StatusCode) -> Response {
    let t = Texts::of(lang);
    let (title, text) = match status {
        StatusCode::NOT_FOUND => (t.not_found_title, t.not_found_text),
        StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => (t.refused_title, t.refused_text),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            (t.busy_title, t.busy_text)
        }
        _ => (t.failed_title, t.failed_text),
    };
    let mut response = message(lang, status, title, text, false);
    if matches!(
        status,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECS.into());
    }
    response
}

fn unavailable(lang: Lang, err: &sea_orm::DbErr) -> Response {
    tracing::error!(error = %err, "a privacy page failed");
    let status = if store::is_unavailable(err) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    error(lang, status)
}

#[derive(Deserialize)]
pub struct LangChoice {
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
    lang: Option<String>,
}

/// The page's language: the one chosen on the page, else the one stored for
/// the candidate, else the browser's, else English.
pub(super) fn language(req: &Request, chosen: Option<&str>, stored: Option<Lang>) -> Lang {
    chosen
        .and_then(Lang::parse)
        .or(stored)
        .or_else(|| {
            req.header(header::ACCEPT_LANGUAGE)
                .and_then(Lang::negotiate)
        })
        .unwrap_or_default()
}

#[handler]
pub async fn requests_form(req: &Request, query: Query<LangChoice>) -> Response {
    let lang = language(req, query.lang.as_deref(), None);
    requests_page(lang, StatusCode::OK, false)
}

fn requests_page(lang: Lang, status: StatusCode, invalid: bool) -> Response {
    let t = Texts::of(lang);
    let page = RequestsPage {
        t,
        lang,
        switch: switch(lang),
        invalid,
    };
    render(lang, status, t.requests_title, &page)
}

#[handler]
pub async fn request_link(
    state: Data<&AppState>,
    req: &Request,
    form: Option<Form<EmailForm>>,
) -> Response {
    let Some(Form(form)) = form else {
        return error(language(req, None, None), StatusCode::BAD_REQUEST);
    };
    let lang = language(req, form.lang.as_deref(), None);
    let client = state.client_address.of(req);
    let verdict = state
        .privacy_limiter
        .lock()
        .expect("rate limiter lock")
        .check(&client, Instant::now());
    if verdict.is_err() {
        return error(lang, StatusCode::TOO_MANY_REQUESTS);
    }
    let Ok(email) = Email::parse("email", &form.email) else {
        return requests_page(lang, StatusCode::UNPROCESSABLE_ENTITY, true);
    };
    let settings = &state.settings;
    let asked = state
        .writer
        .run(AskForLink {
            email_hash: session::email_hash(&state.intake_hash, &email.normalised),
            email_normalised: email.normalised,
            lang,
            per_hour: settings.privacy.links_per_hour_per_email,
            link_ttl: settings.privacy.link_ttl.0,
            domain: crate::mail::message_domain(&settings.server.public_url),
        })
        .await;
    match asked {
        // The same page whether a mail went or not.
        Ok(_) => {
            let t = Texts::of(lang);
            message(lang, StatusCode::OK, t.sent_title, t.sent_text, false)
        }
        Err(err) => unavailable(lang, &err),
    }
}

fn invalid_link(lang: Lang) -> Response {
    let t = Texts::of(lang);
    message(
        lang,
        StatusCode::NOT_FOUND,
        t.invalid_link_title,
        t.invalid_link_text,
        true,
    )
}

#[handler]
pub async fn verify_form(
    state: Data<&AppState>,
    req: &Request,
    token: Path<String>,
    query: Query<LangChoice>,
) -> Response {
    let lang = language(req, query.lang.as_deref(), None);
    let valid = match token_hash(&token) {
        Some(hash) => session::link_is_valid(&state.db, &hash, state.now()).await,
        None => Ok(false),
    };
    let t = Texts::of(lang);
    link_page(lang, valid, t.verify_title, t.verify_text, t.verify_button)
}

/// The page a mailed link opens: its one button while the link is valid.
fn link_page(
    lang: Lang,
    valid: Result<bool, sea_orm::DbErr>,
    title: &'static str,
    text: &'static str,
    button: &'static str,
) -> Response {
    match valid {
        Ok(true) => confirm_page(lang, title, text, button),
        Ok(false) => invalid_link(lang),
        Err(err) => unavailable(lang, &err),
    }
}

/// The page's language and the token's hash of a link's button press;
/// only the language for a token longer than any we make.
fn pressed(
    req: &Request,
    form: Option<&Form<LangChoice>>,
    token: &str,
) -> Result<(Lang, String), Lang> {
    let lang = language(req, form.and_then(|f| f.lang.as_deref()), None);
    token_hash(token).map(|hash| (lang, hash)).ok_or(lang)
}

#[handler]
pub async fn verify(
    state: Data<&AppState>,
    req: &Request,
    token: Path<String>,
    form: Option<Form<LangChoice>>,
) -> Response {
    let (lang, link_hash) = match pressed(req, form.as_ref(), &token) {
        Ok(pressed) => pressed,
        Err(lang) => return invalid_link(lang),
    };
    let (session_token, session_hash) = session::new_token();
    let ttl = state.settings.privacy.session_ttl.0;
    let started = state
        .writer
        .run(StartSession {
            link_hash,
            session_hash,
            lang,
            ttl,
        })
        .await;
    match started {
        Ok(true) => {
            let secure = state.settings.server.public_url.starts_with("https://");
            let cookie = format!(
                "{}={session_token}; Path=/privacy; HttpOnly; SameSite=Strict; Max-Age={}{}",
                session::COOKIE,
                ttl.num_seconds(),
                if secure { "; Secure" } else { "" }
            );
            see_other(&format!("/privacy/me?lang={lang}")).with_header(header::SET_COOKIE, cookie)
        }
        Ok(false) => invalid_link(lang),
        Err(err) => unavailable(lang, &err),
    }
}

fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

trait WithHeader {
    fn with_header(self, name: header::HeaderName, value: String) -> Self;
}

impl WithHeader for Response {
    fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        if let Ok(value) = value.parse() {
            self.headers_mut().insert(name, value);
        }
        self
    }
}

/// The session token the candidate's cookie carries.
fn session_token(req: &Request) -> Option<&str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(session::COOKIE)?.strip_prefix('='))
}

/// The candidate signed in, or the page that says the session ended.
async fn signed_in(state: &AppState, req: &Request, lang: Lang) -> Result<uuid::Uuid, Response> {
    let token = session_token(req).unwrap_or_default();
    match session::session_candidate(&state.db, token, state.now()).await {
        Ok(Some(candidate)) => Ok(candidate),
        Ok(None) => {
            let t = Texts::of(lang);
            Err(message(
                lang,
                StatusCode::UNAUTHORIZED,
                t.expired_title,
                t.expired_text,
                true,
            ))
        }
        Err(err) => Err(unavailable(lang, &err)),
    }
}

/// A form the signed-in candidate posts, with the page's language.
trait Posted {
    fn lang(&self) -> Option<&str>;
}

macro_rules! posted {
    ($($form:ty),+) => {
        $(impl Posted for $form {
            fn lang(&self) -> Option<&str> {
                self.lang.as_deref()
            }
        })+
    };
}

posted!(EmailForm, CorrectionForm, CorrectionRequestForm);

/// A signed-in candidate's form post: the form, the page's language and
/// the candidate; else the page that answers it.
async fn signed_in_post<F: Posted>(
    state: &AppState,
    req: &Request,
    form: Option<Form<F>>,
) -> Result<(F, Lang, uuid::Uuid), Response> {
    let Some(Form(form)) = form else {
        return Err(error(language(req, None, None), StatusCode::BAD_REQUEST));
    };
    let lang = language(req, form.lang(), None);
    let candidate = signed_in(state, req, lang).await?;
    Ok((form, lang, candidate))
}

#[derive(Deserialize)]
pub struct MeQuery {
    lang: Option<String>,
    done: Option<String>,
}

#[handler]
pub async fn me(state: Data<&AppState>, req: &Request, query: Query<MeQuery>) -> Response {
    let lang = language(req, query.lang.as_deref(), None);
    let candidate = match signed_in(&state, req, lang).await {
        Ok(candidate) => candidate,
        Err(page) => return page,
    };
    match overview(&state, candidate, lang, query.done.as_deref()).await {
        Ok(page) => render(lang, StatusCode::OK, Texts::of(lang).me_title, &page),
        Err(err) => unavailable(lang, &err),
    }
}

/// Everything the candidate's page shows, read and recorded as an access.
async fn overview(
    state: &AppState,
    candidate: uuid::Uuid,
    lang: Lang,
    done: Option<&str>,
) -> Result<MePage, sea_orm::DbErr> {
    let t = Texts::of(lang);
    let applications = rights::applications(&state.db, candidate).await?;
    let facts = facts_of(&state.db, &applications).await?;
    let jobs = store::jobs::titles(&state.db, applications.iter().map(|a| a.job_id)).await?;
    let holds = legal_hold::Entity::find()
        .filter(legal_hold::Column::ApplicationId.is_in(applications.iter().map(|a| a.id)))
        .all(&state.db)
        .await?;
    let requests = store::subject_requests::open_for_candidate(&state.db, candidate)
        .await?
        .into_iter()
        .map(|r| {
            let kind = SubjectRequestKind::ALL
                .iter()
                .position(|k| *k == r.kind)
                .map_or("", |i| t.request_kinds[i]);
            (kind, lang.date(r.extended_until.unwrap_or(r.due_at)))
        })
        .collect();
    state
        .audit
        .record(Access {
            actor: candidate_actor(),
            action: "candidate.viewed",
            application_id: None,
            subject_id: Some(candidate),
        })
        .await?;
    let now = state.now();
    let restricted = applications.iter().any(|a| a.restricted_at.is_some());
    let views = applications
        .iter()
        .map(|a| {
            let facts = facts.iter().find(|(id, _)| *id == a.id).map(|(_, f)| f);
            let retention = facts.map(|f| state.policy.retention(f, now));
            let why = match retention.as_ref().map(|r| &r.rule) {
                Some(RetentionRule::Consent) => t.why_consent,
                Some(RetentionRule::Erasure) => t.why_erasure,
                Some(RetentionRule::AfterInactivity) => t.why_inactivity,
                _ => t.why_decision,
            };
            let hold = facts.and_then(|f| f.hold.clone());
            let placed = holds.iter().find(|h| h.application_id == a.id);
            ApplicationView {
                id: a.id,
                full_name: a.full_name.clone(),
                email: a.email.clone(),
                phone: a.phone.clone().unwrap_or_default(),
                linkedin_url: a.linkedin_url.clone().unwrap_or_default(),
                indeed_url: a.indeed_url.clone().unwrap_or_default(),
                job: jobs.get(&a.job_id).cloned().unwrap_or_default(),
                applied: lang.date(a.created_at),
                status: lang.status(a.status),
                deleted: lang.date(
                    retention
                        .as_ref()
                        .map(|r| r.purge_after)
                        .or(a.purge_after)
                        .unwrap_or(now),
                ),
                why,
                sources: sources(a.provenance.as_deref(), t),
                talent_pool: a.talent_pool_consent,
                held: retention.as_ref().is_some_and(|r| r.held),
                held_until: hold
                    .and_then(|h| h.until)
                    .filter(|until| *until > now)
                    .map(|until| lang.date(until)),
                hold_kind: placed.map(|h| t.hold_kind_of(h.category)),
                hold_reason: placed.filter(|h| !h.confidential).map(|h| h.reason.clone()),
                restricted_since: a.restricted_at.map(|at| lang.date(at)),
            }
        })
        .collect();
    Ok(MePage {
        t,
        lang,
        switch: switch(lang),
        notice: done.and_then(|done| match done {
            "restricted" => Some(t.done_restricted),
            "unrestricted" => Some(t.done_unrestricted),
            "withdrawn" => Some(t.done_withdrawn),
            "objected" => Some(t.done_objected),
            "corrected" => Some(t.done_corrected),
            "requested" => Some(t.done_requested),
            "invalid" => Some(t.invalid_details),
            "email_sent" => Some(t.done_email_sent),
            "email_changed" => Some(t.email_changed_text),
            _ => None,
        }),
        applications: views,
        processors: state.settings.privacy.processors.clone(),
        restricted,
        requests,
    })
}

/// Where an application's data came from, in words.
fn sources(provenance: Option<&str>, t: &Texts) -> String {
    let origins: BTreeSet<String> = provenance
        .and_then(|p| serde_json::from_str::<std::collections::BTreeMap<String, String>>(p).ok())
        .map(|fields| fields.into_values().collect())
        .unwrap_or_else(|| BTreeSet::from(["form".to_owned()]));
    origins
        .iter()
        .map(|origin| match origin.as_str() {
            "linkedin" => "LinkedIn",
            "indeed" => "Indeed",
            "indeed-apply" => "Indeed Apply",
            _ => t.source_form,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(", ")
}

#[handler]
pub async fn erase_form(
    state: Data<&AppState>,
    req: &Request,
    query: Query<LangChoice>,
) -> Response {
    let lang = language(req, query.lang.as_deref(), None);
    if let Err(page) = signed_in(&state, req, lang).await {
        return page;
    }
    let t = Texts::of(lang);
    let page = ErasePage {
        t,
        lang,
        switch: switch(lang),
    };
    render(lang, StatusCode::OK, t.erase_title, &page)
}

#[handler]
pub async fn act(
    state: Data<&AppState>,
    req: &Request,
    form: Option<Form<LangChoice>>,
) -> Response {
    // `/privacy/me/{action}`, and `/privacy/me/erase` (whose GET confirms).
    let action = req.uri().path().rsplit('/').next().unwrap_or_default();
    let chosen = form.as_ref().and_then(|f| f.lang.clone());
    let lang = language(req, chosen.as_deref(), None);
    let candidate = match signed_in(&state, req, lang).await {
        Ok(candidate) => candidate,
        Err(page) => return page,
    };
    let t = Texts::of(lang);
    let back = |done: &str| see_other(&format!("/privacy/me?lang={lang}&done={done}"));
    let outcome = match action {
        "restrict" | "unrestrict" => {
            let restricted = action == "restrict";
            state
                .writer
                .run(Restrict {
                    candidate_id: candidate,
                    restricted,
                })
                .await
                .map(|()| {
                    back(if restricted {
                        "restricted"
                    } else {
                        "unrestricted"
                    })
                })
        }
        "withdraw" | "object" => {
            let objection = action == "object";
            state
                .writer
                .run(Withdraw {
                    candidate_id: candidate,
                    objection,
                    policy: Arc::clone(&state.policy),
                })
                .await
                .map(|()| back(if objection { "objected" } else { "withdrawn" }))
        }
        "erase" => erase(&state, candidate, lang).await,
        "sign-out" => state
            .writer
            .run(EndSessions {
                session_hash: session_token(req).map(hash_secret),
                candidate_id: None,
            })
            .await
            .map(|()| {
                message(
                    lang,
                    StatusCode::OK,
                    t.signed_out_title,
                    t.signed_out_text,
                    false,
                )
                .with_header(header::SET_COOKIE, clear_cookie())
            }),
        _ => return error(lang, StatusCode::NOT_FOUND),
    };
    outcome.unwrap_or_else(|err| unavailable(lang, &err))
}

fn clear_cookie() -> String {
    format!(
        "{}=; Path=/privacy; HttpOnly; SameSite=Strict; Max-Age=0",
        session::COOKIE
    )
}

/// Erases everything of the candidate now; what a hold keeps goes when it
/// lifts. The session ends with the data.
async fn erase(
    state: &AppState,
    candidate: uuid::Uuid,
    lang: Lang,
) -> Result<Response, sea_orm::DbErr> {
    let held = crate::retention::service::erase_candidate(state, candidate).await?;
    let t = Texts::of(lang);
    let mut page = MessagePage {
        t,
        lang,
        switch: switch(lang),
        title: t.erased_title,
        text: t.erased_text,
        more: None,
        again: false,
    };
    if held.is_empty() {
        state
            .writer
            .run(EndSessions {
                session_hash: None,
                candidate_id: Some(candidate),
            })
            .await?;
        Ok(render(lang, StatusCode::OK, t.erased_title, &page)
            .with_header(header::SET_COOKIE, clear_cookie()))
    } else {
        page.more = Some(t.erased_held);
        Ok(render(lang, StatusCode::OK, t.erased_title, &page))
    }
}

/// The candidate's page again, saying what they sent was not valid.
async fn invalid(state: &AppState, candidate: uuid::Uuid, lang: Lang) -> Response {
    match overview(state, candidate, lang, Some("invalid")).await {
        Ok(page) => render(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            Texts::of(lang).me_title,
            &page,
        ),
        Err(err) => unavailable(lang, &err),
    }
}

#[derive(Deserialize)]
pub struct CorrectionForm {
    lang: Option<String>,
    application_id: uuid::Uuid,
    full_name: String,
    phone: Option<String>,
    linkedin_url: Option<String>,
    indeed_url: Option<String>,
}

/// The details the candidate corrected, checked as the API checks them.
fn corrections(form: &CorrectionForm) -> Option<Rectification> {
    Some(Rectification {
        full_name: Some(fields::required_text("full_name", &form.full_name, 200).ok()?),
        phone: Some(fields::phone("phone", form.phone.as_deref()).ok()?),
        linkedin_url: Some(fields::web_url("linkedin_url", form.linkedin_url.as_deref()).ok()?),
        indeed_url: Some(fields::web_url("indeed_url", form.indeed_url.as_deref()).ok()?),
        ..Rectification::default()
    })
}

#[handler]
pub async fn correct(
    state: Data<&AppState>,
    req: &Request,
    form: Option<Form<CorrectionForm>>,
) -> Response {
    let (form, lang, candidate) = match signed_in_post(&state, req, form).await {
        Ok(posted) => posted,
        Err(page) => return page,
    };
    let Some(changes) = corrections(&form) else {
        return invalid(&state, candidate, lang).await;
    };
    let corrected = state
        .writer
        .run(Correct {
            candidate_id: candidate,
            application_id: form.application_id,
            changes,
            policy: Arc::clone(&state.policy),
        })
        .await;
    match corrected {
        Ok(true) => see_other(&format!("/privacy/me?lang={lang}&done=corrected")),
        Ok(false) => error(lang, StatusCode::NOT_FOUND),
        Err(err) => unavailable(lang, &err),
    }
}

#[derive(Deserialize)]
pub struct CorrectionRequestForm {
    lang: Option<String>,
    details: String,
}

#[handler]
pub async fn ask_for_correction(
    state: Data<&AppState>,
    req: &Request,
    form: Option<Form<CorrectionRequestForm>>,
) -> Response {
    let (form, lang, candidate) = match signed_in_post(&state, req, form).await {
        Ok(posted) => posted,
        Err(page) => return page,
    };
    let Ok(Some(details)) = fields::long_text("details", Some(&form.details), 5000) else {
        return invalid(&state, candidate, lang).await;
    };
    let asked = state
        .writer
        .run(AskForCorrection {
            candidate_id: candidate,
            details,
        })
        .await;
    match asked {
        Ok(()) => see_other(&format!("/privacy/me?lang={lang}&done=requested")),
        Err(err) => unavailable(lang, &err),
    }
}

#[handler]
pub async fn export(state: Data<&AppState>, req: &Request, query: Query<LangChoice>) -> Response {
    let lang = language(req, query.lang.as_deref(), None);
    let candidate = match signed_in(&state, req, lang).await {
        Ok(candidate) => candidate,
        Err(page) => return page,
    };
    let export = match crate::privacy::export::export(&state, candidate, lang).await {
        Ok(export) => export,
        Err(crate::privacy::export::ExportError::UnknownCandidate) => {
            return error(lang, StatusCode::NOT_FOUND);
        }
        Err(crate::privacy::export::ExportError::Database(err)) => {
            return unavailable(lang, &err);
        }
    };
    if let Err(err) = state.writer.run(Exported(candidate)).await {
        return unavailable(lang, &err);
    }
    let file_name = export.file_name();
    Response::builder()
        .header(header::CONTENT_TYPE, "application/zip")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(export.into_body())
}

/// A download of the candidate's data: an access, on record as a fulfilled
/// access request.
struct Exported(uuid::Uuid);

impl store::writer::Unit for Exported {
    type Output = ();

    async fn run(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        store::audit::record(
            txn,
            now,
            &candidate_actor(),
            "candidate.exported",
            None,
            Some(self.0),
        )
        .await?;
        store::subject_requests::record_self_service(
            txn,
            self.0,
            SubjectRequestKind::Access,
            None,
            true,
            now,
        )
        .await
        .map(|_| ())
    }
}

/// Asks for a new address: a link goes to it, and the address changes when
/// it is followed.
#[handler]
pub async fn change_email(
    state: Data<&AppState>,
    req: &Request,
    form: Option<Form<EmailForm>>,
) -> Response {
    let (form, lang, candidate) = match signed_in_post(&state, req, form).await {
        Ok(posted) => posted,
        Err(page) => return page,
    };
    let Ok(new_email) = Email::parse("email", &form.email) else {
        return invalid(&state, candidate, lang).await;
    };
    let settings = &state.settings;
    let asked = state
        .writer
        .run(AskForEmailChange {
            candidate_id: candidate,
            new_email,
            lang,
            per_hour: settings.privacy.links_per_hour_per_email,
            link_ttl: settings.privacy.link_ttl.0,
            domain: crate::mail::message_domain(&settings.server.public_url),
        })
        .await;
    match asked {
        Ok(true) => see_other(&format!("/privacy/me?lang={lang}&done=email_sent")),
        Ok(false) => error(lang, StatusCode::TOO_MANY_REQUESTS),
        Err(err) => unavailable(lang, &err),
    }
}

#[handler]
pub async fn email_form(
    state: Data<&AppState>,
    req: &Request,
    token: Path<String>,
    query: Query<LangChoice>,
) -> Response {
    let lang = language(req, query.lang.as_deref(), None);
    let valid = match token_hash(&token) {
        Some(hash) => email::change_of(&state.db, &hash, state.now())
            .await
            .map(|change| change.is_some()),
        None => Ok(false),
    };
    let t = Texts::of(lang);
    link_page(
        lang,
        valid,
        t.email_confirm_title,
        t.email_confirm_text,
        t.email_confirm_button,
    )
}

/// Follows an email change's link: the candidate's applications take the
/// new address. A browser signed in as that candidate goes back to their
/// page; any other is told it is done.
#[handler]
pub async fn confirm_email(
    state: Data<&AppState>,
    req: &Request,
    token: Path<String>,
    form: Option<Form<LangChoice>>,
) -> Response {
    let (lang, token_hash) = match pressed(req, form.as_ref(), &token) {
        Ok(pressed) => pressed,
        Err(lang) => return invalid_link(lang),
    };
    let confirmed = state
        .writer
        .run(ConfirmEmailChange {
            token_hash,
            policy: Arc::clone(&state.policy),
        })
        .await;
    let moved_to = match confirmed {
        Ok(Some(candidate)) => candidate,
        Ok(None) => return invalid_link(lang),
        Err(err) => return unavailable(lang, &err),
    };
    let token = session_token(req).unwrap_or_default();
    match session::session_candidate(&state.db, token, state.now()).await {
        Ok(Some(candidate)) if candidate == moved_to => {
            see_other(&format!("/privacy/me?lang={lang}&done=email_changed"))
        }
        _ => {
            let t = Texts::of(lang);
            message(
                lang,
                StatusCode::OK,
                t.email_changed_title,
                t.email_changed_text,
                false,
            )
        }
    }
}
