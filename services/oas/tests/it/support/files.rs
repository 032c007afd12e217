//! Requests as a client makes them, and a sales file taken through the
//! pipeline: create, upload to the presigned URL, clean, wait.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::TestApp;

/// A file of the shared samples, from the package folder as cargo runs the
/// tests (a shared target directory may hold a build from another checkout).
pub fn sample(path: &str) -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../../shared/samples")
        .join(path)
}

/// A request with `key`, and a JSON body if given; the answer's status and
/// JSON body (null when it has none).
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.with_key(method, path, key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asks for `action` on file `id`; returns the answer's status and body.
pub async fn process(app: &TestApp, key: &str, id: i64, action: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        &format!("/api/files/salesfiles/{id}/process/"),
        key,
        Some(json!({ "action": action })),
    )
    .await
}

/// Creates a file named `name` for `bytes`, uploads and cleans it; returns its id.
pub async fn submit_bytes(
    app: &TestApp,
    key: &str,
    name: &str,
    filetype: &str,
    bytes: Vec<u8>,
) -> i64 {
    let (status, file) = call(
        app,
        Method::POST,
        "/api/files/salesfiles/",
        key,
        Some(
            json!({"filename": name, "filetype": filetype, "filesize": bytes.len(),
                    "mongo_db_id": "65f1c2aa9d1e8b0012345678"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let id = file["id"].as_i64().unwrap();
    upload_and_clean(app, key, id, bytes).await;
    id
}

/// Creates, uploads and cleans the file at `path`; returns its id.
pub async fn submit(app: &TestApp, key: &str, path: &Path, filetype: &str) -> i64 {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    submit_bytes(app, key, &name, filetype, std::fs::read(path).unwrap()).await
}

/// Puts `bytes` through file `id`'s presigned URL and asks for cleaning.
pub async fn upload_and_clean(app: &TestApp, key: &str, id: i64, bytes: Vec<u8>) {
    let (status, upload) = process(app, key, id, "upload").await;
    assert_eq!(status, StatusCode::OK, "{upload}");
    let put = app
        .client
        .put(upload["presigned_url"].as_str().unwrap())
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let (status, body) = process(app, key, id, "clean").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Polls file `id` (at most 120 s) until `done` holds for it; returns it.
pub async fn file_when(app: &TestApp, key: &str, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/files/salesfiles/{id}/");
    let last = std::sync::Mutex::new(Value::Null);
    wait_until(Duration::from_secs(120), || async {
        let (_, file) = call(app, Method::GET, &path, key, None).await;
        if done(&file) {
            return Some(file);
        }
        *last.lock().unwrap() = file;
        None
    })
    .await
    .unwrap_or_else(|| panic!("file {id} never got there: {}", last.lock().unwrap()))
}

/// Polls the file until processing ends (FINALIZED or FAILED).
pub async fn settled(app: &TestApp, key: &str, id: i64) -> Value {
    file_when(app, key, id, |file| {
        ["FINALIZED", "FAILED"].contains(&file["status"].as_str().unwrap_or(""))
    })
    .await
}

/// Calls `check` every 20 ms until it answers something, for at most
/// `patience`; `None` if it never did.
pub async fn wait_until<T, F, Fut>(patience: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + patience;
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
