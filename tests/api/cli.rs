//! The command line on a fresh data folder: keys, migrate and the spec.

use std::process::Command;

fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_applicant-vault"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env(
            "APPLICANT_VAULT__DATABASE__URL",
            format!("sqlite://{}/vault.db?mode=rwc", dir.display()),
        )
        .env(
            "APPLICANT_VAULT__STORAGE__URL",
            format!("file://{}/objects", dir.display()),
        )
        .output()
        .expect("running the CLI")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn keys_create_on_a_fresh_folder_prints_the_secret_alone_on_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let created = stdout(&cli(
        dir.path(),
        &["keys", "create", "--name", "hr tool", "--role", "recruiter"],
    ));
    let secret = created.lines().last().unwrap();
    assert!(
        secret.starts_with("av_") && !secret.contains(' '),
        "{created}"
    );

    let listed = stdout(&cli(dir.path(), &["keys", "list"]));
    assert!(
        listed.contains("hr tool") && listed.contains("recruiter") && listed.contains("active")
    );
    assert!(!listed.contains(secret), "a secret must never be listed");
    let id = listed
        .lines()
        .find(|l| l.contains("hr tool"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    stdout(&cli(dir.path(), &["keys", "revoke", &id]));
    assert!(stdout(&cli(dir.path(), &["keys", "list"])).contains("revoked"));

    let bad_role = cli(
        dir.path(),
        &["keys", "create", "--name", "x", "--role", "root"],
    );
    assert!(!bad_role.status.success());
    let publishable = stdout(&cli(
        dir.path(),
        &[
            "keys",
            "create",
            "--name",
            "page",
            "--role",
            "careers-site",
            "--publishable",
        ],
    ));
    assert!(publishable.lines().last().unwrap().starts_with("av_"));
    assert!(stdout(&cli(dir.path(), &["keys", "list"])).contains("true"));
}

#[test]
fn migrate_works_twice_and_openapi_prints_the_committed_spec() {
    let dir = tempfile::tempdir().unwrap();
    stdout(&cli(dir.path(), &["migrate"]));
    stdout(&cli(dir.path(), &["migrate"]));
    let spec = stdout(&cli(dir.path(), &["openapi"]));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.yaml"))
            .unwrap();
    assert_eq!(spec, committed);
}

/// `serve` on a fresh folder prints the first admin key, takes an application,
/// logs ids but no personal data, and stops cleanly on SIGTERM.
#[tokio::test]
async fn serve_logs_no_personal_data_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_applicant-vault"))
        .arg("serve")
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .env("APPLICANT_VAULT__SERVER__LISTEN", "127.0.0.1:0")
        .env("APPLICANT_VAULT__SERVER__ADMIN_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // stdout: the address, then three lines announcing the key, the key last.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim().to_owned());
    }
    let base = lines[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{lines:?}"))
        .to_owned();
    let key = lines[3].clone();
    assert!(key.starts_with("av_"), "{lines:?}");
    assert!(dir.path().join("data/applicant-vault.db").exists());

    let client = reqwest::Client::new();
    let job: serde_json::Value = client
        .post(format!("{base}/v1/jobs"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "title": "Engineer", "country": "DE" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("job_id", job["id"].as_str().unwrap().to_owned())
        .text("full_name", "Zebulon Quixotic")
        .text("email", "zebulon.quixotic@example.com")
        .text("phone", "+49 30 5550199")
        .text("privacy_notice_version", "2026-01")
        .part(
            "cv",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\nsecret cv\n%%EOF\n".to_vec())
                .file_name("zebulon-cv.pdf"),
        );
    let created = client
        .post(format!("{base}/v1/applications"))
        .bearer_auth(&key)
        .header("X-Request-Id", "trace-me-42")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["x-request-id"], "trace-me-42");
    let listed = client
        .get(format!("{base}/v1/applications?q=zebulon"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);

    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("application received"), "{logs}");
    // The request's own lines and the handler's carry its id.
    let traced: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("request_id=trace-me-42"))
        .collect();
    assert!(
        traced
            .iter()
            .any(|line| line.contains("application received"))
            && traced
                .iter()
                .any(|line| line.contains("route=\"/v1/applications\"")),
        "{logs}"
    );
    assert!(logs.contains("stopped"), "{logs}");
    for personal in ["Zebulon", "zebulon", "Quixotic", "5550199", "secret cv"] {
        assert!(!logs.contains(personal), "{personal} in the logs:\n{logs}");
    }
}

#[test]
fn serve_refuses_an_invalid_retention_policy_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_applicant-vault"))
        .arg("serve")
        .current_dir(dir.path())
        .env("APPLICANT_VAULT__SERVER__LISTEN", "127.0.0.1:0")
        .env("APPLICANT_VAULT__RETENTION__AFTER_DECISION", "soon")
        .output()
        .expect("running serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("retention.after_decision"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing was started");
}
