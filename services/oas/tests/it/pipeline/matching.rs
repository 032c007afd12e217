//! Matching over HTTP, on both engines: a report imported before there is
//! a catalog is FINALIZED at once; tracks added by hand; the file matched
//! again and each usage item read with its match and reason; a reimport
//! matched by itself; a deleted track leaves its items unmatched and the
//! lines untouched; another organisation sees none of it.

use super::*;

async fn add_track(app: &TestApp, key: &str, track: Value) -> i64 {
    let (status, body) = call(app, Method::POST, "/api/catalog/tracks/", key, Some(track)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn matches(app: &TestApp, key: &str, id: i64, query: &str) -> Value {
    let (status, page) = call(
        app,
        Method::GET,
        &format!("/api/files/salesfiles/{id}/matches/{query}"),
        key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

fn matched_with(cause: &Value) -> bool {
    cause.as_str().is_some_and(|c| c.starts_with("Matched "))
}

async fn a_file_is_matched_to_the_catalog_and_says_why(app: TestApp) {
    let (app, key, _) = rates_for(app).await;
    let path = sample("distributors/DistroKid_Test.tsv");
    let id = submit(&app, &key, &path, "TSV").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert!(
        file["status_cause"]
            .as_str()
            .unwrap_or_default()
            .contains("no catalog"),
        "{file}"
    );
    let (total, _) = source_total(&path, "Earnings (USD)");

    let song_1 = add_track(
        &app,
        &key,
        json!({"title": "Song 1", "artist": "Artist 1", "isrc": "aa-aaa-12-34567"}),
    )
    .await;
    let song_10 = add_track(
        &app,
        &key,
        json!({"title": "SONG 10", "artist": "artist 2"}),
    )
    .await;
    // Another version of Song 100 is not Song 100.
    add_track(
        &app,
        &key,
        json!({"title": "Song 100", "version": "Live", "artist": "Artist 3"}),
    )
    .await;

    // Every processed file of the organisation, matched again.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/match/",
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["started"][0]["file"], id, "{body}");
    assert_eq!(body["refused"], json!([]));
    let file = file_when(&app, &key, id, |f| matched_with(&f["status_cause"])).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(
        file["status_cause"],
        "Matched 3 of 4 usage item(s); 1 for review, 0 unmatched."
    );

    let page = matches(&app, &key, id, "").await;
    assert_eq!(page["count"], 4, "{page}");
    let items = page["results"].as_array().unwrap();
    // Most revenue first, and together exactly the file's total.
    let revenues: Vec<Amount> = items
        .iter()
        .map(|i| Amount::parse(i["revenue"].as_str().unwrap()).unwrap())
        .collect();
    assert!(revenues.windows(2).all(|w| w[0] >= w[1]), "{page}");
    assert_eq!(revenues.iter().copied().sum::<Amount>(), total);
    let by_isrc = |isrc: &str| {
        items
            .iter()
            .find(|i| i["isrc"] == isrc)
            .unwrap_or_else(|| panic!("no item with {isrc}: {page}"))
    };
    let item = by_isrc("AAAAA1234567");
    assert_eq!(
        (&item["status"], &item["match_type"], &item["track"]["id"]),
        (&json!("matched"), &json!("isrc"), &json!(song_1))
    );
    assert!(
        item["reason"]
            .as_str()
            .unwrap()
            .contains("ISRC AAAAA1234567"),
        "{item}"
    );
    for isrc in ["BBBBB1234567", "BBBBB8910111"] {
        let item = by_isrc(isrc);
        assert_eq!(
            (&item["status"], &item["match_type"], &item["track"]["id"]),
            (&json!("matched"), &json!("exact_text"), &json!(song_10)),
            "a wrong ISRC falls through to the text: {item}"
        );
    }
    // The live recording is only a suggestion for the studio one's lines.
    let item = by_isrc("CCCCC1234567");
    assert_eq!(item["status"], "review", "{item}");
    assert!(item["track"].is_null());
    assert_eq!(item["candidates"][0]["track"]["version"], "Live", "{item}");
    let reason = item["reason"].as_str().unwrap();
    assert!(reason.contains("ISRC CCCCC1234567"), "{reason}");
    assert!(reason.contains("another version"), "{reason}");

    let review = matches(&app, &key, id, "?status=review").await;
    assert_eq!(review["count"], 1, "{review}");
    assert_eq!(
        matches(&app, &key, id, "?status=unmatched").await["count"],
        0
    );
    let (status, body) = call(
        &app,
        Method::GET,
        &format!("/api/files/salesfiles/{id}/matches/?status=maybe"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A reimport is matched by itself.
    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = file_when(&app, &key, id, |f| {
        f["status"] == "FINALIZED"
            && matched_with(&f["status_cause"])
            && f["response_module"] == "SUCCEEDED"
    })
    .await;
    assert_eq!(file["module_response"], "catalogue-matching", "{file}");

    // Deleting a track leaves the lines and unmatches its items.
    let before = summary(&app, &key).await;
    let (status, body) = call(
        &app,
        Method::DELETE,
        &format!("/api/catalog/tracks/{song_1}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unmatched_items"], 1, "{body}");
    let item = matches(&app, &key, id, "?status=unmatched").await["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["isrc"] == "AAAAA1234567")
        .cloned()
        .unwrap();
    assert!(
        item["reason"].as_str().unwrap().contains("was deleted"),
        "{item}"
    );
    assert_eq!(summary(&app, &key).await, before, "the lines are untouched");

    // Another organisation sees none of it.
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    for path in [
        format!("/api/files/salesfiles/{id}/matches/"),
        format!("/api/catalog/tracks/{song_10}/"),
    ] {
        let (status, body) = call(&app, Method::GET, &path, &stranger, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/match/",
        &stranger,
        Some(json!({"files": [id]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/catalog/tracks/{song_10}/"),
        &stranger,
        Some(json!({"title": "Mine now"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, theirs) = call(&app, Method::GET, "/api/catalog/tracks/", &stranger, None).await;
    assert_eq!(theirs["count"], 0, "{theirs}");
}

#[actix_web::test]
async fn a_file_is_matched_to_the_catalog_and_says_why_on_sqlite() {
    a_file_is_matched_to_the_catalog_and_says_why(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn a_file_is_matched_to_the_catalog_and_says_why_on_postgres() {
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .start()
        .await;
    a_file_is_matched_to_the_catalog_and_says_why(app).await;
}

#[actix_web::test]
async fn tracks_are_checked_searched_and_changed() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("tess").await;
    let org = app.organisation(&key).await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/tracks/",
        &key,
        Some(
            json!({"title": "Song", "artist": "Ann", "isrc": "not-an-isrc", "upc": "602517646488"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["isrc"].is_array(), "{body}");
    // A body is an object, never a struct's fields in an array.
    for path in [
        "/api/catalog/tracks/".to_owned(),
        format!("/api/organisations/{org}/settings/"),
    ] {
        let method = if path.contains("settings") {
            Method::PATCH
        } else {
            Method::POST
        };
        let (status, body) = call(&app, method, &path, &key, Some(json!(["Song", "Ann"]))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body["errors"]["non_field_errors"].is_array(), "{body}");
    }
    // A UPC whose check digit is wrong is left out, saying so.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/tracks/",
        &key,
        Some(json!({"title": "Song", "artist": "Ann", "upc": "602517646488"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["release"].is_null(), "{body}");
    assert!(
        body["warnings"][0]
            .as_str()
            .unwrap()
            .contains("check digit"),
        "{body}"
    );
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/catalog/tracks/{}/", body["id"]),
        &key,
        Some(json!({"isrc": ""})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an empty ISRC is not one: {body}"
    );
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/tracks/",
        &key,
        Some(json!({"artist": "Ann"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["title"].is_array(), "{body}");

    let id = add_track(
        &app,
        &key,
        json!({"title": "Déjà Vu", "artist": "Beyoncé", "isrc": "USX123000001", "upc": "602517646483", "release_title": "B'Day"}),
    )
    .await;
    let (_, track) = call(
        &app,
        Method::GET,
        &format!("/api/catalog/tracks/{id}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(track["release"]["upc"], "602517646483", "{track}");
    assert_eq!(track["release"]["title"], "B'Day");
    assert_eq!(track["source"], "manual");
    for (query, count) in [
        ("?search=deja", 1),
        ("?search=BEYONCE", 1),
        ("?search=us-x12-30-00001", 1),
        ("?isrc=usx123000001", 1),
        ("?artist=beyonce", 1),
        ("?search=nothing", 0),
    ] {
        let (status, page) = call(
            &app,
            Method::GET,
            &format!("/api/catalog/tracks/{query}"),
            &key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(page["count"], count, "{query}: {page}");
    }
    let (status, changed) = call(
        &app,
        Method::PATCH,
        &format!("/api/catalog/tracks/{id}/"),
        &key,
        Some(json!({"version": "Live"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["version"], "Live");
    assert_eq!(changed["title"], "Déjà Vu", "fields not given are kept");
}

/// Creates a catalog import of `bytes`, uploads and processes them; the
/// import once it has ended (DONE or FAILED).
pub async fn import_catalog(
    app: &TestApp,
    key: &str,
    name: &str,
    filetype: &str,
    bytes: Vec<u8>,
    extra: Value,
) -> Value {
    let mut request = json!({"filename": name, "filetype": filetype, "filesize": bytes.len()});
    for (field, value) in extra.as_object().unwrap() {
        request[field] = value.clone();
    }
    let (status, created) = call(
        app,
        Method::POST,
        "/api/catalog/imports/",
        key,
        Some(request),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "UPLOADING");
    let id = created["id"].as_i64().unwrap();
    let put = app
        .client
        .put(created["presigned_url"].as_str().unwrap())
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let (status, started) = call(
        app,
        Method::POST,
        &format!("/api/catalog/imports/{id}/process/"),
        key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let path = format!("/api/catalog/imports/{id}/");
    crate::support::files::wait_until(std::time::Duration::from_secs(120), || async {
        let (_, import) = call(app, Method::GET, &path, key, None).await;
        ["DONE", "FAILED"]
            .contains(&import["status"].as_str().unwrap_or(""))
            .then_some(import)
    })
    .await
    .unwrap_or_else(|| panic!("catalog import {id} never ended"))
}

pub const CATALOG: &str = "\u{feff}Cat. No.;EAN;Album;Display Artist;Track Title;Mix;ISRC;Label\n\
    CAT-1;0602517646483;First Album;Artist 1;Song 1;;AA-AAA-12-34567;Acme\n\
    CAT-1;0602517646483;First Album;artist 2;SONG 10;;;Acme\n\
    CAT-2;602517646488;Second Album;Artist 3;Song 100;Live;XX;Acme\n\
    CAT-2;;Second Album;Artist 3;;;;Acme\n";

async fn a_catalog_file_is_imported_merged_and_replaced(app: TestApp) {
    let (app, key, _) = rates_for(app).await;
    let import = import_catalog(
        &app,
        &key,
        "catalog.csv",
        "CSV",
        CATALOG.as_bytes().to_vec(),
        json!({}),
    )
    .await;
    assert_eq!(import["status"], "DONE", "{import}");
    assert_eq!(
        (
            &import["created"],
            &import["updated"],
            &import["unchanged"],
            &import["removed"]
        ),
        (&json!(3), &json!(0), &json!(0), &json!(0)),
        "{import}"
    );
    // The bad ISRC and EAN of line 4 are left out of it, and line 5 has no title.
    assert_eq!(import["rejected_count"], 3, "{import}");
    let lines: Vec<i64> = import["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [4, 4, 5], "{import}");
    let (_, tracks) = call(
        &app,
        Method::GET,
        "/api/catalog/tracks/?search=song 1",
        &key,
        None,
    )
    .await;
    let song_1 = &tracks["results"][0];
    assert_eq!(song_1["isrc"], "AAAAA1234567", "{tracks}");
    assert_eq!(song_1["release"]["upc"], "0602517646483");
    assert_eq!(song_1["source"], "import");

    // The same file again changes nothing; a file with one track fewer,
    // in replace mode, removes the one it no longer has.
    let again = import_catalog(
        &app,
        &key,
        "catalog.csv",
        "CSV",
        CATALOG.as_bytes().to_vec(),
        json!({}),
    )
    .await;
    assert_eq!(
        (&again["created"], &again["unchanged"]),
        (&json!(0), &json!(3)),
        "{again}"
    );
    let fewer: String = CATALOG
        .lines()
        .filter(|l| !l.contains("Song 100"))
        .map(|l| format!("{l}\n"))
        .collect();
    let replaced = import_catalog(
        &app,
        &key,
        "catalog.csv",
        "CSV",
        fewer.into_bytes(),
        json!({"mode": "replace"}),
    )
    .await;
    assert_eq!(
        (&replaced["removed"], &replaced["unchanged"]),
        (&json!(1), &json!(2)),
        "{replaced}"
    );

    // Reports imported from now on are matched as they come.
    let id = submit(
        &app,
        &key,
        &sample("distributors/DistroKid_Test.tsv"),
        "TSV",
    )
    .await;
    let file = file_when(&app, &key, id, |f| matched_with(&f["status_cause"])).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    // Song 100 left the catalog: Song 10 by Artist 2 is only a suggestion.
    assert_eq!(
        file["status_cause"],
        "Matched 3 of 4 usage item(s); 1 for review, 0 unmatched."
    );
}

#[actix_web::test]
async fn a_catalog_file_is_imported_merged_and_replaced_on_sqlite() {
    a_catalog_file_is_imported_merged_and_replaced(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn a_catalog_file_is_imported_merged_and_replaced_on_postgres() {
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .start()
        .await;
    a_catalog_file_is_imported_merged_and_replaced(app).await;
}

#[actix_web::test]
async fn a_spreadsheet_catalog_reads_with_the_organisations_own_columns() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("xena").await;
    app.organisation(&key).await;
    let bytes = std::fs::read(sample("distributors/Cargo_Physical_Test.xlsx")).unwrap();
    let columns = json!({"columns": {"track_title": "Title / More info", "artist": "Artist / Invoice Ref",
                                     "catalog_number": "Catalogue No.", "upc": "UPC on report"}});
    let import = import_catalog(&app, &key, "cargo.xlsx", "XLSX", bytes, columns).await;
    assert_eq!(import["status"], "DONE", "{import}");
    assert!(import["created"].as_i64().unwrap() > 0, "{import}");
    let (_, tracks) = call(
        &app,
        Method::GET,
        "/api/catalog/tracks/?search=album 1",
        &key,
        None,
    )
    .await;
    assert_eq!(tracks["results"][0]["artist"], "ARTIST 1", "{tracks}");
}

#[actix_web::test]
async fn a_catalog_that_cannot_be_read_fails_saying_why() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("yann").await;
    app.organisation(&key).await;
    for (name, bytes, says) in [
        (
            "labels.csv",
            b"Artist,Label\nAnn,Acme\n".to_vec(),
            "neither an ISRC nor a title column",
        ),
        ("empty.csv", b"ISRC,Title\n".to_vec(), "no data lines"),
        (
            "gubbins.txt",
            std::fs::read(sample("distributors/gubbins.txt")).unwrap(),
            "cannot be read as a table",
        ),
    ] {
        let filetype = if name.ends_with(".txt") { "TXT" } else { "CSV" };
        let import = import_catalog(&app, &key, name, filetype, bytes, json!({})).await;
        assert_eq!(import["status"], "FAILED", "{name}: {import}");
        let cause = import["status_cause"].as_str().unwrap();
        assert!(cause.contains(says), "{name}: {cause}");
        assert!(!cause.contains("sales report"), "{name}: {cause}");
    }
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/imports/",
        &key,
        Some(json!({"filename": "c.zip", "filetype": "ZIP", "filesize": 10, "columns": {"colour": "x"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"]["filetype"].is_array() || body["errors"]["columns.colour"].is_array(),
        "{body}"
    );
}
