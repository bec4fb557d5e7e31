//! The OpenAPI document as served and committed: poem-openapi's, with what
//! it cannot declare added (the patterns and length limits of text fields,
//! the file types of the uploads, links between operations, an example for
//! every request body) and what generated clients and linters trip over
//! rewritten (each operation's own error statuses, `security: []` on public
//! operations, enum and nullable references, binary downloads).

use serde_json::{Value, json};

use super::{holds, interviews, messages, notes, service};
use crate::domain::{
    fields::patterns::{
        DURATION, EMAIL, LINE, LOCALE, MONTH, MULTILINE, PARAGRAPHS, PHONE, POSITION, SOURCE, TEXT,
        WEB_URL,
    },
    sniff::DocumentKind,
};

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
        "NewSubjectRequest",
        &[
            ("email", EMAIL),
            ("identity_evidence", PARAGRAPHS),
            ("details", MULTILINE),
        ],
    ),
    (
        "SubjectRequestPatch",
        &[
            ("refusal_reason", PARAGRAPHS),
            ("details", MULTILINE),
            ("extension_reason", PARAGRAPHS),
        ],
    ),
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
            ("locale", LOCALE),
        ],
    ),
];

/// The length limit of every text field that has one (see
/// `domain::fields::limits`). The document declares each; where poem-openapi
/// checks a field itself (a `max_length` validator), the document builder
/// asserts that the validator says the same, so the numbers cannot drift.
pub const LIMITS: &[(&str, &str, usize)] = {
    use crate::domain::fields::limits::*;
    &[
        ("NoteBody", "body", notes::MAX_NOTE),
        ("MessageDraft", "subject", messages::MAX_SUBJECT),
        ("MessageDraft", "body", messages::MAX_BODY),
        ("HoldRequest", "reason", holds::MAX_REASON),
        ("ConsentRequest", "evidence", holds::MAX_REASON),
        ("StatusMove", "reason", REASON),
        ("NewSubjectRequest", "email", EMAIL),
        ("NewSubjectRequest", "identity_evidence", REASON),
        ("NewSubjectRequest", "details", LONG_TEXT),
        ("SubjectRequestPatch", "refusal_reason", REASON),
        ("SubjectRequestPatch", "details", LONG_TEXT),
        ("SubjectRequestPatch", "extension_reason", REASON),
        ("IndeedApplicant", "fullName", NAME),
        ("IndeedApplicant", "email", EMAIL),
        ("IndeedApplicant", "phoneNumber", PHONE),
        ("IndeedApplicant", "coverletter", LONG_TEXT),
        ("NewJob", "title", NAME),
        ("NewJob", "department", NAME),
        ("NewJob", "location", NAME),
        ("JobPatch", "title", NAME),
        ("JobPatch", "department", NAME),
        ("JobPatch", "location", NAME),
        ("NewInterview", "location", LOCATION),
        ("NewInterview", "meeting_url", URL),
        ("NewInterview", "feedback", FEEDBACK),
        (
            "NewInterview",
            "interviewers[]",
            interviews::MAX_INTERVIEWER,
        ),
        ("InterviewPatch", "location", LOCATION),
        ("InterviewPatch", "meeting_url", URL),
        ("InterviewPatch", "feedback", FEEDBACK),
        (
            "InterviewPatch",
            "interviewers[]",
            interviews::MAX_INTERVIEWER,
        ),
        ("ApplicationPatch", "full_name", NAME),
        ("ApplicationPatch", "email", EMAIL),
        ("ApplicationPatch", "phone", PHONE),
        ("ApplicationPatch", "cover_letter", LONG_TEXT),
        ("ApplicationPatch", "linkedin_url", URL),
        ("ApplicationPatch", "indeed_url", URL),
        (INTAKE_FORM, "full_name", NAME),
        (INTAKE_FORM, "email", EMAIL),
        (INTAKE_FORM, "phone", PHONE),
        (INTAKE_FORM, "cover_letter", LONG_TEXT),
        (INTAKE_FORM, "linkedin_url", URL),
        (INTAKE_FORM, "indeed_url", URL),
        (INTAKE_FORM, "source", SOURCE),
    ]
};

/// The OpenAPI document as served at `/openapi.json` and committed.
pub fn document(server_url: &str) -> Value {
    let mut document: Value =
        serde_json::from_str(&service(server_url).spec()).expect("the spec is JSON");
    for (schema, fields) in PATTERNS {
        for (field, pattern) in *fields {
            property(&mut document, schema, field)["pattern"] = Value::from(*pattern);
        }
    }
    for (schema, field, max) in LIMITS {
        let property = property(&mut document, schema, field);
        if let Some(checked) = property["maxLength"].as_u64() {
            assert_eq!(
                checked, *max as u64,
                "{schema}.{field}: the validator and the limits table disagree"
            );
        }
        property["maxLength"] = Value::from(*max);
    }
    add_links(&mut document);
    for (path, name, pattern) in [
        ("/v1/retention/preview", "within", DURATION),
        ("/v1/retention/preview", "cursor", POSITION),
        ("/v1/stats/applications", "from", MONTH),
        ("/v1/stats/applications", "to", MONTH),
    ] {
        for parameter in document["paths"][path]["get"]["parameters"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if parameter["name"] == name {
                parameter["schema"]["pattern"] = pattern.into();
            }
        }
    }
    // Checked by the service (422 naming the field) rather than by the parser.
    document["components"]["schemas"]["IndeedApplicant"]["required"] = json!(["fullName"]);
    let form = intake_form(&mut document);
    // Unknown form fields are refused (`deny_unknown_fields`); say so.
    form["schema"]["additionalProperties"] = Value::Bool(false);
    form["encoding"] = json!({
        "cv": { "contentType": DocumentKind::Cv.content_types().join(", ") },
        "picture": { "contentType": DocumentKind::Picture.content_types().join(", ") },
    });
    plain_references(&mut document);
    document["components"]["parameters"]["OnBehalfOf"] = json!({
        "name": "On-Behalf-Of",
        "in": "header",
        "required": false,
        "description": "The person a tool acts for, recorded with what the key does (notes, messages, status moves, audit events). Trimmed; ignored when longer than 200 characters.",
        "schema": { "type": "string" },
        "example": "recruiter-7",
    });
    for_each_operation(&mut document, |operation| {
        own_errors(operation);
        if operation.get("security").is_none() {
            operation["security"] = json!([]);
        } else {
            // Every keyed operation reads it (see `api::auth`).
            let on_behalf_of = json!({ "$ref": "#/components/parameters/OnBehalfOf" });
            match operation["parameters"].as_array_mut() {
                Some(parameters) => parameters.push(on_behalf_of),
                None => operation["parameters"] = json!([on_behalf_of]),
            }
        }
    });
    binary_downloads(&mut document);
    add_examples(&mut document);
    document
}

/// Calls `f` with each operation.
fn for_each_operation(document: &mut Value, mut f: impl FnMut(&mut Value)) {
    for operations in document["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for operation in operations
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            f(operation);
        }
    }
}

/// poem-openapi writes a property that refers to another schema with a
/// description or `nullable` as `allOf: [{$ref}, {description}]`; several
/// generators drop such properties (and with them whole operations) when
/// the schema is an enum, and linters want a `type` beside `nullable`. An
/// enum becomes a plain `$ref` (its description goes to the enum's schema
/// if that has none); a nullable object gets `type: object`.
fn plain_references(document: &mut Value) {
    let schemas = document["components"]["schemas"].clone();
    let mut descriptions = Vec::new();
    for (name, schema) in document["components"]["schemas"]
        .as_object_mut()
        .into_iter()
        .flatten()
    {
        let properties = schema.get_mut("properties").and_then(Value::as_object_mut);
        for (field, property) in properties.into_iter().flatten() {
            let Some(reference) = property["allOf"][0]["$ref"].as_str().map(str::to_owned) else {
                continue;
            };
            assert!(
                property["allOf"]
                    .as_array()
                    .is_some_and(|all| all[1..].iter().all(|part| part.get("$ref").is_none())),
                "{name}.{field}: one reference expected"
            );
            let target = reference.trim_start_matches("#/components/schemas/");
            let nullable = property["nullable"] == true;
            if schemas[target].get("enum").is_some() && !nullable {
                if let Some(description) = property["description"].as_str() {
                    descriptions.push((target.to_owned(), description.to_owned()));
                }
                *property = json!({ "$ref": reference });
                continue;
            }
            let mut rewritten = json!({ "allOf": [{ "$ref": reference }] });
            if let Some(description) = property.get("description") {
                rewritten["description"] = description.clone();
            }
            if nullable {
                let kind = schemas[target]["type"].as_str().unwrap_or("object");
                rewritten["type"] = kind.into();
                rewritten["nullable"] = true.into();
            }
            *property = rewritten;
        }
    }
    for (target, description) in descriptions {
        let schema = &mut document["components"]["schemas"][&target];
        if schema.get("description").is_none() {
            schema["description"] = description.into();
        }
    }
}

/// The operations that can answer 409, 410 or 429, besides the statuses
/// every operation of its kind can answer.
const CONFLICTS: &[&str] = &[
    "move_application",
    "create_job",
    "update_job",
    "revoke_api_key",
    "update_subject_request",
];
const GONE: &[&str] = &["submit_application"];
/// 404 for an id in the body (the job applied to, an import).
const NOT_FOUND_IN_BODY: &[&str] = &["submit_application", "receive_indeed_application"];
/// Publishable keys are rate limited, and so are the OAuth sign-ins.
const RATE_LIMITED: &[&str] = &[
    "list_jobs",
    "get_job",
    "get_import",
    "submit_application",
    "start_import",
    "finish_import",
];

/// poem-openapi lists every status of the one error type on every
/// operation; this keeps those each operation can answer: 400 with
/// parameters or a body, 401 and 403 with a key, 404 with an id in the path
/// (or in the body, where listed),
/// 413, 415 and 422 with a body (422 also for validated query parameters),
/// 409, 410 and 429 where listed above, 500 and 503 everywhere.
fn own_errors(operation: &mut Value) {
    let id = operation["operationId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let has_body = operation.get("requestBody").is_some();
    let parameters = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let in_path = parameters.iter().any(|p| p["in"] == "path");
    let in_query = parameters.iter().any(|p| p["in"] == "query");
    let keyed = operation.get("security").is_some();
    let Some(responses) = operation["responses"].as_object_mut() else {
        return;
    };
    if !responses.contains_key("500") {
        return; // answers no error of the API's type (liveness, readiness)
    }
    responses.retain(|status, _| match status.as_str() {
        "400" => has_body || !parameters.is_empty(),
        "401" | "403" => keyed,
        "404" => in_path || NOT_FOUND_IN_BODY.contains(&id.as_str()),
        "409" => CONFLICTS.contains(&id.as_str()),
        "410" => GONE.contains(&id.as_str()),
        "413" | "415" => has_body,
        "422" => has_body || in_query,
        "429" => RATE_LIMITED.contains(&id.as_str()),
        _ => true,
    });
    // The error type's 415 speaks of files; a JSON body is refused for its type.
    let json_body = operation["requestBody"]["content"]
        .as_object()
        .is_some_and(|content| !content.contains_key("multipart/form-data"));
    if json_body && let Some(unsupported) = operation["responses"].get_mut("415") {
        unsupported["description"] =
            json!("The body is not of the declared type (`application/json`).");
    }
}

/// A download answers the file's own type (one of several); generated
/// clients read a body as bytes only when the answer is declared as one
/// binary type, so the document says `application/octet-stream` and names
/// the types in the description.
fn binary_downloads(document: &mut Value) {
    let answer = &mut document["paths"]["/v1/applications/{id}/documents/{document_id}"]["get"]["responses"]
        ["200"];
    let types: Vec<String> = answer["content"]
        .as_object()
        .map(|content| content.keys().cloned().collect())
        .unwrap_or_default();
    assert!(!types.is_empty(), "the download declares its types");
    let description = answer["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    answer["description"] = format!(
        "{description} The file as stored, with its own type: {}.",
        types.join(", ")
    )
    .trim_start()
    .into();
    answer["content"] = json!({
        "application/octet-stream": { "schema": { "type": "string", "format": "binary" } },
    });
}

/// An example for every request body, so that readers, generated docs and
/// the examples phase of API testers have one valid request to start from.
fn add_examples(document: &mut Value) {
    let examples: &[(&str, &str, Value)] = &[
        (
            "/v1/jobs",
            "post",
            json!({ "title": "Backend engineer", "country": "DE", "department": "Engineering",
                    "location": "Berlin" }),
        ),
        ("/v1/jobs/{id}", "patch", json!({ "status": "closed" })),
        (
            "/v1/api-keys",
            "post",
            json!({ "name": "careers site", "role": "careers-site", "publishable": true }),
        ),
        (
            "/v1/applications/{id}",
            "patch",
            json!({ "phone": "+49 30 1234567" }),
        ),
        (
            "/v1/applications/{id}/status",
            "post",
            json!({ "status": "screening", "reason": "Strong CV" }),
        ),
        (
            "/v1/applications/{id}/notes",
            "post",
            json!({ "body": "Called back, available from March." }),
        ),
        (
            "/v1/applications/{id}/notes/{note_id}",
            "patch",
            json!({ "body": "Available from April." }),
        ),
        (
            "/v1/applications/{id}/interviews",
            "post",
            json!({ "starts_at": "2026-12-14T10:00:00+01:00", "ends_at": "2026-12-14T11:00:00+01:00",
                    "kind": "onsite", "location": "Berlin office",
                    "interviewers": ["hiring.manager@example.com"] }),
        ),
        (
            "/v1/applications/{id}/interviews/{interview_id}",
            "patch",
            json!({ "status": "done", "feedback": "Clear thinker." }),
        ),
        (
            "/v1/applications/{id}/messages",
            "post",
            json!({ "subject": "Your interview", "body": "Could you come in on Monday at 10?" }),
        ),
        (
            "/v1/applications/{id}/legal-hold",
            "put",
            json!({ "reason": "Pending claim", "until": "2027-06-30T00:00:00Z" }),
        ),
        (
            "/v1/applications/{id}/consents",
            "post",
            json!({ "evidence": "Asked by phone on 2 December", "kind": "extension" }),
        ),
        (
            "/v1/subject-requests",
            "post",
            json!({ "channel": "letter", "kind": "access", "received_at": "2026-12-01T09:00:00Z",
                    "email": "ada@example.com",
                    "identity_evidence": "Signed letter; address matches the application",
                    "details": "Asks for a copy of everything held" }),
        ),
        (
            "/v1/subject-requests/{id}",
            "patch",
            json!({ "extend_months": 1,
                    "extension_reason": "Your request covers several applications; we need to gather them." }),
        ),
        (
            "/v1/integrations/indeed-apply",
            "post",
            json!({ "id": "indeed-apply-1",
                    "job": { "jobId": "01a235a3-c1eb-753a-ac15-bf71ac71c205" },
                    "applicant": { "fullName": "Ada Lovelace", "email": "ada@example.com" } }),
        ),
    ];
    for (path, method, example) in examples {
        let content = &mut document["paths"][*path][*method]["requestBody"]["content"];
        let Some(content) = content.as_object_mut() else {
            panic!("{method} {path} takes no body");
        };
        for media in content.values_mut() {
            media["example"] = example.clone();
        }
    }
    intake_form(document)["example"] = json!({
        "job_id": "01a235a3-c1eb-753a-ac15-bf71ac71c205",
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "privacy_notice_version": "2026-01",
    });
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

fn add_links(document: &mut Value) {
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
                response["links"][operation_id] = json!({
                    "operationId": operation_id,
                    "parameters": parameters
                        .iter()
                        .map(|(name, value)| (name.to_string(), Value::from(*value)))
                        .collect::<serde_json::Map<_, _>>(),
                });
            }
        }
    }
}

/// A property of a named schema (or of the intake form); `name[]` stands for
/// the items of the array `name`.
fn property<'d>(document: &'d mut Value, schema: &str, field: &str) -> &'d mut Value {
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

fn intake_form(document: &mut Value) -> &mut Value {
    &mut document["paths"]["/v1/applications"]["post"]["requestBody"]["content"]["multipart/form-data"]
}

/// The spec as committed in `openapi/openapi.yaml`, independent of settings.
pub fn spec_yaml() -> String {
    to_yaml(&document("http://127.0.0.1:8080"))
}

/// YAML that YAML 1.1 readers (PyYAML, older tools) read as the same document:
/// a string such as `NO`, `yes`, `on`, `1.0` or `null` is quoted.
fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).expect("a JSON value is YAML")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_documents_only_what_it_can_answer() {
        let document = document("http://127.0.0.1:8080");
        let statuses = |path: &str, method: &str| -> Vec<String> {
            let responses = document["paths"][path][method]["responses"]
                .as_object()
                .unwrap();
            responses.keys().cloned().collect()
        };
        let notes = statuses("/v1/applications/{id}/notes", "get");
        assert!(
            !notes.iter().any(|s| s == "413" || s == "415" || s == "409"),
            "{notes:?}"
        );
        assert!(notes.iter().any(|s| s == "404") && notes.iter().any(|s| s == "503"));
        let moves = statuses("/v1/applications/{id}/status", "post");
        assert!(moves.iter().any(|s| s == "409") && moves.iter().any(|s| s == "422"));
        let keys = statuses("/v1/api-keys", "get");
        assert!(!keys.iter().any(|s| s == "404" || s == "429"), "{keys:?}");
    }

    #[test]
    fn public_operations_say_so_and_enums_are_plain_references() {
        let document = document("http://127.0.0.1:8080");
        for path in [
            "/healthz",
            "/readyz",
            "/oauth/{provider}/start",
            "/oauth/{provider}/callback",
        ] {
            assert_eq!(
                document["paths"][path]["get"]["security"],
                json!([]),
                "{path}"
            );
        }
        for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
            for (field, property) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(reference) = property["allOf"][0]["$ref"].as_str() {
                    let target = reference.trim_start_matches("#/components/schemas/");
                    let enum_schema = document["components"]["schemas"][target].get("enum");
                    assert!(
                        enum_schema.is_none(),
                        "{name}.{field} wraps an enum in allOf"
                    );
                    if property["nullable"] == true {
                        assert!(
                            property["type"].is_string(),
                            "{name}.{field}: nullable needs a type"
                        );
                    }
                }
            }
        }
        let download = &document["paths"]["/v1/applications/{id}/documents/{document_id}"]["get"]["responses"]
            ["200"]["content"];
        assert_eq!(download.as_object().unwrap().len(), 1);
        assert_eq!(
            download["application/octet-stream"]["schema"]["format"],
            "binary"
        );
    }

    #[test]
    fn the_spec_yaml_reads_back_as_the_same_document() {
        let read: Value = serde_saphyr::from_str(&spec_yaml()).expect("the spec YAML parses");
        assert_eq!(read, document("http://127.0.0.1:8080"));
    }

    #[test]
    fn strings_a_yaml_1_1_reader_would_retype_are_quoted() {
        let words = [
            "NO",
            "no",
            "yes",
            "Y",
            "on",
            "OFF",
            "1.0",
            "1_000",
            "0x1F",
            "null",
            "~",
            "",
            "2026-01-01",
            "12:30",
        ];
        let yaml = to_yaml(&json!(words));
        for word in words {
            assert!(
                yaml.contains(&format!("- '{word}'")) || yaml.contains(&format!("- \"{word}\"")),
                "{word} is not quoted in:\n{yaml}"
            );
        }
        let read: Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(read, json!(words));
        // Plain words stay plain.
        assert_eq!(to_yaml(&json!({"status": "hired"})), "status: hired\n");
    }

    #[test]
    fn every_request_body_has_an_example() {
        let document = document("http://127.0.0.1:8080");
        for (path, operations) in document["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                for media in operation["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        media.1.get("example").is_some(),
                        "{method} {path} {}",
                        media.0
                    );
                }
            }
        }
    }
}
