//! The catalog as a whole over HTTP: generated from a report imported
//! before there was one, a correction remembered as a rule, previewed and
//! applied to the past file, the usage left waiting listed by revenue, an
//! audit whose findings file reads back; releases and artists of an
//! imported catalog; another organisation sees none of it.

use std::io::Read;

use super::*;
use crate::support::files::wait_until;

/// Waits for a module run to end; its record.
async fn job_ended(app: &TestApp, key: &str, job: &str) -> Value {
    let path = format!("/api/jobs/{job}/");
    wait_until(std::time::Duration::from_secs(120), || async {
        let (_, job) = call(app, Method::GET, &path, key, None).await;
        ["succeeded", "failed", "timed_out"]
            .contains(&job["status"].as_str().unwrap_or(""))
            .then_some(job)
    })
    .await
    .unwrap_or_else(|| panic!("run {job} never ended"))
}

async fn generate(app: &TestApp, key: &str, body: Value) -> Value {
    let (status, started) =
        call(app, Method::POST, "/api/catalog/generate/", key, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let job = job_ended(app, key, started["job"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    job["output"].clone()
}

async fn get(app: &TestApp, key: &str, path: &str) -> Value {
    let (status, body) = call(app, Method::GET, path, key, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

fn matched_with(cause: &Value, words: &str) -> bool {
    cause.as_str().is_some_and(|c| c.contains(words))
}

async fn the_catalog_is_generated_corrected_and_audited(app: TestApp) {
    let (app, key, _) = rates_for(app).await;
    let id = submit(
        &app,
        &key,
        &sample("distributors/DistroKid_Test.tsv"),
        "TSV",
    )
    .await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");

    // Generated from the report: one track per ISRC, its artists with them.
    let output = generate(&app, &key, json!({})).await;
    assert_eq!(
        (
            &output["files"],
            &output["recordings"],
            &output["created"],
            &output["unchanged"]
        ),
        (&json!(1), &json!(4), &json!(4), &json!(0)),
        "{output}"
    );
    let tracks = get(&app, &key, "/api/catalog/tracks/").await;
    assert_eq!(tracks["count"], 4, "{tracks}");
    assert!(
        tracks["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["source"] == "usage"),
        "{tracks}"
    );
    let artists = get(&app, &key, "/api/catalog/artists/?search=artist%202").await;
    assert_eq!(artists["count"], 1, "{artists}");
    assert_eq!(
        (
            &artists["results"][0]["name"],
            &artists["results"][0]["tracks"]
        ),
        (&json!("Artist 2"), &json!(2))
    );
    // A second generation finds every recording in the catalog already.
    let output = generate(
        &app,
        &key,
        json!({"period_from": "2021-01", "period_to": "2022-12"}),
    )
    .await;
    assert_eq!(
        (&output["created"], &output["unchanged"]),
        (&json!(0), &json!(4)),
        "{output}"
    );
    // A period no file covers has nothing to read.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/generate/",
        &key,
        Some(json!({"period_from": "2030-01"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    for bad in [
        json!({"period_from": "2022-13"}),
        json!({"period_from": "2022-05", "period_to": "2022-01"}),
    ] {
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/catalog/generate/",
            &key,
            Some(bad),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }

    // Matched again, every item finds its track.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/match/",
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    file_when(&app, &key, id, |f| {
        matched_with(&f["status_cause"], "Matched 4 of 4 usage item(s)")
    })
    .await;

    // The label says Song 100 is not theirs: never match it.
    let items = get(&app, &key, &format!("/api/files/salesfiles/{id}/matches/")).await;
    let song_100 = items["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["isrc"] == "CCCCC1234567")
        .cloned()
        .unwrap();
    let (status, rule) = call(
        &app,
        Method::POST,
        "/api/catalog/rules/",
        &key,
        Some(json!({"item_id": song_100["id"], "track": null})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(
        (
            &rule["item"]["track_title"],
            &rule["item"]["isrc"],
            &rule["track"],
            &rule["scope"]
        ),
        (
            &json!("Song 100"),
            &json!("CCCCC1234567"),
            &Value::Null,
            &json!("organisation")
        ),
        "{rule}"
    );
    let rule_id = rule["id"].as_i64().unwrap();
    let apply = format!("/api/catalog/rules/{rule_id}/apply/");
    let (status, preview) = call(
        &app,
        Method::POST,
        &apply,
        &key,
        Some(json!({"preview": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview,
        json!({"files": 1, "lines": song_100["lines"], "revenue": song_100["revenue"]})
    );
    let unchanged = get(
        &app,
        &key,
        &format!("/api/files/salesfiles/{id}/matches/?status=unmatched"),
    )
    .await;
    assert_eq!(
        unchanged["count"], 0,
        "a preview changes nothing: {unchanged}"
    );
    let (status, applied) = call(&app, Method::POST, &apply, &key, Some(json!({}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{applied}");
    assert_eq!(applied["started"][0]["file"], id, "{applied}");
    file_when(&app, &key, id, |f| {
        matched_with(
            &f["status_cause"],
            "Matched 3 of 4 usage item(s); 0 for review, 1 unmatched",
        )
    })
    .await;
    // The next import of the file applies the rule by itself.
    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = file_when(&app, &key, id, |f| {
        f["status"] == "FINALIZED"
            && f["response_module"] == "SUCCEEDED"
            && f["module_response"] == "catalogue-matching"
    })
    .await;
    assert!(
        matched_with(
            &file["status_cause"],
            "Matched 3 of 4 usage item(s); 0 for review, 1 unmatched"
        ),
        "{file}"
    );
    let (_, again) = call(
        &app,
        Method::POST,
        &apply,
        &key,
        Some(json!({"preview": true})),
    )
    .await;
    assert_eq!(
        (&again["files"], &again["revenue"]),
        (&json!(0), &json!("0")),
        "{again}"
    );
    let unmatched = get(
        &app,
        &key,
        &format!("/api/files/salesfiles/{id}/matches/?status=unmatched"),
    )
    .await;
    let item = &unmatched["results"][0];
    assert_eq!(item["match_type"], "rule", "{item}");
    assert!(
        item["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("Rule {rule_id}")),
        "{item}"
    );

    // The same correction twice, or half a request, is refused.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/rules/",
        &key,
        Some(json!({"item": {"artist": "Artist 3", "track_title": "Song 100", "isrc": "CCCCC1234567"}, "track": null})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    for (bad, expected) in [
        (
            json!({"item": {"artist": "A", "track_title": "B"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"item": {"artist": "A", "track_title": "B"}, "item_id": song_100["id"], "track": null}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"item": {"artist": "A", "track_title": "B", "isrc": "nope"}, "track": null}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"item": {"artist": "A", "track_title": "B"}, "track": null, "scope": "source"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"item": {"artist": "A", "track_title": "B"}, "track": 999_999}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"item_id": 999_999, "track": null}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/catalog/rules/",
            &key,
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, expected, "{bad}: {body}");
        assert!(
            body["detail"].is_string() || body["errors"].is_object(),
            "{body}"
        );
    }
    // Another organisation's track is not found from here.
    let (_, other) = app.user_with_key("other").await;
    app.organisation(&other).await;
    let (status, theirs) = call(
        &app,
        Method::POST,
        "/api/catalog/tracks/",
        &other,
        Some(json!({"title": "Theirs", "artist": "Them"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    // A blank title or artist is refused, on a new track and on a change
    // (never read as "keep"); the track is as it was.
    let track = format!("/api/catalog/tracks/{}/", theirs["id"]);
    for (method, path, bad, field) in [
        (
            Method::POST,
            "/api/catalog/tracks/",
            json!({"title": "0", "artist": "\n"}),
            "artist",
        ),
        (
            Method::PATCH,
            track.as_str(),
            json!({"artist": " \t"}),
            "artist",
        ),
        (
            Method::PATCH,
            track.as_str(),
            json!({"title": "  ", "artist": "New"}),
            "title",
        ),
    ] {
        let (status, body) = call(&app, method, path, &other, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(
            body["errors"][field],
            json!(["This field may not be blank."]),
            "{body}"
        );
    }
    let kept = get(&app, &other, &track).await;
    assert_eq!(
        (&kept["title"], &kept["artist"]),
        (&json!("Theirs"), &json!("Them")),
        "{kept}"
    );
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/rules/",
        &key,
        Some(json!({"item": {"artist": "Artist 3", "track_title": "Song 100"}, "track": theirs["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let rules = get(&app, &key, "/api/catalog/rules/").await;
    assert_eq!(rules["count"], 1, "{rules}");

    // A track deleted leaves its item waiting; the item a rule decided
    // is not listed.
    let gone = get(&app, &key, "/api/catalog/tracks/?isrc=BBBBB8910111").await;
    let (status, body) = call(
        &app,
        Method::DELETE,
        &format!("/api/catalog/tracks/{}/", gone["results"][0]["id"]),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let song_10 = items["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["isrc"] == "BBBBB8910111")
        .cloned()
        .unwrap();
    // Items are stored again at each match: the current one's id.
    let now_unmatched = get(
        &app,
        &key,
        &format!("/api/files/salesfiles/{id}/matches/?status=unmatched"),
    )
    .await;
    let song_10_now = now_unmatched["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["isrc"] == "BBBBB8910111")
        .cloned()
        .unwrap();
    let waiting = get(&app, &key, "/api/catalog/unmatched/").await;
    assert_eq!(waiting["count"], 1, "{waiting}");
    let first = &waiting["results"][0];
    assert_eq!(
        (
            &first["track_title"],
            &first["isrc"],
            &first["status"],
            &first["files"],
            &first["revenue"],
            &first["item_id"]
        ),
        (
            &json!("Song 10"),
            &json!("BBBBB8910111"),
            &json!("unmatched"),
            &json!(1),
            &song_10["revenue"],
            &song_10_now["id"]
        ),
        "{first}"
    );
    assert_eq!(
        get(&app, &key, "/api/catalog/unmatched/?period=2022-06").await["count"],
        1
    );
    assert_eq!(
        get(&app, &key, "/api/catalog/unmatched/?period=2099-01").await["count"],
        0
    );
    let (status, body) = call(
        &app,
        Method::GET,
        "/api/catalog/unmatched/?period=2022-13",
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The audit: what is at stake, and a findings file that reads back.
    let (status, audit) = call(
        &app,
        Method::POST,
        "/api/catalog/audit/",
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{audit}");
    assert_eq!(audit["status"], "PROCESSING", "{audit}");
    let audit_path = format!("/api/catalog/audits/{}/", audit["id"]);
    let audit = wait_until(std::time::Duration::from_secs(120), || async {
        let audit = get(&app, &key, &audit_path).await;
        (audit["status"] != "PROCESSING").then_some(audit)
    })
    .await
    .expect("the audit never ended");
    assert_eq!(audit["status"], "DONE", "{audit}");
    assert_eq!(audit["revenue_at_stake"], song_10["revenue"], "{audit}");
    let counts = &audit["counts"];
    assert_eq!(
        (
            &counts["unmatched_usage"],
            &counts["track_without_usage"],
            &counts["track_without_release"],
            &counts["duplicate_isrc"],
            &counts["invalid_identifier"],
        ),
        // The report's UPCs (111111111111, …) fail their check digit.
        (&json!(1), &json!(1), &json!(3), &json!(0), &json!(3)),
        "{audit}"
    );
    let url = audit["download_url"].as_str().expect("a download link");
    let expires: chrono::DateTime<chrono::Utc> =
        audit["expires_at"].as_str().unwrap().parse().unwrap();
    let hours = (expires - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "{expires}");
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let gz = response.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len() as u64,
        audit["findings"].as_u64().unwrap(),
        "{text}"
    );
    assert_eq!(
        (&rows[0][0], &rows[0][7]),
        ("unmatched_usage", "Song 10"),
        "{text}"
    );
    assert_eq!(&rows[0][10], song_10["revenue"].as_str().unwrap(), "{text}");
    let unplayed = rows
        .iter()
        .find(|r| &r[0] == "track_without_usage")
        .unwrap();
    assert_eq!(&unplayed[7], "Song 100", "{text}");

    // Another organisation sees none of it.
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    for path in [
        audit_path.clone(),
        "/api/catalog/rules/".into(),
        "/api/catalog/unmatched/".into(),
        "/api/catalog/artists/".into(),
    ] {
        let (status, body) = call(&app, Method::GET, &path, &stranger, None).await;
        if path == audit_path {
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        } else {
            assert_eq!(
                (status, &body["count"]),
                (StatusCode::OK, &json!(0)),
                "{path}: {body}"
            );
        }
    }
    let (status, body) = call(
        &app,
        Method::POST,
        &apply,
        &stranger,
        Some(json!({"preview": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        &app,
        Method::DELETE,
        &format!("/api/catalog/rules/{rule_id}/"),
        &stranger,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/generate/",
        &stranger,
        Some(json!({"files": [id]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Forgotten: the past match stays until the file is matched again.
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/catalog/rules/{rule_id}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/catalog/rules/{rule_id}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &key, "/api/catalog/unmatched/").await["count"], 1);
}

#[actix_web::test]
async fn the_catalog_is_generated_corrected_and_audited_on_sqlite() {
    the_catalog_is_generated_corrected_and_audited(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn the_catalog_is_generated_corrected_and_audited_on_postgres() {
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .start()
        .await;
    the_catalog_is_generated_corrected_and_audited(app).await;
}

#[actix_web::test]
async fn releases_and_artists_read_an_imported_catalog() {
    let (app, key, _) = app_with_rates().await;
    let import = super::matching::import_catalog(
        &app,
        &key,
        "catalog.csv",
        "CSV",
        super::matching::CATALOG.as_bytes().to_vec(),
        json!({}),
    )
    .await;
    assert_eq!(import["status"], "DONE", "{import}");
    let releases = get(&app, &key, "/api/catalog/releases/").await;
    assert_eq!(releases["count"], 2, "{releases}");
    let first = &releases["results"][0];
    assert_eq!(
        (
            &first["title"],
            &first["upc"],
            &first["catalog_number"],
            &first["label"],
            &first["tracks"],
            &first["source"]
        ),
        (
            &json!("First Album"),
            &json!("0602517646483"),
            &json!("CAT-1"),
            &json!("Acme"),
            &json!(2),
            &json!("import")
        ),
        "{first}"
    );
    // A UPC finds the release its EAN names; words and labels too.
    for query in [
        "?upc=602517646483",
        "?search=first",
        "?search=CAT-1",
        "?label=ACME&search=first%20album",
    ] {
        let found = get(&app, &key, &format!("/api/catalog/releases/{query}")).await;
        assert_eq!(found["count"], 1, "{query}: {found}");
        assert_eq!(found["results"][0]["id"], first["id"], "{query}");
    }
    assert_eq!(
        get(&app, &key, "/api/catalog/releases/?label=acme").await["count"],
        2
    );
    let (status, body) = call(
        &app,
        Method::GET,
        "/api/catalog/releases/?upc=602517646484",
        &key,
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a wrong check digit: {body}"
    );
    let release = get(
        &app,
        &key,
        &format!("/api/catalog/releases/{}/", first["id"]),
    )
    .await;
    let titles: Vec<&str> = release["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Song 1", "SONG 10"], "{release}");
    let artists = get(&app, &key, "/api/catalog/artists/").await;
    let counts: Vec<(String, i64, i64)> = artists["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["tracks"].as_i64().unwrap(),
                a["releases"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("Artist 1".to_owned(), 1, 1),
            ("artist 2".to_owned(), 1, 0),
            ("Artist 3".to_owned(), 1, 1),
        ],
        "{artists}"
    );
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    let (status, body) = call(
        &app,
        Method::GET,
        &format!("/api/catalog/releases/{}/", first["id"]),
        &stranger,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
