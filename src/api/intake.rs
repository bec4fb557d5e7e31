//! Application intake from the careers site: multipart form with a CV and an
//! optional picture, optionally prefilled from a LinkedIn or Indeed import.
//! The careers-site key is public, so nothing here reveals or changes what
//! another submission stored: each application keeps its own details, and the
//! answer holds ids, status and document metadata only.

use chrono::Utc;
use poem_openapi::{ApiResponse, Multipart, payload::Json};
use uuid::Uuid;

use super::{
    applications::SubmittedApplication,
    auth::Caller,
    receive::{self, CheckedFile, Received},
    text::FormFlag,
    upload::FileUpload,
};
use crate::{
    app::AppState,
    domain::{
        fields::{self, Email},
        imports::{Provenance, Provider},
        keys::HashKey,
        sniff::DocumentKind,
        stats,
        status::JobStatus,
    },
    error::{ApiError, ApiResult},
    oauth,
    store::{
        self,
        applications::{ContactDetails, NewApplication},
        entity::oauth_import,
        intake::{IMPORT_GONE, IntakeKey},
    },
};

/// An application as the careers site's form posts it.
#[derive(Multipart)]
#[oai(deny_unknown_fields)]
pub(super) struct ApplicationForm {
    /// The open job applied to.
    job_id: Uuid,
    /// Required, unless the import in `import_id` gives it.
    #[oai(validator(max_length = 200))]
    full_name: Option<String>,
    /// Required, unless the import in `import_id` gives it (a verified address).
    #[oai(validator(max_length = 254))]
    email: Option<String>,
    #[oai(validator(max_length = 40))]
    phone: Option<String>,
    /// The cover letter as text.
    #[oai(validator(max_length = 20000))]
    cover_letter: Option<String>,
    /// PDF, DOCX, DOC, ODT, RTF or plain text; the type is read from the bytes.
    cv: FileUpload,
    /// JPEG, PNG or WebP.
    picture: Option<FileUpload>,
    #[oai(validator(max_length = 2000))]
    linkedin_url: Option<String>,
    #[oai(validator(max_length = 2000))]
    indeed_url: Option<String>,
    /// Where the candidate found us, such as `careers-site` or `linkedin`;
    /// with an import and without this, the import's provider.
    #[oai(validator(max_length = 40))]
    source: Option<String>,
    /// Which privacy notice the candidate accepted.
    #[oai(validator(max_length = 100))]
    privacy_notice_version: String,
    /// Whether the candidate agreed to stay in the talent pool.
    talent_pool_consent: Option<FormFlag>,
    /// The language the candidate used the careers site in, as a BCP 47 tag
    /// (`nl-BE`): their mails and pages are in it when it is one we serve
    /// (English, Dutch, French, German), else in English.
    #[oai(validator(max_length = 35))]
    locale: Option<String>,
    /// A LinkedIn or Indeed import (`GET /oauth/{provider}/start`): fills the
    /// fields the form leaves empty, once; the application's `provenance`
    /// tells which.
    import_id: Option<Uuid>,
}

/// The form's text, as sent.
struct FormText {
    job_id: Uuid,
    full_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    cover_letter: Option<String>,
    linkedin_url: Option<String>,
    indeed_url: Option<String>,
    source: Option<String>,
    privacy_notice_version: String,
    talent_pool_consent: Option<bool>,
    locale: Option<String>,
    import_id: Option<Uuid>,
}

#[derive(ApiResponse)]
pub(super) enum SubmitResponse {
    /// The application is stored durably. The same request again with the
    /// same `Idempotency-Key` answers this again and stores nothing.
    #[oai(status = 201)]
    Created(Json<SubmittedApplication>),
}

/// Checks and stores one application; see `ApplicationsApi::submit`.
pub(super) async fn submit(
    state: &AppState,
    caller: Caller,
    form: ApplicationForm,
    idempotency_key: Option<String>,
) -> ApiResult<SubmitResponse> {
    let ApplicationForm {
        job_id,
        full_name,
        email,
        phone,
        cover_letter,
        cv,
        picture,
        linkedin_url,
        indeed_url,
        source,
        privacy_notice_version,
        talent_pool_consent,
        locale,
        import_id,
    } = form;
    let text = FormText {
        job_id,
        full_name,
        email,
        phone,
        cover_letter,
        linkedin_url,
        indeed_url,
        source,
        privacy_notice_version,
        talent_pool_consent: talent_pool_consent.map(|flag| flag.0),
        locale,
        import_id,
    };
    // A closed job is invisible to the careers site, so it is not found here either.
    let job = store::jobs::get(&state.db, text.job_id)
        .await?
        .filter(|job| job.status == JobStatus::Open)
        .ok_or_else(|| ApiError::not_found("job_id: an open job with this id"))?;
    let limits = &state.settings.uploads;
    let mut files = vec![receive::check_file(DocumentKind::Cv, "cv", cv.0, limits).await?];
    if let Some(picture) = picture {
        files.push(receive::check_file(DocumentKind::Picture, "picture", picture.0, limits).await?);
    }
    let now = state.now();
    let intake_key = idempotency_key.map(|key| {
        let ttl = state.settings.intake.idempotency_ttl.0;
        idempotency_scope(
            &state.intake_hash,
            caller.key_id,
            &key,
            &text,
            &files,
            now + ttl,
        )
    });
    if let Some(key) = &intake_key
        && let Some(earlier) = replay(state, key).await?
    {
        return Ok(earlier);
    }
    let import = match text.import_id {
        Some(id) => Some(find_import(state, id, job.id).await?),
        None => None,
    };
    let mut new = validate(
        &text,
        import.as_ref(),
        job.id,
        &state.settings.stats.sources,
    )?;
    if files.len() == 2 {
        record_picture(&mut new, "form");
    } else if files.len() == 1
        && let Some(import) = &import
        && let Some(url) = &import.picture_url
        && let Some(picture) = imported_picture(state, import, url).await
    {
        files.push(picture);
        record_picture(&mut new, import.provider.as_str());
    }

    let received = Received {
        new,
        files,
        job_title: job.title.clone(),
        actor: caller.actor(),
        import_id: import.as_ref().map(|i| i.id),
        intake_key: intake_key.clone(),
        now,
        channel: channel(import.as_ref()),
    };
    match receive::store(state, received).await? {
        Ok(record) => Ok(SubmitResponse::Created(Json(record.into()))),
        Err(sea_orm::DbErr::RecordNotFound(what)) if what == IMPORT_GONE => Err(import_not_found()),
        Err(err) => {
            // A concurrent retry with the same Idempotency-Key won the race.
            if store::is_unique_violation(&err)
                && let Some(key) = &intake_key
                && let Some(earlier) = replay(state, key).await?
            {
                return Ok(earlier);
            }
            Err(err.into())
        }
    }
}

/// The idempotency scope of this key (the API key and its Idempotency-Key),
/// bound to a fingerprint of everything the request sent, files by digest.
fn idempotency_scope(
    hash: &HashKey,
    api_key_id: Uuid,
    idempotency_key: &str,
    text: &FormText,
    files: &[CheckedFile],
    expires_at: chrono::DateTime<Utc>,
) -> IntakeKey {
    let key_hash = hash.hash(&[
        b"idempotency-key",
        api_key_id.as_bytes(),
        idempotency_key.as_bytes(),
    ]);
    let job_id = text.job_id.to_string();
    let import_id = text.import_id.map(|id| id.to_string());
    let consent = text.talent_pool_consent.map(|c| c.to_string());
    let fields: [(&str, Option<&str>); 12] = [
        ("job_id", Some(&job_id)),
        ("full_name", text.full_name.as_deref()),
        ("email", text.email.as_deref()),
        ("phone", text.phone.as_deref()),
        ("cover_letter", text.cover_letter.as_deref()),
        ("linkedin_url", text.linkedin_url.as_deref()),
        ("indeed_url", text.indeed_url.as_deref()),
        ("source", text.source.as_deref()),
        (
            "privacy_notice_version",
            Some(text.privacy_notice_version.as_str()),
        ),
        ("talent_pool_consent", consent.as_deref()),
        ("locale", text.locale.as_deref()),
        ("import_id", import_id.as_deref()),
    ];
    let mut parts: Vec<&[u8]> = vec![b"application-form/1"];
    for (name, value) in &fields {
        parts.push(name.as_bytes());
        match value {
            Some(value) => parts.extend([b"=".as_slice(), value.as_bytes()]),
            None => parts.push(b"absent"),
        }
    }
    for file in files {
        parts.extend([b"file".as_slice(), file.sha256().as_bytes()]);
    }
    IntakeKey {
        key_hash,
        fingerprint: Some(hash.hash(&parts)),
        expires_at: Some(expires_at),
    }
}

/// The answer to a request sent before under this key: the first result for
/// the same request, 422 for another one, 410 when it was erased since.
async fn replay(state: &AppState, key: &IntakeKey) -> ApiResult<Option<SubmitResponse>> {
    let Some(earlier) =
        store::intake::find_key(&state.db, std::slice::from_ref(&key.key_hash), state.now())
            .await?
    else {
        return Ok(None);
    };
    if earlier.fingerprint != key.fingerprint {
        return Err(ApiError::idempotency_key_reused());
    }
    let record = match earlier.erased_at {
        Some(_) => None,
        None => store::applications::get(&state.db, earlier.application_id).await?,
    };
    match record {
        Some(record) => Ok(Some(SubmitResponse::Created(Json(record.into())))),
        None => Err(ApiError::gone(
            "this submission was received and its data has since been erased; nothing was stored",
        )),
    }
}

fn import_not_found() -> ApiError {
    ApiError::not_found("import_id: an unused import with this id (imports work once, for an hour)")
}

async fn find_import(state: &AppState, id: Uuid, job_id: Uuid) -> ApiResult<oauth_import::Model> {
    let import = store::imports::find_import(&state.db, id, state.now())
        .await?
        .ok_or_else(import_not_found)?;
    if import.job_id != job_id {
        return Err(ApiError::invalid(
            "import_id: the import was made for another job",
        ));
    }
    Ok(import)
}

/// Where an application came from: the form, or the provider of its import.
fn channel(import: Option<&oauth_import::Model>) -> &'static str {
    import.map_or("form", |import| import.provider.as_str())
}

/// Fields the form left empty come from the import; each field's origin is recorded.
fn validate(
    form: &FormText,
    import: Option<&oauth_import::Model>,
    job_id: Uuid,
    declared_sources: &[String],
) -> Result<NewApplication, fields::FieldError> {
    let provider = channel(import);
    let from_import = |pick: fn(&oauth_import::Model) -> Option<String>| import.and_then(pick);
    let profile_url = |wanted: Provider| {
        import
            .filter(|i| i.provider == wanted)
            .and_then(|i| i.profile_url.clone())
    };
    let mut provenance = Provenance::default();
    let full_name = provenance.pick(
        "full_name",
        form.full_name.clone(),
        from_import(|i| i.full_name.clone()),
        provider,
    );
    let email = provenance.pick(
        "email",
        form.email.clone(),
        from_import(|i| i.email.clone()),
        provider,
    );
    let linkedin_url = provenance.pick(
        "linkedin_url",
        form.linkedin_url.clone(),
        profile_url(Provider::Linkedin),
        provider,
    );
    let indeed_url = provenance.pick(
        "indeed_url",
        form.indeed_url.clone(),
        profile_url(Provider::Indeed),
        provider,
    );
    let contact = ContactDetails {
        full_name: fields::required_text("full_name", full_name.as_deref().unwrap_or(""), 200)?,
        email: Email::parse("email", email.as_deref().unwrap_or(""))?,
        phone: fields::phone("phone", form.phone.as_deref())?,
    };
    let cover_letter = fields::long_text(
        "cover_letter",
        form.cover_letter.as_deref(),
        fields::limits::LONG_TEXT,
    )?;
    let linkedin_url = fields::web_url("linkedin_url", linkedin_url.as_deref())?;
    let indeed_url = fields::web_url("indeed_url", indeed_url.as_deref())?;
    for (field, present) in [
        ("phone", contact.phone.is_some()),
        ("cover_letter", cover_letter.is_some()),
        ("cv", true),
    ] {
        if present {
            provenance.record(field, "form");
        }
    }
    let source = match fields::source("source", form.source.as_deref())? {
        Some(source) => Some(source),
        None if import.is_some() => Some(provider.to_owned()),
        None => None,
    };
    let stats_source = stats::source_for(provider, source.as_deref(), declared_sources);
    Ok(NewApplication {
        id: Uuid::now_v7(),
        job_id,
        contact,
        cover_letter,
        linkedin_url,
        indeed_url,
        source,
        stats_source,
        privacy_notice_version: fields::required_text(
            "privacy_notice_version",
            &form.privacy_notice_version,
            100,
        )?,
        talent_pool_consent: form.talent_pool_consent.unwrap_or(false),
        provenance: Some(provenance.to_json()),
        locale: fields::locale("locale", form.locale.as_deref())?,
    })
}

/// The import's picture, fetched now from an allowed host and checked like an
/// upload; a picture that fails is left out (the candidate did not pick it),
/// and the application goes on without it.
async fn imported_picture(
    state: &AppState,
    import: &oauth_import::Model,
    url: &str,
) -> Option<receive::CheckedFile> {
    let provider = match import.provider {
        Provider::Linkedin => &state.settings.oauth.linkedin,
        Provider::Indeed => &state.settings.oauth.indeed,
    };
    let limits = &state.settings.uploads;
    let max = receive::max_bytes(DocumentKind::Picture, limits);
    let data = match oauth::picture::fetch(&state.http, url, &provider.picture_hosts, max).await {
        Ok(data) => data,
        Err(reason) => {
            tracing::warn!(import_id = %import.id, reason, "imported picture left out");
            return None;
        }
    };
    match receive::check_file(DocumentKind::Picture, "picture", data, limits).await {
        Ok(checked) => Some(checked),
        Err(_) => {
            tracing::warn!(import_id = %import.id, "imported picture left out: not an accepted image");
            None
        }
    }
}

fn record_picture(new: &mut NewApplication, provider: &str) {
    let mut map = Provenance::parse(new.provenance.as_deref().unwrap_or("{}"));
    map.insert("picture".into(), provider.to_owned());
    new.provenance = Some(serde_json::to_string(&map).expect("a map of strings is JSON"));
}
