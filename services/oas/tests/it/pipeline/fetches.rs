//! Automatic uploads end to end: a Google Drive folder (through a local
//! stand-in of the Drive API), a Dropbox shared folder (the same for
//! Dropbox's), FTPS and SFTP (the stand-ins the test script starts) become
//! sales files that are cleaned and imported without another call; files
//! already imported, of other types or behind refused addresses are listed
//! with why; a saved source picks up what is new by itself and is paused
//! after three failures in a row, its owner told.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use super::*;
use crate::support::files::wait_until;
use crate::support::stand_in;

const GOOGLE_KEY: &str = "test-google-key";
const DISTROKID: &str = "distributors/DistroKid_Test.tsv";
const CDBABY: &str = "distributors/CdBaby_Test.txt";
const NON_ASCII: &str = "distributors/DistroKid_NonAscii.tsv";

/// A Drive item: its metadata, its folder, its bytes.
type DriveItem = (Value, Option<String>, Option<Vec<u8>>);

/// A stand-in of the Drive and Dropbox APIs: items by id (Drive) and by
/// path (Dropbox), with every request it was sent.
#[derive(Default)]
struct Fake {
    /// Drive: id -> (metadata, parent, bytes).
    drive: HashMap<String, DriveItem>,
    /// Dropbox: path in the shared folder ("" the top) -> entries, and
    /// path -> bytes.
    dropbox_folders: HashMap<String, Vec<Value>>,
    dropbox_files: HashMap<String, Vec<u8>>,
    seen: Vec<String>,
}

async fn answer(req: HttpRequest, body: web::Bytes, fake: web::Data<Mutex<Fake>>) -> HttpResponse {
    let mut fake = fake.lock().unwrap();
    let path = req.path().to_owned();
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    fake.seen
        .push(format!("{path} {}", header("x-goog-drive-resource-keys")));
    if let Some(rest) = path.strip_prefix("/drive/v3/files") {
        if query.get("key").map(String::as_str) != Some(GOOGLE_KEY) {
            return HttpResponse::Forbidden().body(r#"{"error":{"code":403}}"#);
        }
        if rest.is_empty() {
            // files.list: `'ID' in parents and trashed=false`.
            let q = query.get("q").cloned().unwrap_or_default();
            let parent = q.split('\'').nth(1).unwrap_or_default().to_owned();
            let files: Vec<Value> = fake
                .drive
                .values()
                .filter(|(_, p, _)| p.as_deref() == Some(parent.as_str()))
                .map(|(meta, _, _)| meta.clone())
                .collect();
            // Two pages: the first item alone, then the rest.
            return match query.get("pageToken") {
                None if files.len() > 1 => {
                    HttpResponse::Ok().json(json!({"nextPageToken": "page-2", "files": [files[0]]}))
                }
                None => HttpResponse::Ok().json(json!({"files": files})),
                Some(_) => HttpResponse::Ok().json(json!({"files": files[1..]})),
            };
        }
        let id = rest.trim_start_matches('/').to_owned();
        return match fake.drive.get(&id) {
            Some((_, _, Some(bytes))) if query.get("alt").map(String::as_str) == Some("media") => {
                HttpResponse::Ok().body(bytes.clone())
            }
            Some((meta, _, _)) if meta["resourceKey"].is_string() => {
                let wanted = format!("{id}/{}", meta["resourceKey"].as_str().unwrap());
                if header("x-goog-drive-resource-keys").contains(&wanted) {
                    HttpResponse::Ok().json(meta)
                } else {
                    HttpResponse::NotFound().body(r#"{"error":{"code":404}}"#)
                }
            }
            Some((meta, _, _)) => HttpResponse::Ok().json(meta),
            None => HttpResponse::NotFound().body(r#"{"error":{"code":404}}"#),
        };
    }
    if header("authorization") != "Basic ZHJvcGJveC1rZXk6ZHJvcGJveC1zZWNyZXQ=" {
        return HttpResponse::Unauthorized().finish();
    }
    let argument: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match path.as_str() {
        "/dropbox/api/sharing/get_shared_link_metadata" => {
            HttpResponse::Ok().json(json!({".tag": "folder", "name": "Monthly"}))
        }
        "/dropbox/api/files/list_folder" => {
            let at = argument["path"].as_str().unwrap_or_default().to_owned();
            let entries = fake.dropbox_folders.get(&at).cloned().unwrap_or_default();
            // `has_more`: the first entry, then the rest on `continue`.
            let (first, rest) = entries.split_at(entries.len().min(1));
            HttpResponse::Ok().json(json!({
                "entries": first,
                "cursor": serde_json::to_string(&json!({"path": at, "rest": rest})).unwrap(),
                "has_more": !rest.is_empty(),
            }))
        }
        "/dropbox/api/files/list_folder/continue" => {
            let cursor: Value =
                serde_json::from_str(argument["cursor"].as_str().unwrap_or("{}")).unwrap();
            HttpResponse::Ok().json(json!({
                "entries": cursor["rest"], "cursor": "end", "has_more": false,
            }))
        }
        "/dropbox/content/sharing/get_shared_link_file" => {
            let argument: Value = serde_json::from_str(&header("dropbox-api-arg")).unwrap();
            let at = argument["path"].as_str().unwrap_or_default();
            match fake.dropbox_files.get(at) {
                Some(bytes) => HttpResponse::Ok().body(bytes.clone()),
                None => HttpResponse::Conflict()
                    .json(json!({"error_summary": "shared_link_not_found/"})),
            }
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

/// Serves `fake` on 127.0.0.1; its base URL.
fn serve(fake: Arc<Mutex<Fake>>) -> String {
    let data = web::Data::from(fake);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(1 << 20))
            .default_service(web::to(answer))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    format!("http://127.0.0.1:{port}")
}

/// A ZIP holding one sample.
fn zipped(sample_path: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let name = sample_path.rsplit('/').next().unwrap();
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, &std::fs::read(sample(sample_path)).unwrap()).unwrap();
    zip.finish().unwrap().into_inner()
}

fn drive_file(id: &str, name: &str, mime: &str) -> Value {
    json!({"id": id, "name": name, "mimeType": mime})
}

/// The app, the owner's key and organisation, reading Drive and Dropbox
/// from `base`, with local addresses allowed as the stand-ins' are.
async fn app_reading(base: &str) -> (TestApp, String, i64) {
    let mut builder = TestApp::builder()
        .var("OAS_DRIVE_API_URL", &format!("{base}/drive/v3/"))
        .var("OAS_DROPBOX_API_URL", &format!("{base}/dropbox/api/"))
        .var(
            "OAS_DROPBOX_CONTENT_URL",
            &format!("{base}/dropbox/content/"),
        )
        .var("OAS_GOOGLE_API_KEY", GOOGLE_KEY)
        .var("OAS_FETCH_ALLOW_PRIVATE", "127.0.0.1/32")
        .var("OAS_FETCH_MAX_DEPTH", "1");
    if let Ok(ca) = std::env::var("OAS_TEST_FTP_CA") {
        builder = builder.var("OAS_FETCH_CA_FILE", &ca);
    }
    rates_for(builder.start().await).await
}

/// Polls batch `id` until it is no longer FETCHING; returns it.
async fn batch_done(app: &TestApp, key: &str, id: i64) -> Value {
    let path = format!("/api/files/upload_automatically/{id}/");
    wait_until(Duration::from_secs(60), || async {
        let (_, batch) = call(app, Method::GET, &path, key, None).await;
        (batch["status"] != "FETCHING").then_some(batch)
    })
    .await
    .unwrap_or_else(|| panic!("batch {id} never ended"))
}

async fn fetch(app: &TestApp, key: &str, url: &str) -> Value {
    let (status, batch) = call(
        app,
        Method::POST,
        "/api/files/upload_automatically/",
        key,
        Some(json!({"url": url})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{batch}");
    assert_eq!(batch["status"], "FETCHING", "{batch}");
    batch_done(app, key, batch["id"].as_i64().unwrap()).await
}

fn by_path<'a>(list: &'a Value, path: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} is not in {list}"))
}

/// Checks that the batch's file at `path` was imported as the sample says.
async fn imported(app: &TestApp, key: &str, batch: &Value, path: &str, sample_path: &str) -> i64 {
    let id = by_path(&batch["files"], path)["id"].as_i64().unwrap();
    let (column, currency) = match sample_path {
        DISTROKID => ("Earnings (USD)", "USD"),
        _ => ("Subtotal", "USD"),
    };
    let (total, lines) = source_total(&sample(sample_path), column);
    check_imported(app, key, id, total, lines, currency).await;
    id
}

#[actix_web::test]
async fn a_drive_folder_is_fetched_walked_and_imported_and_a_second_fetch_finds_copies() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    {
        let mut fake = fake.lock().unwrap();
        let folder = "application/vnd.google-apps.folder";
        let mut add = |meta: Value, parent: Option<&str>, bytes: Option<Vec<u8>>| {
            let id = meta["id"].as_str().unwrap().to_owned();
            fake.drive
                .insert(id, (meta, parent.map(str::to_owned), bytes));
        };
        let mut top = drive_file("TopFolder01", "Label reports", folder);
        top["resourceKey"] = json!("0-top");
        add(top, None, None);
        add(
            drive_file("DistroKid01", "DistroKid.tsv", "text/tab-separated-values"),
            Some("TopFolder01"),
            Some(std::fs::read(sample(DISTROKID)).unwrap()),
        );
        add(
            drive_file("ReadMe00001", "read me.pdf", "application/pdf"),
            Some("TopFolder01"),
            Some(b"%PDF".to_vec()),
        );
        add(
            drive_file("SubFolder01", "2024", folder),
            Some("TopFolder01"),
            None,
        );
        add(
            drive_file("CdBaby00001", "CdBaby.txt", "text/plain"),
            Some("SubFolder01"),
            Some(std::fs::read(sample(CDBABY)).unwrap()),
        );
        add(
            drive_file("Deeper00001", "old", folder),
            Some("SubFolder01"),
            None,
        );
        add(
            drive_file("Bundle00001", "bundle.zip", "application/zip"),
            Some("SubFolder01"),
            Some(zipped(NON_ASCII)),
        );
        add(
            drive_file("ZipFile0001", "bundle.zip", "application/zip"),
            None,
            Some(b"PK".to_vec()),
        );
    }
    let base = serve(fake.clone());
    let (app, key, org) = app_reading(&base).await;

    let link = "https://drive.google.com/drive/folders/TopFolder01?resourcekey=0-top&usp=sharing";
    let batch = fetch(&app, &key, link).await;
    assert_eq!(batch["status"], "DONE", "{batch}");
    assert_eq!(batch["upload_mode"], "GOOGLE_DRIVE");
    assert_eq!(batch["counts"]["found"], 5, "{batch}");
    assert_eq!(batch["counts"]["fetched"], 3, "{batch}");
    let skipped = &batch["skipped"];
    assert_eq!(by_path(skipped, "read me.pdf")["kind"], "unsupported");
    assert_eq!(by_path(skipped, "2024/old")["kind"], "too_deep");
    let first = imported(&app, &key, &batch, "DistroKid.tsv", DISTROKID).await;
    imported(&app, &key, &batch, "2024/CdBaby.txt", CDBABY).await;
    // A ZIP in a folder is expanded as an upload is, its report imported.
    let bundle = by_path(&batch["files"], "2024/bundle.zip")["id"]
        .as_i64()
        .unwrap();
    let archive = settled(&app, &key, bundle).await;
    assert_eq!(archive["status"], "FINALIZED", "{archive}");
    let cause = archive["status_cause"].as_str().unwrap().to_owned();
    assert!(cause.contains("expanded into 1 file(s)"), "{cause}");
    let (_, page) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?page_size=50",
        &key,
        None,
    )
    .await;
    let member = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["parent"].as_i64() == Some(bundle))
        .expect("the archive's member")["id"]
        .as_i64()
        .unwrap();
    let (total, lines) = source_total(&sample(NON_ASCII), "Earnings (USD)");
    check_imported(&app, &key, member, total, lines, "USD").await;
    let (_, file) = call(
        &app,
        Method::GET,
        &format!("/api/files/salesfiles/{first}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(file["upload_mode"], "GOOGLE_DRIVE", "{file}");
    assert_eq!(file["organisation"], org);
    let seen = fake.lock().unwrap().seen.clone();
    assert!(
        seen.iter().any(|s| s.contains("TopFolder01/0-top")),
        "the resource key is sent: {seen:?}"
    );

    // The same folder again: both reports are copies of files imported.
    let again = fetch(&app, &key, link).await;
    assert_eq!(again["status"], "DONE", "{again}");
    assert_eq!(again["counts"]["fetched"], 0, "{again}");
    let copy = by_path(&again["skipped"], "DistroKid.tsv");
    assert_eq!(copy["kind"], "duplicate", "{again}");
    assert_eq!(copy["duplicate_of"], first);

    // A link to a ZIP file, an item not shared, a link OAS does not read.
    let zip = fetch(
        &app,
        &key,
        "https://drive.google.com/file/d/ZipFile0001/view",
    )
    .await;
    assert_eq!(zip["status"], "FAILED");
    assert!(
        zip["status_cause"].as_str().unwrap().contains("ZIP"),
        "{zip}"
    );
    let private = fetch(
        &app,
        &key,
        "https://drive.google.com/drive/folders/TopFolder01",
    )
    .await;
    assert_eq!(private["status"], "FAILED");
    let cause = private["status_cause"].as_str().unwrap();
    assert!(cause.contains("Anyone with the link"), "{cause}");
    for url in [
        "https://example.com/report.csv",
        "http://drive.google.com/file/d/x",
        "not a link",
    ] {
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/files/upload_automatically/",
            &key,
            Some(json!({"url": url})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert!(body["detail"].is_string(), "{body}");
    }

    // Another organisation sees none of it.
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    let path = format!("/api/files/upload_automatically/{}/", batch["id"]);
    let (status, _) = call(&app, Method::GET, &path, &stranger, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = call(
        &app,
        Method::GET,
        "/api/files/upload_automatically/",
        &stranger,
        None,
    )
    .await;
    assert_eq!(page["count"], 0, "{page}");
    app.stop().await;
}

#[actix_web::test]
async fn a_dropbox_folder_is_read_with_the_organisations_app_key() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    {
        let mut fake = fake.lock().unwrap();
        fake.dropbox_folders.insert(
            String::new(),
            vec![
                json!({".tag": "file", "name": "DistroKid.tsv", "size": 10, "server_modified": "2024-02-01T00:00:00Z"}),
                json!({".tag": "file", "name": "summary.docx", "size": 10}),
            ],
        );
        fake.dropbox_files.insert(
            "/DistroKid.tsv".to_owned(),
            std::fs::read(sample(DISTROKID)).unwrap(),
        );
    }
    let base = serve(fake);
    let (app, key, org) = app_reading(&base).await;
    let link = "https://www.dropbox.com/scl/fo/abc123/def456?rlkey=k1&dl=0";

    // Without the organisation's app key and secret, it says what to set.
    let batch = fetch(&app, &key, link).await;
    assert_eq!(batch["status"], "FAILED", "{batch}");
    assert!(
        batch["status_cause"]
            .as_str()
            .unwrap()
            .contains("dropbox_app_key"),
        "{batch}"
    );

    let (status, settings) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/settings/"),
        &key,
        Some(json!({"fetch": {"dropbox_app_key": "dropbox-key", "dropbox_app_secret": "dropbox-secret"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["fetch"]["dropbox_app_secret_set"], true);
    assert!(
        !settings.to_string().contains("dropbox-secret"),
        "the secret is never shown"
    );

    let batch = fetch(&app, &key, link).await;
    assert_eq!(batch["status"], "DONE", "{batch}");
    assert_eq!(batch["upload_mode"], "DROPBOX");
    assert_eq!(
        by_path(&batch["skipped"], "summary.docx")["kind"],
        "unsupported"
    );
    imported(&app, &key, &batch, "DistroKid.tsv", DISTROKID).await;
    app.stop().await;
}

#[actix_web::test]
async fn an_ftps_url_is_fetched_and_its_password_never_shown() {
    let (Some(port), Some(root)) = (stand_in("OAS_TEST_FTP_PORT"), stand_in("OAS_TEST_FTP_ROOT"))
    else {
        return;
    };
    let folder = std::path::Path::new(&root).join("pasted");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(sample(CDBABY), folder.join("CdBaby.txt")).unwrap();
    let (app, key, _) = app_reading("http://127.0.0.1:9").await;
    let url = format!("ftps://oas:oas-ftp-secret@127.0.0.1:{port}/pasted/");
    let batch = fetch(&app, &key, &url).await;
    assert_eq!(batch["status"], "DONE", "{batch}");
    assert_eq!(batch["upload_mode"], "FTP");
    assert!(!batch.to_string().contains("oas-ftp-secret"), "{batch}");
    imported(&app, &key, &batch, "CdBaby.txt", CDBABY).await;

    // Addresses OAS never fetches from are refused, whatever the scheme.
    for url in [
        "ftp://10.0.0.1/reports/",
        "sftp://u:p@169.254.169.254/",
        "ftps://[::ffff:127.0.0.1]/",
    ] {
        let refused = fetch(&app, &key, url).await;
        assert_eq!(refused["status"], "FAILED", "{refused}");
        assert!(
            refused["status_cause"]
                .as_str()
                .unwrap()
                .contains("OAS does not fetch from it"),
            "{url}: {refused}"
        );
    }
    app.stop().await;
}

/// Polls source `id` now; the batch, once ended.
async fn poll(app: &TestApp, key: &str, id: i64) -> Value {
    let (status, batch) = call(
        app,
        Method::POST,
        &format!("/api/sources/{id}/poll/"),
        key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{batch}");
    batch_done(app, key, batch["id"].as_i64().unwrap()).await
}

#[actix_web::test]
async fn a_saved_sftp_source_picks_up_new_files_by_itself_and_pauses_after_three_failures() {
    let (Some(port), Some(root), Some(key_file)) = (
        stand_in("OAS_TEST_SFTP_PORT"),
        stand_in("OAS_TEST_FTP_ROOT"),
        stand_in("OAS_TEST_SFTP_HOST_KEY"),
    ) else {
        return;
    };
    let folder = std::path::Path::new(&root).join("drop");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(sample(DISTROKID), folder.join("DistroKid.tsv")).unwrap();
    let (app, key, _) = app_reading("http://127.0.0.1:9").await;

    let (status, source) = call(
        &app,
        Method::POST,
        "/api/sources/",
        &key,
        Some(json!({
            "name": "Distributor drop",
            "url": format!("sftp://oas:oas-sftp-secret@127.0.0.1:{port}/drop"),
            "every": "1d",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{source}");
    assert!(!source.to_string().contains("oas-sftp-secret"), "{source}");
    assert_eq!(source["every"], "1d");
    let id = source["id"].as_i64().unwrap();

    // Its first poll is due at once: the poller takes it.
    assert_eq!(
        oas::workflows::fetches::poll_due(&app.state).await.unwrap(),
        1
    );
    let (_, source) = call(
        &app,
        Method::GET,
        &format!("/api/sources/{id}/"),
        &key,
        None,
    )
    .await;
    let first = batch_done(&app, &key, source["last_batch"].as_i64().unwrap()).await;
    assert_eq!(first["status"], "DONE", "{first}");
    assert_eq!(first["source"], id);
    imported(&app, &key, &first, "DistroKid.tsv", DISTROKID).await;
    // Not due again until tomorrow.
    assert_eq!(
        oas::workflows::fetches::poll_due(&app.state).await.unwrap(),
        0
    );

    // The server's key was pinned on first contact.
    let (_, source) = call(
        &app,
        Method::GET,
        &format!("/api/sources/{id}/"),
        &key,
        None,
    )
    .await;
    let pinned = source["host_key"]
        .as_str()
        .expect("a pinned key")
        .to_owned();
    assert!(
        std::fs::read_to_string(key_file)
            .unwrap()
            .starts_with(&pinned)
    );

    // Next month's report arrives; only it is fetched.
    std::fs::create_dir_all(folder.join("2024-02")).unwrap();
    std::fs::copy(sample(CDBABY), folder.join("2024-02/CdBaby.txt")).unwrap();
    let next = poll(&app, &key, id).await;
    assert_eq!(next["status"], "DONE", "{next}");
    assert_eq!(next["counts"]["fetched"], 1, "{next}");
    assert_eq!(by_path(&next["skipped"], "DistroKid.tsv")["kind"], "seen");
    imported(&app, &key, &next, "2024-02/CdBaby.txt", CDBABY).await;

    // A key other than the pinned one is refused.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/sources/{id}/"),
        &key,
        Some(json!({"host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let refused = poll(&app, &key, id).await;
    assert_eq!(refused["status"], "FAILED");
    assert!(
        refused["status_cause"]
            .as_str()
            .unwrap()
            .contains("host key"),
        "{refused}"
    );

    // Two more failures in a row (a wrong password): paused, owner told.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/sources/{id}/"),
        &key,
        Some(json!({"url": format!("sftp://oas:wrong@127.0.0.1:{port}/drop"), "host_key": pinned})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..2 {
        let failed = poll(&app, &key, id).await;
        assert_eq!(failed["status"], "FAILED", "{failed}");
    }
    let (_, source) = call(
        &app,
        Method::GET,
        &format!("/api/sources/{id}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(source["paused"], true, "{source}");
    assert_eq!(source["failures"], 3, "{source}");
    assert!(
        source["status_cause"]
            .as_str()
            .unwrap()
            .contains("refused the login"),
        "{source}"
    );
    let outbox = app.state.settings.data_dir.join("outbox");
    let told = wait_until(Duration::from_secs(10), || async {
        std::fs::read_dir(&outbox)
            .ok()?
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .find(|m| m.contains("is paused"))
    })
    .await;
    assert!(told.is_some(), "the owner is emailed");
    app.stop().await;
}
