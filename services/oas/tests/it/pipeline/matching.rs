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
    app.organisation(&key).await;
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
    assert!(body["errors"]["upc"].is_array(), "{body}");
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
