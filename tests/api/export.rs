//! The candidate's data export: all of their rows and files and nothing of
//! anyone else's, a data.json that its committed schema accepts, a summary
//! in their language, and an archive that streams file by file.

use std::{collections::BTreeMap, io::Read};

use applicant_vault::{
    domain::lang::Lang,
    privacy::export::{ExportError, export},
    store,
};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{ApplicationForm, TestApp, pdf, png, spawn_app, spawn_app_with};

const NAME: &str = "Ada <script>alert(1)</script> & Co";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn candidate_of(app: &TestApp, application_id: &str) -> Uuid {
    let id = application_id.parse().unwrap();
    store::applications::find(&app.state.db, id)
        .await
        .unwrap()
        .expect("the application")
        .candidate_id
}

async fn archive_of(app: &TestApp, candidate_id: Uuid, lang: Lang) -> Vec<u8> {
    let export = export(&app.state, candidate_id, lang)
        .await
        .expect("an export");
    let name = export.file_name();
    assert!(
        name.starts_with("applicant-data-20") && name.ends_with(".zip") && name.len() == 29,
        "{name}"
    );
    let chunks: Vec<Bytes> = export
        .into_stream()
        .try_collect()
        .await
        .expect("the archive");
    chunks.concat()
}

/// Every entry of the archive by name, read by an independent reader
/// (which checks each CRC).
fn entries(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a ZIP");
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .expect("bytes matching their CRC");
            (file.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

pub(crate) fn assert_valid(data: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("../../openapi/data-export.schema.json")).unwrap();
    jsonschema::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(data)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Two applications of one person (the second under the address in
/// another case) and one of someone else, with a trail on each.
struct Seeded {
    candidate: Uuid,
    first: String,
    second: String,
    other: String,
    files: Vec<Vec<u8>>,
}

async fn seed(app: &TestApp) -> Seeded {
    let job = app.create_job("NL").await;
    let other_job = app.create_job("DE").await;
    let files = vec![pdf(40_000, 3), png(), pdf(30_000, 5)];
    let first = app
        .submit_ok(
            ApplicationForm::new(&job, "Ada@Example.com")
                .set("full_name", NAME)
                .set("linkedin_url", "https://www.linkedin.com/in/ada")
                .file("cv", files[0].clone(), "../../etc/passwd.pdf")
                .file("picture", files[1].clone(), "me.png"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app
        .submit_ok(
            ApplicationForm::new(&other_job, "ada@example.com")
                .set("full_name", NAME)
                .file("cv", files[2].clone(), "second-cv.pdf"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app
        .submit_ok(
            ApplicationForm::new(&job, "grace@example.com")
                .set("full_name", "Grace Hopper")
                .set("phone", "+1 555 0100")
                .file("cv", pdf(20_000, 9), "grace.pdf"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    trail(app, &first).await;
    let note = json!({ "body": "Grace's note: compilers." });
    let path = format!("/v1/applications/{other}/notes");
    let posted = app.act(Method::POST, &app.admin_key, &path, &note).await;
    assert_eq!(posted.status(), 201);
    let hold = format!("/v1/applications/{second}/legal-hold");
    let held = app
        .act(
            Method::PUT,
            &app.admin_key,
            &hold,
            &json!({ "reason": "Pending lawsuit", "category": "litigation", "confidential": true }),
        )
        .await;
    assert_eq!(held.status(), 200);
    Seeded {
        candidate: candidate_of(app, &first).await,
        first,
        second,
        other,
        files,
    }
}

/// A note, a status change, an interview with feedback, a message each
/// way and a consent, through the API.
async fn trail(app: &TestApp, id: &str) {
    let post = |path: &str, body: Value| {
        let path = format!("/v1/applications/{id}/{path}");
        async move { app.act(Method::POST, &app.admin_key, &path, &body).await }
    };
    let calls = [
        ("notes", json!({ "body": "Strong SQL." })),
        (
            "status",
            json!({ "status": "screening", "reason": "Good fit" }),
        ),
        (
            "interviews",
            json!({
                "starts_at": "2026-12-01T10:00:00+01:00",
                "ends_at": "2026-12-01T11:00:00+01:00",
                "kind": "onsite",
                "location": "Room 4",
                "interviewers": ["Ana Lima"],
                "status": "done",
                "feedback": "Clear <b>thinker</b>.",
            }),
        ),
        (
            "messages",
            json!({ "subject": "Next steps", "body": "Dear Ada, Tuesday?" }),
        ),
        (
            "messages",
            json!({
                "direction": "inbound",
                "subject": "Re: Next steps",
                "body": "Tuesday works.",
                "received_at": "2026-11-20T08:00:00Z",
            }),
        ),
        ("consents", json!({ "evidence": "Asked by phone" })),
    ];
    for (path, body) in calls {
        let answer = post(path, body).await;
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
    }
}

#[tokio::test]
async fn an_export_holds_every_row_and_file_of_the_candidate_and_nothing_of_anyone_else() {
    let app = spawn_app().await;
    let seeded = seed(&app).await;
    let archive = archive_of(&app, seeded.candidate, Lang::En).await;
    let entries = entries(&archive);

    let data: Value = serde_json::from_slice(&entries["data.json"]).unwrap();
    assert_valid(&data);
    assert_eq!(data["format_version"], 1);
    assert_eq!(data["candidate"]["id"], seeded.candidate.to_string());
    assert_eq!(data["candidate"]["email_normalised"], "ada@example.com");
    let applications = data["applications"].as_array().unwrap();
    let ids: Vec<&str> = applications
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [seeded.first.as_str(), seeded.second.as_str()]);

    let first = &applications[0];
    assert_eq!(first["job"]["title"], "Analytical engineer");
    assert_eq!(first["job"]["country"], "NL");
    assert_eq!(first["status"], "screening");
    assert_eq!(first["contact"]["full_name"], NAME);
    assert_eq!(first["contact"]["email"], "Ada@Example.com", "as stored");
    assert_eq!(first["contact"]["phone"], "+44 20 7946 0000");
    assert_eq!(
        first["contact"]["linkedin_url"],
        "https://www.linkedin.com/in/ada"
    );
    assert_eq!(first["cover_letter"], "I would love to work on engines.");
    assert_eq!(first["source"], "careers-site");
    assert_eq!(first["provenance"]["full_name"], "form");
    assert_eq!(first["privacy_notice_version"], "2026-01");
    assert!(first["retention"]["rule"].is_string());
    assert!(first["retention"]["delete_after"].is_string());
    assert_eq!(first["retention"]["legal_hold"], Value::Null);
    assert_eq!(first["consents"][0]["kind"], "extension");
    assert_eq!(first["consents"][0]["evidence"], "Asked by phone");
    let change = &first["status_history"][0];
    assert_eq!(
        (&change["from"], &change["to"], &change["reason"]),
        (&json!("new"), &json!("screening"), &json!("Good fit"))
    );
    assert_eq!(first["notes"][0]["body"], "Strong SQL.");
    let interview = &first["interviews"][0];
    assert_eq!(interview["starts_at"], "2026-12-01T10:00:00+01:00");
    assert_eq!(interview["status"], "done");
    assert_eq!(interview["feedback"], "Clear <b>thinker</b>.");
    assert_eq!(interview["interviewers"], json!(["Ana Lima"]));
    let messages = first["messages"].as_array().unwrap();
    let find = |subject: &str| messages.iter().find(|m| m["subject"] == subject).unwrap();
    assert_eq!(find("Next steps")["direction"], "outbound");
    assert_eq!(find("Next steps")["body"], "Dear Ada, Tuesday?");
    assert_eq!(find("Re: Next steps")["direction"], "inbound");
    assert_eq!(find("Re: Next steps")["body"], "Tuesday works.");
    assert!(
        messages.iter().any(|m| m["origin"] != "recruiter"),
        "the acknowledgment too"
    );

    let second = &applications[1];
    assert_eq!(second["job"]["country"], "DE");
    assert_eq!(second["contact"]["email"], "ada@example.com");
    assert_eq!(second["retention"]["held"], true);
    let hold = &second["retention"]["legal_hold"];
    assert!(hold["placed_at"].is_string(), "{hold}");
    assert_eq!(
        hold["category"], "litigation",
        "the kind of hold is theirs to know"
    );
    assert_eq!(
        hold["reason"],
        Value::Null,
        "a confidential hold's reason is not the candidate's to read"
    );

    // Every file once, byte for byte, under a path of ids; no sent name anywhere.
    let documents: Vec<&Value> = applications
        .iter()
        .flat_map(|a| a["documents"].as_array().unwrap())
        .collect();
    assert_eq!(documents.len(), seeded.files.len());
    for (document, sent) in documents.iter().zip(&seeded.files) {
        let path = document["path"].as_str().unwrap();
        assert_eq!(sha256(&entries[path]), sha256(sent), "{path}");
        assert_eq!(document["sha256"], sha256(sent));
        assert_eq!(document["size"], sent.len());
    }
    assert_eq!(documents[0]["kind"], "cv");
    assert_eq!(documents[1]["media_type"], "image/png");
    assert!(
        documents[1]["path"]
            .as_str()
            .unwrap()
            .ends_with("-picture.png")
    );
    let mut names: Vec<&str> = entries.keys().map(String::as_str).collect();
    names.retain(|n| !n.starts_with("files/"));
    assert_eq!(names, ["data.json", "summary.html"]);
    assert_eq!(entries.len(), 2 + seeded.files.len());

    // Entries are stored, not compressed: what is not in the raw bytes is nowhere.
    let raw = String::from_utf8_lossy(&archive);
    for absent in [
        "Grace",
        "Pending lawsuit",
        "grace@example.com",
        "+1 555 0100",
        seeded.other.as_str(),
        "passwd",
        "me.png",
        "second-cv.pdf",
    ] {
        assert!(!raw.contains(absent), "{absent} is in the archive");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_summary_reads_in_the_candidates_language_with_their_text_escaped() {
    let app = spawn_app().await;
    let seeded = seed(&app).await;
    for (lang, status, held) in [
        (Lang::En, "Being reviewed", "Kept for legal reasons for now"),
        (
            Lang::Nl,
            "In behandeling",
            "Wordt om juridische redenen voorlopig bewaard",
        ),
        (
            Lang::Fr,
            "En cours d'examen",
            "Conservée pour l'instant pour des raisons juridiques",
        ),
        (
            Lang::De,
            "In Prüfung",
            "Wird vorerst aus rechtlichen Gründen aufbewahrt",
        ),
    ] {
        let archive = entries(&archive_of(&app, seeded.candidate, lang).await);
        let summary = String::from_utf8(archive["summary.html"].clone()).unwrap();
        let data: Value = serde_json::from_slice(&archive["data.json"]).unwrap();
        assert!(
            summary.contains(&format!("<html lang=\"{}\">", lang.as_str())),
            "{lang}"
        );
        assert!(summary.contains(status), "{lang}: {status}");
        assert!(summary.contains(held), "{lang}: {held}");
        let applied = data["applications"][0]["submitted_at"].as_str().unwrap();
        let applied = applied.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert!(
            summary.contains(&lang.date(applied)),
            "{lang}: dates in its words"
        );
        assert!(summary.contains("Ada &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(!summary.contains("<script"), "{lang}");
        assert!(
            summary.contains("href=\"files/"),
            "{lang}: the files are linked"
        );
        assert!(!summary.contains("Grace"));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_large_file_streams_in_bounded_chunks_and_a_purged_one_fails_the_archive() {
    let app = spawn_app_with(&[("uploads.max_cv_bytes", "20971520")]).await;
    let job = app.create_job("FR").await;
    let cv = pdf(10 * 1024 * 1024, 4);
    let id = app
        .submit_ok(
            ApplicationForm::new(&job, "big@example.com")
                .file("cv", cv.clone(), "big.pdf")
                .file("picture", png(), "me.png"),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let candidate = candidate_of(&app, &id).await;

    let mut stream = export(&app.state, candidate, Lang::Fr)
        .await
        .unwrap()
        .into_stream();
    let (mut total, mut largest, mut chunks) = (0, 0, 0);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        (total, largest, chunks) = (total + chunk.len(), largest.max(chunk.len()), chunks + 1);
    }
    assert!(total > cv.len());
    assert!(largest <= 1024 * 1024, "a chunk of {largest} bytes");
    assert!(chunks > 10, "{chunks} chunks");

    // The first chunk comes before any file is opened: a file purged after
    // it fails the archive instead of leaving it short.
    let mut stream = export(&app.state, candidate, Lang::Fr)
        .await
        .unwrap()
        .into_stream();
    let mut sent = stream.next().await.unwrap().unwrap().to_vec();
    let documents = store::applications::documents_of(&app.state.db, id.parse().unwrap())
        .await
        .unwrap();
    app.state
        .blobs
        .delete_all(&[documents[1].object_key.clone()])
        .await
        .unwrap();
    let mut failed = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => sent.extend_from_slice(&chunk),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the stream ends with an error");
    assert!(sent.len() > cv.len(), "the CV before the picture was sent");
    assert!(zip::ZipArchive::new(std::io::Cursor::new(sent)).is_err());
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_candidate_has_no_export() {
    let app = spawn_app().await;
    let result = export(&app.state, Uuid::now_v7(), Lang::En).await;
    assert!(matches!(result, Err(ExportError::UnknownCandidate)));
    app.stop().await;
}
