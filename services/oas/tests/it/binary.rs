//! The `oas` binary as an operator runs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use oas_db::users::User;
use oas_db::{Database, DatabaseUrl, PoolSettings};

use crate::support::process::{Serving, run};

const STRONG: &str = "violet-harbour-tangent-41";

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `oas createsuperuser`, with the password piped through stdin when given.
fn createsuperuser(
    dir: &Path,
    username: &str,
    email: &str,
    piped: Option<&str>,
    vars: &[(&str, &str)],
) -> std::process::Output {
    let mut args = vec!["createsuperuser", "--username", username, "--email", email];
    if piped.is_some() {
        args.push("--password-stdin");
    }
    let stdin = piped.map(|p| format!("{p}\n")).unwrap_or_default();
    run(dir, &args, vars, &stdin)
}

async fn user(data_dir: &Path, username: &str) -> Option<User> {
    let db = Database::new(
        &DatabaseUrl::sqlite(data_dir.join("oas.db")),
        PoolSettings::default(),
    )
    .unwrap();
    let name = username.to_owned();
    db.run(move |c| User::find_by_username(c, &name))
        .await
        .unwrap()
}

#[test]
fn help_explains_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--help"], &[], "");
    assert!(output.status.success());
    let text = stdout(&output);
    for word in ["serve", "migrate", "createsuperuser"] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    let output = run(dir.path(), &["createsuperuser", "--help"], &[], "");
    assert!(stdout(&output).contains("--password-stdin"));
}

#[test]
fn a_bad_variable_is_named_and_exits_non_zero_without_echoing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        &["migrate"],
        &[
            ("OAS_BIND", "everywhere"),
            ("OAS_JWT_SECRET", "tiny-secret-value"),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(78));
    let err = stderr(&output);
    assert!(err.contains("OAS_BIND"), "{err}");
    assert!(err.contains("OAS_JWT_SECRET"), "{err}");
    assert!(!err.contains("tiny-secret-value"), "{err}");

    let output = run(
        dir.path(),
        &["migrate"],
        &[(
            "OAS_DATABASE_URL",
            "postgres://oas:pw-hidden@127.0.0.1:1/oas?connect_timeout=1",
        )],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("cannot migrate postgres://oas:****@127.0.0.1:1/oas"),
        "{err}"
    );
    assert!(!err.contains("pw-hidden"), "{err}");
}

#[test]
fn a_dotenv_file_is_read_and_the_environment_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "OAS_PAGE_SIZE=lots\nOAS_BIND=nowhere\n",
    )
    .unwrap();
    let output = run(dir.path(), &["migrate"], &[("OAS_BIND", "127.0.0.1:0")], "");
    assert_eq!(output.status.code(), Some(78));
    let err = stderr(&output);
    assert!(
        err.contains("OAS_PAGE_SIZE"),
        "the .env value is read: {err}"
    );
    assert!(
        !err.contains("OAS_BIND"),
        "the environment overrides .env: {err}"
    );
}

#[test]
fn migrate_applies_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["migrate"], &[], "");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("Applied "), "{}", stdout(&first));
    assert!(
        dir.path().join("oas.db").exists(),
        "the embedded default is SQLite in the data dir"
    );
    let second = run(dir.path(), &["migrate"], &[], "");
    assert_eq!(stdout(&second).trim(), "No migrations to apply.");
}

#[actix_web::test]
async fn createsuperuser_creates_an_administrator_with_an_argon2id_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = createsuperuser(dir.path(), "admin", "admin@label.com", Some(STRONG), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("Superuser \"admin\" created"), "{out}");
    let key = out.lines().last().unwrap();
    assert_eq!(key.len(), 41, "the API key alone on the last line: {out}");

    let admin = user(dir.path(), "admin").await.expect("the user exists");
    assert!(admin.is_superuser && admin.is_staff && admin.is_active);
    assert_eq!(admin.email, "admin@label.com");
    assert!(admin.password_hash.starts_with("$argon2id$"));
    assert!(oas::auth::password::verify(STRONG, &admin.password_hash));

    let again = createsuperuser(dir.path(), "admin", "admin@label.com", Some(STRONG), &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("A user with that username already exists."),
        "{}",
        stderr(&again)
    );
}

#[actix_web::test]
async fn createsuperuser_refuses_weak_passwords_bad_emails_and_missing_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let weak = createsuperuser(dir.path(), "ana", "ana@label.com", Some("password123"), &[]);
    assert_eq!(weak.status.code(), Some(1));
    let err = stderr(&weak);
    assert!(
        err.contains("password: This password is too easy to guess."),
        "{err}"
    );

    let bad_email = createsuperuser(dir.path(), "ana", "ana-at-label", Some(STRONG), &[]);
    assert_eq!(bad_email.status.code(), Some(1));
    let err = stderr(&bad_email);
    assert!(err.contains("email: Enter a valid email address."), "{err}");

    let missing = createsuperuser(dir.path(), "ana", "ana@label.com", None, &[]);
    assert_eq!(missing.status.code(), Some(1));
    let err = stderr(&missing);
    assert!(err.contains("OAS_ADMIN_PASSWORD"), "{err}");
    assert!(
        user(dir.path(), "ana").await.is_none(),
        "nothing was created"
    );

    let password = [("OAS_ADMIN_PASSWORD", STRONG)];
    let from_env = createsuperuser(dir.path(), "ana", "ana@label.com", None, &password);
    assert!(from_env.status.success(), "{}", stderr(&from_env));
    assert!(user(dir.path(), "ana").await.is_some());
}

/// Reads one HTTP/1.1 response with a Content-Length body from the stream.
fn read_response(stream: &mut TcpStream) -> (String, String) {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "connection closed mid-headers"
        );
        buffer.push(byte[0]);
    }
    let head = String::from_utf8(buffer).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

fn get(address: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: oas\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    read_response(&mut stream)
}

/// The in-flight half of graceful shutdown is proven in-process (see
/// `shutdown.rs`); here the real binary shows SIGTERM leads there.
#[test]
fn serve_logs_json_stops_gracefully_on_sigterm_and_restarts_on_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let password = [("OAS_ADMIN_PASSWORD", STRONG)];
    let created = createsuperuser(dir.path(), "admin", "admin@label.com", None, &password);
    assert!(created.status.success(), "{}", stderr(&created));

    let mut serving = Serving::start(dir.path(), &[]);
    let secrets =
        std::fs::read(dir.path().join("secrets.json")).expect("keys generated on first start");

    let (head, body) = get(serving.address, "/healthz");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, r#"{"status":"ok"}"#);
    let request_id = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-request-id:")
                .map(|v| v.trim().to_owned())
        })
        .expect("x-request-id header");
    let logged = serving.wait_for_log(|json| json["message"] == "request completed");
    assert_eq!(
        logged["request_id"],
        request_id.as_str(),
        "the log line carries the request id"
    );
    assert_eq!(logged["status"], 200);
    assert_eq!(logged["route"], "/healthz");
    assert_eq!(logged["level"], "INFO");

    serving.terminate();
    serving.wait_for_log(|json| {
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains("starting graceful shutdown"))
    });
    let (status, lines) = serving.wait();
    assert!(status.success(), "exit {status:?}:\n{}", lines.join("\n"));
    assert!(
        lines.iter().any(|l| l.contains("\"stopped\"")),
        "{}",
        lines.join("\n")
    );

    // Second start: same keys, same database.
    let mut again = Serving::start(dir.path(), &[]);
    assert_eq!(
        std::fs::read(dir.path().join("secrets.json")).unwrap(),
        secrets
    );
    assert!(get(again.address, "/readyz").0.starts_with("HTTP/1.1 200"));
    again.terminate();
    again.wait_for_log(|json| json["message"] == "stopped");
    let duplicate = createsuperuser(dir.path(), "admin", "x@label.com", None, &password);
    assert!(
        stderr(&duplicate).contains("already exists"),
        "the first run's user is still there"
    );
}
