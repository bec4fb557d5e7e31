//! Indeed Apply: Indeed posts each application as signed JSON with the CV in
//! base64. The signature is checked on the raw body before anything is read;
//! a redelivery (same Indeed `id`) answers 200 and stores nothing new.

use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use poem::{Request, RequestBody, web::Data};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object, OpenApi,
    impl_apirequest_for_payload,
    payload::{Json, ParsePayload, Payload},
    registry::{MetaSchemaRef, MetaSecurityScheme, Registry},
    types::{ParseFromJSON, Type},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    ApiTags,
    receive::{self, Received},
};
use crate::{
    app::AppState,
    blobs::UploadData,
    domain::{
        fields::{self, Email, FieldError},
        imports::Provenance,
        signature::indeed_signature_valid,
        sniff::DocumentKind,
        status::JobStatus,
    },
    error::{ApiError, ApiResult},
    store::{
        self,
        applications::{ContactDetails, NewApplication},
        audit::Actor,
        entity::job,
        intake::IntakeKey,
    },
};

pub struct IndeedApplyApi;

/// What provenance and audit events call this integration.
const ORIGIN: &str = "indeed-apply";

/// An application as Indeed Apply posts it; fields not listed are ignored.
#[derive(Object)]
pub struct IndeedApplication {
    /// Indeed's id of the application; a redelivery carries the same one.
    id: String,
    job: IndeedJob,
    applicant: IndeedApplicant,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct IndeedJob {
    /// The job's `external_ids.indeed`, or else its id here.
    job_id: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct IndeedApplicant {
    /// Required; missing or blank is 422.
    full_name: Option<String>,
    /// Required: a candidate is known by their address.
    #[oai(nullable)]
    email: Option<String>,
    #[oai(nullable)]
    phone_number: Option<String>,
    #[oai(rename = "coverletter", nullable)]
    cover_letter: Option<String>,
    #[oai(nullable)]
    resume: Option<IndeedResume>,
}

#[derive(Object)]
pub struct IndeedResume {
    #[oai(nullable)]
    file: Option<IndeedFile>,
}

/// The CV; its type is read from the decoded bytes, not from `contentType`
/// or `fileName`.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct IndeedFile {
    #[oai(nullable)]
    content_type: Option<String>,
    /// The file in base64.
    data: String,
    #[oai(nullable)]
    file_name: Option<String>,
}

/// The raw JSON body, kept as bytes so the signature is checked on exactly
/// what Indeed signed before any of it is parsed.
pub struct SignedBody(Bytes);

impl Payload for SignedBody {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        <Json<IndeedApplication> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        IndeedApplication::schema_ref()
    }

    fn register(registry: &mut Registry) {
        IndeedApplication::register(registry);
    }
}

impl ParsePayload for SignedBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(body.take()?.into_bytes().await?))
    }
}

impl_apirequest_for_payload!(SignedBody);

/// `X-Indeed-Signature`, declared as the operation's security scheme but read
/// as it comes (absent too), so that the handler decides: 401 when absent,
/// 404 when the integration is off, 401 when it does not match.
pub struct IndeedSignature(Option<String>);

const SIGNATURE_HEADER: &str = "X-Indeed-Signature";

impl<'a> ApiExtractor<'a> for IndeedSignature {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            "IndeedSignature",
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(
                    "base64 of the HMAC-SHA1 of the raw request body with `indeed_apply.api_secret`.",
                ),
                name: Some(SIGNATURE_HEADER),
                key_in: Some("header"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["IndeedSignature"]
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(Self(request.header(SIGNATURE_HEADER).map(str::to_owned)))
    }
}

/// Indeed's application as stored here.
#[derive(Object)]
struct IndeedReceipt {
    application_id: Uuid,
}

#[derive(ApiResponse)]
enum IndeedApplyResponse {
    /// The application is stored.
    #[oai(status = 201)]
    Created(Json<IndeedReceipt>),
    /// A redelivery of an application received before (stored, or erased
    /// since); nothing new was stored.
    #[oai(status = 200)]
    AlreadyReceived(Json<IndeedReceipt>),
}

#[OpenApi(tag = "ApiTags::Integrations")]
impl IndeedApplyApi {
    /// Receive an application from Indeed Apply. Authenticated by
    /// `X-Indeed-Signature`: base64 of the HMAC-SHA1 of the raw body with
    /// `indeed_apply.api_secret` (401 when absent or wrong). A signed post
    /// while no secret is configured is 404.
    #[oai(
        path = "/v1/integrations/indeed-apply",
        method = "post",
        operation_id = "receive_indeed_application"
    )]
    async fn receive(
        &self,
        state: Data<&AppState>,
        signature: IndeedSignature,
        body: SignedBody,
    ) -> ApiResult<IndeedApplyResponse> {
        // Unsigned is 401 before anything else, as a missing API key is
        // elsewhere; signed while the integration is off is 404.
        let Some(signature) = signature.0 else {
            return Err(ApiError::bad_signature("X-Indeed-Signature: missing"));
        };
        let settings = &state.settings.indeed_apply;
        if !settings.enabled() {
            return Err(ApiError::not_found("integration"));
        }
        if !indeed_signature_valid(settings.api_secret.expose().as_bytes(), &body.0, &signature) {
            return Err(ApiError::bad_signature(
                "X-Indeed-Signature: not the signature of this body",
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(&body.0)
            .map_err(|err| ApiError::bad_request(format!("the body is not JSON: {err}")))?;
        let posted = IndeedApplication::parse_from_json(Some(value))
            .map_err(|err| ApiError::bad_request(err.into_message()))?;
        receive_application(&state, posted).await
    }
}

async fn receive_application(
    state: &AppState,
    posted: IndeedApplication,
) -> ApiResult<IndeedApplyResponse> {
    let indeed_id = fields::required_text("id", &posted.id, 200)?;
    let key_hash = state
        .intake_hash
        .hash(&[ORIGIN.as_bytes(), indeed_id.as_bytes()]);
    // Applications from before keyed hashes were stored under a plain one.
    let legacy_hash = hex::encode(Sha256::digest(format!("{ORIGIN}:{indeed_id}")));
    let scopes = [key_hash.clone(), legacy_hash];
    if let Some(known) = store::intake::find_key(&state.db, &scopes, state.now()).await? {
        // Received before: live, or erased since (a tombstone). Either way
        // nothing is stored again.
        return Ok(already_received(known.application_id));
    }
    let job = find_job(state, &posted.job.job_id)
        .await?
        .filter(|job| job.status == JobStatus::Open)
        .ok_or_else(|| ApiError::not_found("job.jobId: an open job with this id"))?;
    let applicant = posted.applicant;
    let contact = ContactDetails {
        full_name: fields::required_text(
            "applicant.fullName",
            applicant.full_name.as_deref().unwrap_or_default(),
            fields::limits::NAME,
        )?,
        email: Email::parse(
            "applicant.email",
            applicant.email.as_deref().unwrap_or_default(),
        )?,
        phone: fields::phone("applicant.phoneNumber", applicant.phone_number.as_deref())?,
    };
    let cover_letter = fields::long_text(
        "applicant.coverletter",
        applicant.cover_letter.as_deref(),
        fields::limits::LONG_TEXT,
    )?;
    let resume = applicant.resume.and_then(|r| r.file);
    let mut files = Vec::new();
    if let Some(file) = resume {
        let data = decode_resume(&file.data, state.settings.uploads.max_cv_bytes)?;
        let field = "applicant.resume.file";
        files.push(
            receive::check_file(DocumentKind::Cv, field, data, &state.settings.uploads).await?,
        );
    }

    let mut provenance = Provenance::default();
    for (field, present) in [
        ("full_name", true),
        ("email", true),
        ("phone", contact.phone.is_some()),
        ("cover_letter", cover_letter.is_some()),
        ("cv", !files.is_empty()),
    ] {
        if present {
            provenance.record(field, ORIGIN);
        }
    }
    let new = NewApplication {
        id: Uuid::now_v7(),
        job_id: job.id,
        contact,
        cover_letter,
        linkedin_url: None,
        indeed_url: None,
        source: Some("indeed".to_owned()),
        stats_source: ORIGIN.to_owned(),
        privacy_notice_version: state.settings.indeed_apply.privacy_notice_version.clone(),
        talent_pool_consent: false,
        provenance: Some(provenance.to_json()),
        locale: None,
    };
    let received = Received {
        new,
        files,
        job_title: job.title,
        actor: Actor {
            api_key_id: None,
            on_behalf_of: Some(ORIGIN.to_owned()),
        },
        import_id: None,
        intake_key: Some(IntakeKey {
            key_hash,
            fingerprint: None,
            expires_at: None,
        }),
        now: state.now(),
        channel: ORIGIN,
    };
    match receive::store(state, received).await? {
        Ok(record) => Ok(IndeedApplyResponse::Created(Json(IndeedReceipt {
            application_id: record.application.id,
        }))),
        Err(err) => {
            // Indeed delivered it twice at once; the other delivery stored it.
            if store::is_unique_violation(&err)
                && let Some(known) =
                    store::intake::find_key(&state.db, &scopes, state.now()).await?
            {
                return Ok(already_received(known.application_id));
            }
            Err(err.into())
        }
    }
}

fn already_received(application_id: Uuid) -> IndeedApplyResponse {
    IndeedApplyResponse::AlreadyReceived(Json(IndeedReceipt { application_id }))
}

/// Our job by its Indeed id, else by its own id.
async fn find_job(state: &AppState, job_id: &str) -> ApiResult<Option<job::Model>> {
    let job_id = job_id.trim();
    if let Some(job) = store::jobs::find_by_indeed_id(&state.db, job_id).await? {
        return Ok(Some(job));
    }
    match Uuid::parse_str(job_id) {
        Ok(id) => Ok(store::jobs::get(&state.db, id).await?),
        Err(_) => Ok(None),
    }
}

/// The CV's bytes: too large (413) is told before decoding it; not base64 is 422.
fn decode_resume(data: &str, max_bytes: u64) -> ApiResult<UploadData> {
    const FIELD: &str = "applicant.resume.file.data";
    let compact: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let too_large = || {
        ApiError::too_large(format!(
            "applicant.resume.file: the file is larger than {max_bytes} bytes"
        ))
    };
    // Every 4 base64 characters are 3 bytes, less up to 2 of padding.
    if (compact.len() as u64 / 4) * 3 > max_bytes + 2 {
        return Err(too_large());
    }
    let bytes = STANDARD
        .decode(&compact)
        .map_err(|_| ApiError::from(FieldError::new(FIELD, "must be base64")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    Ok(UploadData::Memory(Bytes::from(bytes)))
}
