//! The sales-files API: the seed's record, the status machine over HTTP,
//! the presigned upload, isolation.

use oas_platform::storage::{ObjectKey, ObjectStore};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::files::call;

/// The Spotify sample, from the package folder as cargo runs the tests
/// (a shared target directory may hold a build from another checkout).
fn spotify() -> std::path::PathBuf {
    std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../../shared/samples/spotify/Spotify_streaming_via_finetunes_201710_example.txt")
}

fn seed_file() -> Value {
    json!({"filename": "Spotify_streaming_via_finetunes_201710_example.txt", "filetype": "TXT", "filesize": 326936,
           "mongo_db_id": "65f1c2aa9d1e8b0012345678", "reporting_period": "2017-10", "exchange_rate": "0.92"})
}

#[actix_web::test]
async fn a_file_is_created_uploaded_through_its_presigned_url_and_cleaned() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let org = app.organisation(&key).await;
    let (status, file) = call(
        &app,
        Method::POST,
        "/api/files/salesfiles/",
        &key,
        Some(seed_file()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["status"], "INITIALIZED");
    assert_eq!(file["uuid"].as_str().unwrap().len(), 8);
    assert_eq!(
        (
            file["organisation"].as_i64(),
            file["upload_mode"].clone(),
            file["response_module"].clone()
        ),
        (Some(org), json!("MANUALLY"), json!("PENDING"))
    );
    assert_eq!(
        (
            file["exchange_rate"].clone(),
            file["module_response"].clone()
        ),
        (json!("0.92"), Value::Null)
    );
    let id = file["id"].as_i64().unwrap();
    let process_path = format!("/api/files/salesfiles/{id}/process/");
    let process = |action: &str| {
        call(
            &app,
            Method::POST,
            &process_path,
            &key,
            Some(json!({"action": action})),
        )
    };

    let (status, body) = process("dance").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["action"][0]
            .as_str()
            .unwrap()
            .contains("upload, clean, import, reimport"),
        "{body}"
    );
    let (status, body) = process("import").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::CONFLICT,
            json!({"detail": "Cannot import a file whose status is INITIALIZED. Upload its bytes first: process it with the action \"upload\" and PUT them to the URL it answers."})
        )
    );
    let (status, body) = process("clean").await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing uploaded yet: {body}");

    let (status, upload) = process("upload").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(upload["status"], "UPLOADING");
    let (status, body) = process("clean").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::CONFLICT,
            json!({"detail": "Cannot clean a file whose status is UPLOADING. Upload its bytes first: process it with the action \"upload\" and PUT them to the URL it answers."})
        )
    );
    let bytes = std::fs::read(spotify()).unwrap();
    // More than the declared filesize is refused (the seed's size in bits
    // is more than the bytes, so a right upload always fits).
    let too_many = vec![b'x'; 326_937];
    let put = app
        .client
        .put(upload["presigned_url"].as_str().unwrap())
        .body(too_many)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let put = app
        .client
        .put(upload["presigned_url"].as_str().unwrap())
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let stored = ObjectKey::parse(&format!("org-{org}/files/{id}/original")).unwrap();
    assert_eq!(
        app.state.storage.head(&stored).await.unwrap(),
        Some(bytes.len() as u64)
    );

    let (status, cleaning) = process("clean").await;
    assert_eq!(status, StatusCode::OK, "{cleaning}");
    let job_id = cleaning["job"].as_str().unwrap();
    let (_, job) = call(
        &app,
        Method::GET,
        &format!("/api/jobs/{job_id}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(
        (
            job["module"].clone(),
            job["action"].clone(),
            job["file"].as_i64()
        ),
        (json!("uploads"), json!("clean"), Some(id))
    );
    // Cleaning, then importing, run to the end; the file then carries its figures.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let now = loop {
        let (_, now) = call(
            &app,
            Method::GET,
            &format!("/api/files/salesfiles/{id}/"),
            &key,
            None,
        )
        .await;
        if ["FINALIZED", "FAILED"].contains(&now["status"].as_str().unwrap()) {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "{now}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        (now["status"].clone(), now["status_cause"].clone()),
        (
            json!("FINALIZED"),
            json!("Not matched: the organisation has no catalog yet.")
        ),
        "{now}"
    );
    assert_eq!(
        (
            now["module_response"].clone(),
            now["response_module"].clone()
        ),
        (json!("importer"), json!("SUCCEEDED"))
    );
    assert!(now["total_rows"].as_i64().unwrap() > 100);
    assert_eq!(now["reporting_period"], "2017-10");
    assert_eq!(
        now["uploaded_bytes"],
        bytes.len(),
        "the real size is recorded"
    );
    let (status, body) = process("clean").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[actix_web::test]
async fn invalid_files_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/files/salesfiles/",
        &key,
        Some(seed_file()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no active organisation yet: {body}"
    );
    assert!(body["errors"]["organisation"].is_array());
    app.organisation(&key).await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/files/salesfiles/",
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["filename", "filetype", "filesize", "mongo_db_id"] {
        assert_eq!(
            body["errors"][field],
            json!(["This field is required."]),
            "{body}"
        );
    }
    for (change, field) in [
        (json!({"filetype": "PDF"}), "filetype"),
        (json!({"status": "FINALIZED"}), "status"),
        (json!({"reporting_period": "2017-13"}), "reporting_period"),
        (json!({"exchange_rate": "-1"}), "exchange_rate"),
        (json!({"upload_mode": "BY_PIGEON"}), "upload_mode"),
        (json!({"filesize": -5}), "filesize"),
        (json!({"filesize": "big"}), "filesize"),
    ] {
        let mut body = seed_file();
        body.as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        let (status, answer) = call(
            &app,
            Method::POST,
            "/api/files/salesfiles/",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer["errors"][field].is_array(), "{field}: {answer}");
    }
}

#[actix_web::test]
async fn files_are_listed_filtered_isolated_and_deleted_with_their_bytes() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.user_with_key("olga").await;
    let (_, viewer) = app.user_with_key("vic").await;
    let (_, outsider) = app.user_with_key("otto").await;
    let org = app.organisation(&owner).await;
    call(
        &app,
        Method::POST,
        &format!("/api/organisations/{org}/members/"),
        &owner,
        Some(json!({"username": "vic", "role": "viewer"})),
    )
    .await;
    let (_, first) = call(
        &app,
        Method::POST,
        "/api/files/salesfiles/",
        &owner,
        Some(seed_file()),
    )
    .await;
    let mut other = seed_file();
    other["reporting_period"] = json!("2017-11");
    let (_, second) = call(
        &app,
        Method::POST,
        "/api/files/salesfiles/",
        &owner,
        Some(other),
    )
    .await;
    let id = first["id"].as_i64().unwrap();

    let (_, listed) = call(&app, Method::GET, "/api/files/salesfiles/", &owner, None).await;
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["results"][0]["id"], second["id"], "newest first");
    let (_, by_period) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?period=2017-10",
        &owner,
        None,
    )
    .await;
    assert_eq!(
        (
            by_period["count"].clone(),
            by_period["results"][0]["id"].clone()
        ),
        (json!(1), first["id"].clone())
    );
    let (_, by_status) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?status=FAILED",
        &owner,
        None,
    )
    .await;
    assert_eq!(by_status["count"], 0);
    let (status, _) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?status=DONE",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let path = format!("/api/files/salesfiles/{id}/");
    let (status, _) = call(&app, Method::GET, &path, &viewer, None).await;
    assert_eq!(status, StatusCode::OK, "viewers read files");
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("{path}process/"),
        &viewer,
        Some(json!({"action": "upload"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "viewers do not process files"
    );
    for (method, target, body) in [
        (Method::GET, path.clone(), None),
        (Method::DELETE, path.clone(), None),
        (
            Method::POST,
            format!("{path}process/"),
            Some(json!({"action": "upload"})),
        ),
    ] {
        let (status, answer) = call(&app, method.clone(), &target, &outsider, body).await;
        assert_eq!(
            (status, answer),
            (StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
            "{method} {target}"
        );
    }

    let (_, upload) = call(
        &app,
        Method::POST,
        &format!("{path}process/"),
        &owner,
        Some(json!({"action": "upload"})),
    )
    .await;
    app.client
        .put(upload["presigned_url"].as_str().unwrap())
        .body("Country\tQuantity\n")
        .send()
        .await
        .unwrap();
    let (status, deleted) = call(&app, Method::DELETE, &path, &owner, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["deleted"][0]["id"], id, "{deleted}");
    let (status, _) = call(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stored = ObjectKey::parse(&format!("org-{org}/files/{id}/original")).unwrap();
    assert_eq!(
        app.state.storage.head(&stored).await.unwrap(),
        None,
        "its bytes are gone too"
    );
}

#[actix_web::test]
async fn a_processed_file_shows_its_snapshot_and_the_organisation_its_summary() {
    use std::collections::BTreeMap;

    use oas_domain::money::{Amount, parse_rate};
    use oas_platform::snapshots::{
        Dimension, Snapshot, SnapshotRow, SnapshotStore, SnapshotTotals,
    };

    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let (_, outsider) = app.user_with_key("otto").await;
    let org = app.organisation(&key).await;
    let (_, file) = call(
        &app,
        Method::POST,
        "/api/files/salesfiles/",
        &key,
        Some(seed_file()),
    )
    .await;
    let id = file["id"].as_i64().unwrap();
    let path = format!("/api/files/salesfiles/{id}/snapshot/");
    let (status, body) = call(&app, Method::GET, &path, &key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].as_str().unwrap().contains("no snapshot yet"));

    // What the importer stores once it has processed the file.
    let d = |s: &str| s.parse::<Amount>().unwrap();
    let group = |key: &str, revenue: &str| SnapshotRow {
        key: key.into(),
        name: key.to_uppercase(),
        isrc: None,
        upc: None,
        revenue: d(revenue),
        base_revenue: d(revenue).convert(parse_rate("0.92").unwrap()).unwrap(),
        quantity: 3,
    };
    let mut rows = BTreeMap::new();
    rows.insert(
        Dimension::Artist,
        vec![
            group("ana", "1.5"),
            group("bea", "10.25"),
            group("cai", "0.000001"),
        ],
    );
    rows.insert(Dimension::Dsp, vec![group("spotify", "11.750001")]);
    rows.insert(Dimension::Territory, vec![group("DE", "11.750001")]);
    rows.insert(Dimension::Track, vec![group("DEA620800039", "11.750001")]);
    rows.insert(
        Dimension::Release,
        vec![group("0602517646489", "11.750001")],
    );
    let snapshot = Snapshot {
        totals: SnapshotTotals {
            file_id: id,
            organisation_id: org,
            currency: "EUR".into(),
            base_currency: "USD".into(),
            period: Some("2017-10".into()),
            lines: 3,
            revenue: d("11.750001"),
            base_revenue: d("11.750001").convert(parse_rate("0.92").unwrap()).unwrap(),
            quantity: 9,
        },
        rows,
    };
    app.state.snapshots.save(&snapshot).await.unwrap();

    let (status, body) = call(&app, Method::GET, &format!("{path}?limit=2"), &key, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for list in ["byArtist", "byDSP", "byTerritory", "byTrack", "byRelease"] {
        assert!(body[list].is_array(), "{list} in {body}");
    }
    let artists: Vec<&str> = body["byArtist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(artists, ["BEA", "ANA"], "by revenue, limited to 2");
    assert_eq!(body["byArtist"][0]["revenue"], "10.25");
    assert_eq!(body["total_revenue"], "11.750001", "exact, as text");
    let (status, _) = call(&app, Method::GET, &format!("{path}?limit=0"), &key, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&app, Method::GET, &path, &outsider, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, summary) = call(&app, Method::GET, "/api/sales/summary/", &key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        summary,
        json!({"files": 1, "artists": 3, "releases": 1, "tracks": 1, "total_gross": "10.81000092"})
    );
    let (status, _) = call(&app, Method::GET, "/api/sales/summary/", &outsider, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no active organisation");
}
