//! The HTTP edge tried by hostile and clumsy clients: bodies too large or
//! too slow, headers that never end, too many connections, forged
//! forwarding headers, foreign origins; and what the logs and headers say.
//! Memory, file and log checks run the real `serve` binary, so that what is
//! measured is that process alone.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::stream;
use serde_json::{Value, json};

use crate::helpers::{ApplicationForm, spawn_app_with};

/// The `serve` binary on a fresh folder and port.
struct Served {
    child: Child,
    base: String,
    key: String,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_applicant-vault"))
            .arg("serve")
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .env("APPLICANT_VAULT__SERVER__LISTEN", "127.0.0.1:0")
            .env("APPLICANT_VAULT__SERVER__ADMIN_LISTEN", "127.0.0.1:0")
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
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
        Self {
            child,
            base,
            key: lines[3].clone(),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn address(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    fn status_field(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap()
    }

    /// The most memory the process has held, in MiB.
    fn peak_rss_mib(&self) -> u64 {
        self.status_field("VmHWM:") / 1024
    }

    /// Open sockets and spool files (deleted temporary files), not the
    /// database's files, whose pool grows and shrinks by itself.
    fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .map(|target| target.display().to_string())
            .filter(|target| target.starts_with("socket:") || target.contains("(deleted)"))
            .count()
    }

    /// Stops the server and returns what it logged.
    fn stop(mut self) -> String {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        let mut logs = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut logs)
            .unwrap();
        logs
    }
}

/// A body of `size` bytes that arrives in chunks, without a Content-Length.
fn chunked(size: usize) -> reqwest::Body {
    let chunk = Bytes::from(vec![b'a'; 1024 * 1024]);
    let chunks = size / chunk.len();
    reqwest::Body::wrap_stream(stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    ))
}

async fn publishable_key(served: &Served, client: &reqwest::Client) -> String {
    let created: Value = client
        .post(served.url("/v1/api-keys"))
        .bearer_auth(&served.key)
        .json(&json!({ "name": "page", "role": "careers-site", "publishable": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_without_being_held_in_memory() {
    let served = Served::start(&[("APPLICANT_VAULT__CAREERS__RATE_LIMIT_PER_MINUTE", "1000")]);
    let client = reqwest::Client::new();
    let public = publishable_key(&served, &client).await;
    let before = served.peak_rss_mib();
    const BIG: usize = 300 * 1024 * 1024;

    // A declared length over the limit: refused before a byte is read.
    let declared = client
        .post(served.url("/v1/jobs"))
        .bearer_auth(&served.key)
        .header("Content-Type", "application/json")
        .header("Content-Length", BIG.to_string())
        .body(reqwest::Body::wrap_stream(stream::iter([Ok::<
            _,
            std::io::Error,
        >(
            Bytes::from_static(b"{\"title\":\""),
        )])))
        .send()
        .await;
    if let Ok(response) = declared {
        assert_eq!(response.status(), 413);
    }
    // The public key may not create jobs: refused before the body is read.
    let forbidden = client
        .post(served.url("/v1/jobs"))
        .bearer_auth(&public)
        .header("Content-Type", "application/json")
        .body(chunked(BIG))
        .send()
        .await;
    if let Ok(response) = forbidden {
        assert_eq!(response.status(), 403);
    }
    // An admin's chunked JSON: cut off at the JSON limit.
    let admin = client
        .post(served.url("/v1/jobs"))
        .bearer_auth(&served.key)
        .header("Content-Type", "application/json")
        .body(chunked(BIG))
        .send()
        .await;
    if let Ok(response) = admin {
        assert_eq!(response.status(), 413);
    }
    // Three huge forms to a candidate page, with no key, at once.
    let posts = (0..3).map(|_| {
        client
            .post(served.url("/consent/x"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(chunked(BIG))
            .send()
    });
    for response in futures_util::future::join_all(posts)
        .await
        .into_iter()
        .flatten()
    {
        assert_eq!(response.status(), 413);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    let after = served.peak_rss_mib();
    eprintln!("peak RSS: {before} MiB before, {after} MiB after 1.2 GB of refused bodies");
    assert!(after < before + 40, "{before} MiB, then {after} MiB");
    // Still serving.
    assert_eq!(
        client
            .get(served.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    served.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_clients_lose_their_connections_and_spool_files() {
    let served = Served::start(&[
        ("APPLICANT_VAULT__SERVER__HEADER_TIMEOUT", "1s"),
        ("APPLICANT_VAULT__SERVER__BODY_IDLE_TIMEOUT", "1s"),
    ]);
    let client = reqwest::Client::new();
    let job: Value = client
        .post(served.url("/v1/jobs"))
        .bearer_auth(&served.key)
        .json(&json!({ "title": "Engineer", "country": "DE" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = job["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline = served.open_files();

    // Headers that never end.
    let mut slow_headers = TcpStream::connect(served.address()).unwrap();
    slow_headers
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Uploads that stop halfway, each past the size that spills to a file.
    let boundary = "XBOUNDARY";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"job_id\"\r\n\r\n{job}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    );
    let mut stalled = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(served.address()).unwrap();
        let request = format!(
            "POST /v1/applications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\n\
             Content-Length: 5000000\r\n\r\n{head}",
            served.key
        );
        stream.write_all(request.as_bytes()).unwrap();
        stream.write_all(&vec![b'a'; 600 * 1024]).unwrap();
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let while_stalled = served.open_files();
    assert!(
        while_stalled >= baseline + 100,
        "the uploads hold connections and spool files: {baseline} then {while_stalled}"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = served.open_files();
    assert!(
        after <= baseline + 2,
        "stalled connections and their spool files are gone: {baseline}, {while_stalled}, {after}"
    );
    // Each stalled upload was answered 408 (or its connection closed).
    for mut stream in stalled {
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    // The slow headers' connection is closed.
    slow_headers
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut rest = Vec::new();
    let read = slow_headers.read_to_end(&mut rest);
    assert!(
        read.is_ok(),
        "closed by the server, not timed out: {read:?}"
    );
    served.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_are_answered_503() {
    let served = Served::start(&[("APPLICANT_VAULT__SERVER__MAX_CONNECTIONS", "4")]);
    let open: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(served.address()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fifth = TcpStream::connect(served.address()).unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut answer = String::new();
    fifth.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("Retry-After: 5"), "{answer}");
    drop(open);
    std::thread::sleep(Duration::from_millis(200));
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(served.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    served.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_name_routes_never_tokens_import_ids_or_keys() {
    let served = Served::start(&[]);
    let client = reqwest::Client::new();
    let token = "TOKENtokenTOKEN1234567890abcdefghijklmnopq";
    let import = "5f0c8a52-9d63-4a5f-8a3e-2b7c9d1e4f60";
    for path in [
        format!("/consent/{token}"),
        format!("/v1/imports/{import}"),
        format!("/oauth/linkedin/callback?code=CODE{token}&state=STATE{token}"),
        "/v1/applications?q=ada.lovelace%40example.com".to_owned(),
    ] {
        client
            .get(served.url(&path))
            .bearer_auth(&served.key)
            .send()
            .await
            .unwrap();
    }
    client
        .post(served.url(&format!("/consent/{token}")))
        .form(&[("action", "extend")])
        .send()
        .await
        .unwrap();
    let key = served.key.clone();
    let logs = served.stop();
    assert!(logs.contains("route=\"/consent/{token}\""), "{logs}");
    assert!(logs.contains("route=\"/v1/imports/{id}\""), "{logs}");
    for secret in [token, import, &key, "CODE", "ada.lovelace", "lovelace"] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}

#[tokio::test]
async fn cors_answers_only_on_the_careers_pages_operations() {
    let app = spawn_app_with(&[("careers.origins", "https://careers.example.com")]).await;
    let careers = "https://careers.example.com";
    let evil = "https://evil.example.net";
    // The careers page's own calls carry CORS headers for its origin.
    let listed = app
        .client
        .get(app.url("/v1/jobs"))
        .bearer_auth(&app.admin_key)
        .header("Origin", careers)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.headers()["access-control-allow-origin"], careers);
    assert!(
        listed.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Origin"),
        "exact-origin answers vary by origin"
    );
    // Another site's page is refused there.
    let foreign = app
        .client
        .get(app.url("/v1/jobs"))
        .bearer_auth(&app.admin_key)
        .header("Origin", evil)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // Elsewhere an Origin is served as any request: no CORS headers, no 403.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            "/v1/jobs",
            Some(json!({ "title": "Engineer", "country": "DE" })),
        ),
        (reqwest::Method::GET, "/v1/audit-events", None),
    ] {
        let mut request = app
            .client
            .request(method, app.url(path))
            .bearer_auth(&app.admin_key)
            .header("Origin", evil);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
    app.stop().await;

    // No origins configured: none allowed.
    let closed = spawn_app_with(&[("careers.origins", "")]).await;
    let response = closed
        .client
        .get(closed.url("/v1/jobs"))
        .bearer_auth(&closed.admin_key)
        .header("Origin", careers)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    closed.stop().await;
}

#[tokio::test]
async fn candidate_pages_take_their_own_posts_and_answer_html_only() {
    let app = spawn_app_with(&[]).await;
    let own = app.address.clone();
    for (origin, expected) in [
        (Some("null"), 404),
        (Some(own.as_str()), 404),
        (None, 404),
        (Some("https://evil.example.net"), 403),
    ] {
        let mut request = app
            .client
            .post(app.url("/consent/unknown-token"))
            .form(&[("action", "withdraw")]);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), expected, "{origin:?}");
        let html = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(html.starts_with("text/html"), "{origin:?}: {html}");
    }
    for response in [
        app.client.put(app.url("/consent/x")).send().await.unwrap(),
        app.client
            .post(app.url("/consent/x"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("a".repeat(20_000))
            .send()
            .await
            .unwrap(),
        app.client
            .post(app.url("/consent/x"))
            .form(&[("action", "nonsense")])
            .send()
            .await
            .unwrap(),
    ] {
        let status = response.status();
        assert!(status.is_client_error(), "{status}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{status}: {content_type}"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains("<link rel=\"icon\" href=\"data:,\">"));
    }
    app.stop().await;
}

#[tokio::test]
async fn every_answer_is_nosniff_and_personal_ones_are_not_stored() {
    let app = spawn_app_with(&[]).await;
    for path in ["/healthz", "/v1/jobs", "/docs", "/openapi.json", "/nowhere"] {
        let response = app.get(&app.admin_key, path).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        if path.starts_with("/v1/") {
            assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        }
    }
    let docs = app.get(&app.admin_key, "/docs").await;
    let policy = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("'sha256-"), "{policy}");
    assert_eq!(docs.headers()["x-frame-options"], "DENY");
    app.stop().await;
}

#[tokio::test]
async fn forged_forwarding_headers_do_not_escape_the_rate_limit() {
    // Without trusted proxies the header is not believed.
    let app = spawn_app_with(&[
        ("careers.rate_limit_per_minute", "5"),
        ("careers.client_ip_header", "X-Forwarded-For"),
    ])
    .await;
    let public = app.create_key("careers-site", true).await;
    let mut statuses = Vec::new();
    for n in 0..20 {
        let response = app
            .client
            .get(app.url("/v1/jobs"))
            .bearer_auth(&public)
            .header("X-Forwarded-For", format!("203.0.113.{n}"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    app.stop().await;

    // Behind a trusted proxy: the rightmost untrusted address is the
    // client, whatever the client wrote to the left of it.
    let app = spawn_app_with(&[
        ("careers.rate_limit_per_minute", "5"),
        ("careers.client_ip_header", "X-Forwarded-For"),
        ("careers.trusted_proxies", "127.0.0.1/32, 10.0.0.0/8"),
    ])
    .await;
    let public = app.create_key("careers-site", true).await;
    let get = |forwarded: String| {
        app.client
            .get(app.url("/v1/jobs"))
            .bearer_auth(&public)
            .header("X-Forwarded-For", forwarded)
            .send()
    };
    let mut passed = 0;
    for n in 0..20 {
        let response = get(format!("198.51.100.{n}, 192.0.2.7, 10.1.2.3"))
            .await
            .unwrap();
        if response.status() == 200 {
            passed += 1;
        }
    }
    assert_eq!(
        passed, 5,
        "one client, however it rotates the left of the header"
    );
    // Another client behind the same proxy has its own budget.
    assert_eq!(
        get("192.0.2.8, 10.1.2.3".to_owned())
            .await
            .unwrap()
            .status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn json_bodies_over_the_limit_are_413_declared_or_chunked() {
    let app = spawn_app_with(&[("server.max_json_bytes", "1024")]).await;
    let declared = app
        .client
        .post(app.url("/v1/jobs"))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", "application/json")
        .body(format!(
            "{{\"title\":\"{}\",\"country\":\"DE\"}}",
            "x".repeat(2000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    let started = Instant::now();
    let streamed = app
        .client
        .post(app.url("/v1/jobs"))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", "application/json")
        .body(chunked(8 * 1024 * 1024))
        .send()
        .await;
    if let Ok(response) = streamed {
        assert_eq!(response.status(), 413);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "too_large");
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // Within the limit, all is as before.
    let fine = app
        .send_json(
            reqwest::Method::POST,
            &app.admin_key,
            "/v1/jobs",
            &json!({ "title": "Engineer", "country": "DE" }),
        )
        .await;
    assert_eq!(fine.status(), 201);
    let job = app.create_job("DE").await;
    assert_eq!(
        app.submit(
            &app.admin_key,
            ApplicationForm::new(&job, "big@example.com"),
            None
        )
        .await
        .status(),
        201,
        "uploads have their own, larger limit"
    );
    app.stop().await;
}
