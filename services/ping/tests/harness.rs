//! The module harness, through the real `oas-ping` binary: job input,
//! validation, exit statuses and the signed completion webhook.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;

use oas_platform::events::webhook;

const SECRET: &str = "a webhook key for the harness tests, long enough";

fn ping(args: &[&str], job: Option<&str>, stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oas-ping"));
    for (name, _) in std::env::vars() {
        if name.starts_with("OAS_") {
            command.env_remove(name);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    command
        .args(args)
        .current_dir(dir.path())
        .env("OAS_DATA_DIR", dir.path())
        .env("OAS_WEBHOOK_SECRET", SECRET);
    if let Some(job) = job {
        command.env("OAS_JOB", job);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A job given by argument or environment leaves stdin unread: the
    // module may be gone before the write, which then finds no reader.
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

/// A received request: its header lines and body.
type Delivery = (Vec<String>, Vec<u8>);

/// A one-shot HTTP receiver: answers 200 to the first request and hands
/// over its headers and body.
fn receiver() -> (String, mpsc::Receiver<Delivery>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/api/webhooks/jobs/",
        listener.local_addr().unwrap()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            headers.push(line.trim_end().to_owned());
        }
        let length: usize = headers
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap();
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .unwrap();
        tx.send((headers, body)).unwrap();
    });
    (url, rx)
}

fn header<'a>(headers: &'a [String], name: &str) -> Option<&'a str> {
    headers.iter().find_map(|h| {
        let (key, value) = h.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn job(webhook_url: &str, params: &str) -> String {
    format!(
        r#"{{"job_id": "3b9d2f1e-0c4a-4e55-8a77-0123456789ab", "module": "ping", "action": "ping", "org_id": 7,
            "params": {params}, "callback": {{"webhook_url": "{webhook_url}"}}}}"#
    )
}

#[test]
fn help_documents_the_job() {
    let output = ping(&["--help"], None, "");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("\"module\": \"ping\"")
            && text.contains("OAS_JOB")
            && text.contains("--input"),
        "{text}"
    );
}

#[test]
fn a_malformed_job_exits_2_with_a_message_and_reports_nothing() {
    let (url, received) = receiver();
    for (args, job, stdin) in [
        (vec![], Some("{not json".to_owned()), ""),
        (vec![], None, ""),
        (
            vec!["--input", "-"],
            None,
            r#"{"job_id": "short", "module": "ping", "action": "ping", "org_id": 1}"#,
        ),
        (
            vec![],
            Some(job(&url, "{}").replace("\"ping\", \"action\"", "\"importer\", \"action\"")),
            "",
        ),
        (vec!["--input", "/no/such/job.json"], None, ""),
    ] {
        let output = ping(&args, job.as_deref(), stdin);
        assert_eq!(output.status.code(), Some(2), "{args:?} {job:?}");
        let err = String::from_utf8(output.stderr).unwrap();
        assert!(err.contains("oas-ping: invalid job"), "{err}");
    }
    assert!(received.try_recv().is_err(), "no event for an invalid job");
}

#[test]
fn a_run_reports_a_signed_event_and_exits_0() {
    let (url, received) = receiver();
    let output = ping(&["--input", "-"], None, &job(&url, "{}"));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (headers, body) = received.recv().unwrap();
    let id = header(&headers, webhook::ID_HEADER).unwrap();
    assert_eq!(id, "3b9d2f1e-0c4a-4e55-8a77-0123456789ab");
    let signature = header(&headers, webhook::SIGNATURE_HEADER);
    let now = chrono::Utc::now().timestamp();
    webhook::verify(SECRET.as_bytes(), id, signature, &body, now).expect("a valid signature");
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (event["version"].as_str(), event["status"].as_str()),
        (Some("1"), Some("succeeded"))
    );
    assert_eq!(event["output"]["pong"], true);
    let logs = String::from_utf8(output.stderr).unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("\"started\""))
        .expect("a log line");
    assert!(
        line.contains("3b9d2f1e-0c4a-4e55-8a77-0123456789ab"),
        "the job id is on every line: {line}"
    );
}

#[test]
fn a_failing_run_reports_the_failure_and_exits_1() {
    let (url, received) = receiver();
    let path = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(path.path(), job(&url, r#"{"fail": "disk full"}"#)).unwrap();
    let output = ping(&["--input", path.path().to_str().unwrap()], None, "");
    assert_eq!(output.status.code(), Some(1));
    let (_, body) = received.recv().unwrap();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["status"], "failed");
    assert_eq!(
        event["error"],
        serde_json::json!({"code": "rejected", "message": "disk full"})
    );
}

#[test]
fn the_event_is_also_written_to_the_output_file_when_asked() {
    let (url, received) = receiver();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("event.json");
    let output = ping(
        &["--output", out.to_str().unwrap(), "--input", "-"],
        None,
        &job(&url, "{}"),
    );
    assert_eq!(output.status.code(), Some(0));
    let (_, body) = received.recv().unwrap();
    let delivered: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(written, delivered, "the same event, both ways");
    let missing = ping(&["--input", "-", "--output"], None, &job(&url, "{}"));
    assert_eq!(missing.status.code(), Some(2));
}
