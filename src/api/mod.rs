//! The HTTP API: one `#[OpenApi]` struct per resource, combined here.

pub mod api_keys;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod country;
pub mod documents;
pub mod health;
pub mod imports;
pub mod indeed_apply;
pub mod intake;
pub mod interviews;
pub mod jobs;
pub mod messages;
pub mod notes;
pub mod oauth;
pub mod pipeline;
mod receive;
pub mod retention;
pub mod text;
pub mod upload;

use poem_openapi::{OpenApiService, Tags, types::MaybeUndefined};

use crate::{
    domain::{
        fields::patterns::{
            DURATION, EMAIL, LINE, MULTILINE, PARAGRAPHS, PHONE, POSITION, SOURCE, TEXT, WEB_URL,
        },
        sniff::DocumentKind,
    },
    error::{ApiError, ApiResult},
};

/// Implements poem-openapi's `Type` for a field type that is its own raw
/// value, with the given schema name and schema.
macro_rules! impl_field_type {
    ($ty:ty, $name:expr, $schema:expr) => {
        impl poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                $schema
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }
    };
}
pub(crate) use impl_field_type;

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness.
    Operations,
    /// Job openings.
    Jobs,
    /// Applications: intake by the careers site, reads and corrections by recruiters.
    Applications,
    /// Files of an application.
    Documents,
    /// API keys (admin).
    ApiKeys,
    /// The audit log of access to personal data (admin).
    Audit,
    /// "Apply with LinkedIn / Indeed": the candidate's sign-in (in the
    /// browser) and the imported profile that prefills the form.
    Imports,
    /// Applications that job boards post by themselves.
    Integrations,
}

pub type Api = (
    health::HealthApi,
    jobs::JobsApi,
    applications::ApplicationsApi,
    pipeline::PipelineApi,
    notes::NotesApi,
    interviews::InterviewsApi,
    messages::MessagesApi,
    retention::RetentionApi,
    documents::DocumentsApi,
    api_keys::ApiKeysApi,
    audit::AuditApi,
    oauth::OAuthApi,
    imports::ImportsApi,
    indeed_apply::IndeedApplyApi,
);

pub fn service(server_url: &str) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            health::HealthApi,
            jobs::JobsApi,
            applications::ApplicationsApi,
            pipeline::PipelineApi,
            notes::NotesApi,
            interviews::InterviewsApi,
            messages::MessagesApi,
            retention::RetentionApi,
            documents::DocumentsApi,
            api_keys::ApiKeysApi,
            audit::AuditApi,
            oauth::OAuthApi,
            imports::ImportsApi,
            indeed_apply::IndeedApplyApi,
        ),
        "applicant-vault",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Holds one employer's job-applicant data and forgets it on schedule. \
         Authenticate with `Authorization: Bearer KEY`; each operation names the roles it accepts.",
    )
    .server(server_url)
}

/// The intake form's schema has no name; this stands for it in [`PATTERNS`].
const INTAKE_FORM: &str = "intake form";

/// Which text fields follow which pattern. The field parsers in
/// `domain::fields` check these same patterns with compiled regexes (poem-
/// openapi's `pattern` validator would compile its regex on every request), and
/// the document declares them, so what the schema calls valid is what the
/// service accepts.
pub const PATTERNS: &[(&str, &[(&str, &str)])] = &[
    (
        "NewJob",
        &[("title", TEXT), ("department", LINE), ("location", LINE)],
    ),
    (
        "JobPatch",
        &[("title", TEXT), ("department", LINE), ("location", LINE)],
    ),
    ("NewApiKey", &[("name", TEXT)]),
    (
        "IndeedApplicant",
        &[
            ("fullName", TEXT),
            ("email", EMAIL),
            ("phoneNumber", PHONE),
            ("coverletter", MULTILINE),
        ],
    ),
    ("ExternalIdsInput", &[("indeed", LINE)]),
    ("StatusMove", &[("reason", MULTILINE)]),
    ("NoteBody", &[("body", PARAGRAPHS)]),
    ("MessageDraft", &[("subject", TEXT), ("body", PARAGRAPHS)]),
    ("HoldRequest", &[("reason", PARAGRAPHS)]),
    ("ConsentRequest", &[("evidence", PARAGRAPHS)]),
    (
        "NewInterview",
        &[
            ("location", LINE),
            ("meeting_url", WEB_URL),
            ("interviewers[]", TEXT),
            ("feedback", MULTILINE),
        ],
    ),
    (
        "InterviewPatch",
        &[
            ("location", LINE),
            ("meeting_url", WEB_URL),
            ("interviewers[]", TEXT),
            ("feedback", MULTILINE),
        ],
    ),
    (
        "ApplicationPatch",
        &[
            ("full_name", TEXT),
            ("email", EMAIL),
            ("phone", PHONE),
            ("cover_letter", MULTILINE),
            ("linkedin_url", WEB_URL),
            ("indeed_url", WEB_URL),
        ],
    ),
    (
        INTAKE_FORM,
        &[
            ("full_name", TEXT),
            ("email", EMAIL),
            ("phone", PHONE),
            ("cover_letter", MULTILINE),
            ("linkedin_url", WEB_URL),
            ("indeed_url", WEB_URL),
            ("source", SOURCE),
            ("privacy_notice_version", TEXT),
        ],
    ),
];

/// Length limits in characters that the service checks itself, so that a
/// text too long is 422 like any other invalid field (poem-openapi's
/// validator would answer 400); the document declares them.
pub const MAX_LENGTHS: &[(&str, &str, usize)] = &[
    ("NoteBody", "body", notes::MAX_NOTE),
    ("MessageDraft", "subject", messages::MAX_SUBJECT),
    ("MessageDraft", "body", messages::MAX_BODY),
    ("HoldRequest", "reason", retention::MAX_REASON),
    ("IndeedApplicant", "fullName", 200),
    ("IndeedApplicant", "email", 254),
    ("IndeedApplicant", "phoneNumber", 40),
    ("IndeedApplicant", "coverletter", 20_000),
    ("ConsentRequest", "evidence", retention::MAX_REASON),
    (
        "NewInterview",
        "interviewers[]",
        interviews::MAX_INTERVIEWER,
    ),
    (
        "InterviewPatch",
        "interviewers[]",
        interviews::MAX_INTERVIEWER,
    ),
];

/// The OpenAPI document, with what poem-openapi cannot declare added: the
/// patterns and length limits of text fields, and the file types each upload accepts (read from
/// the bytes, so they matter).
pub fn document(server_url: &str) -> serde_json::Value {
    let mut document: serde_json::Value =
        serde_json::from_str(&service(server_url).spec()).expect("the spec is JSON");
    for (schema, fields) in PATTERNS {
        for (field, pattern) in *fields {
            property(&mut document, schema, field)["pattern"] = serde_json::Value::from(*pattern);
        }
    }
    for (schema, field, max) in MAX_LENGTHS {
        property(&mut document, schema, field)["maxLength"] = serde_json::Value::from(*max);
    }
    add_links(&mut document);
    for parameter in document["paths"]["/v1/retention/preview"]["get"]["parameters"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if parameter["name"] == "within" {
            parameter["schema"]["pattern"] = DURATION.into();
        }
        if parameter["name"] == "cursor" {
            parameter["schema"]["pattern"] = POSITION.into();
        }
    }
    // Checked by the service (422 naming the field) rather than by the parser.
    document["components"]["schemas"]["IndeedApplicant"]["required"] =
        serde_json::json!(["fullName"]);
    let form = intake_form(&mut document);
    // Unknown form fields are refused (`deny_unknown_fields`); say so.
    form["schema"]["additionalProperties"] = serde_json::Value::Bool(false);
    form["encoding"] = serde_json::json!({
        "cv": { "contentType": DocumentKind::Cv.content_types().join(", ") },
        "picture": { "contentType": DocumentKind::Picture.content_types().join(", ") },
    });
    document
}

/// The path prefix of the linked operations, the creating path, its answer's
/// status, and each parameter's source.
type Link = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Where a created resource's id can be used next: OpenAPI links from each
/// create operation's answer to the operations on what it created, so that
/// clients (and stateful API testers) can follow them.
const LINKS: &[Link] = &[
    (
        "/v1/applications/{id}",
        "/v1/applications",
        "201",
        &[("id", "$response.body#/id")],
    ),
    (
        "/v1/applications/{id}/documents/{document_id}",
        "/v1/applications",
        "201",
        &[
            ("id", "$response.body#/id"),
            ("document_id", "$response.body#/documents/0/id"),
        ],
    ),
    (
        "/v1/applications/{id}/notes/{note_id}",
        "/v1/applications/{id}/notes",
        "201",
        &[
            ("id", "$request.path.id"),
            ("note_id", "$response.body#/id"),
        ],
    ),
    (
        "/v1/applications/{id}/interviews/{interview_id}",
        "/v1/applications/{id}/interviews",
        "201",
        &[
            ("id", "$request.path.id"),
            ("interview_id", "$response.body#/id"),
        ],
    ),
];

fn add_links(document: &mut serde_json::Value) {
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for (prefix, creator, status, parameters) in LINKS {
        let params: std::collections::BTreeSet<&str> =
            parameters.iter().map(|(name, _)| *name).collect();
        for (path, operations) in &paths {
            let path_params: std::collections::BTreeSet<&str> = path
                .split('/')
                .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            if !path.starts_with(prefix) || path_params != params {
                continue;
            }
            for operation in operations.as_object().into_iter().flat_map(|o| o.values()) {
                let Some(operation_id) = operation["operationId"].as_str() else {
                    continue;
                };
                let response = &mut document["paths"][*creator]["post"]["responses"][*status];
                assert!(response.is_object(), "POST {creator} answers {status}");
                response["links"][operation_id] = serde_json::json!({
                    "operationId": operation_id,
                    "parameters": parameters
                        .iter()
                        .map(|(name, value)| (name.to_string(), serde_json::Value::from(*value)))
                        .collect::<serde_json::Map<_, _>>(),
                });
            }
        }
    }
}

/// A property of a named schema (or of the intake form); `name[]` stands for
/// the items of the array `name`.
fn property<'d>(
    document: &'d mut serde_json::Value,
    schema: &str,
    field: &str,
) -> &'d mut serde_json::Value {
    let properties = if schema == INTAKE_FORM {
        &mut intake_form(document)["schema"]["properties"]
    } else {
        &mut document["components"]["schemas"][schema]["properties"]
    };
    let property = match field.strip_suffix("[]") {
        Some(array) => &mut properties[array]["items"],
        None => &mut properties[field],
    };
    assert!(
        property.is_object(),
        "{schema}.{field} is not in the document"
    );
    property
}

fn intake_form(document: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut document["paths"]["/v1/applications"]["post"]["requestBody"]["content"]["multipart/form-data"]
}

/// The spec as committed in `openapi/openapi.yaml`, independent of settings.
pub fn spec_yaml() -> String {
    serde_yaml::to_string(&document("http://127.0.0.1:8080")).expect("the spec is YAML")
}

/// A field that may be left out but not set to null.
pub fn not_null<T>(field: &str, value: MaybeUndefined<T>) -> ApiResult<Option<T>> {
    match value {
        MaybeUndefined::Null => Err(ApiError::bad_request(format!("{field}: must not be null"))),
        MaybeUndefined::Value(value) => Ok(Some(value)),
        MaybeUndefined::Undefined => Ok(None),
    }
}

/// Page size: default 50, at most 200.
pub fn page_limit(limit: Option<u64>) -> u64 {
    limit.unwrap_or(50).clamp(1, 200)
}
