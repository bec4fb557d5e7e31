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
