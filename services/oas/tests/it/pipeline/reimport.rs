//! Reimports replace, never add; the same bytes twice are noticed; bytes put
//! again after cleaning are not imported under the old cleaning.

use super::*;

#[actix_web::test]
async fn reimport_replaces_and_the_same_bytes_twice_are_noticed() {
    let (app, key, org) = app_with_rates().await;
    let spotify = sample("spotify/Spotify_streaming_via_finetunes_201710_example.txt");
    let (total, lines) = source_total(&spotify, "USD Payable");
    let first = submit(&app, &key, &spotify, "TXT").await;
    check_imported(&app, &key, first, total, lines, "USD").await;
    let once = summary(&app, &key).await;
    assert_eq!(once["files"], 1);
    assert_eq!(
        Amount::parse(once["total_gross"].as_str().unwrap()).unwrap(),
        total
    );
    let parquet = |id: i64| {
        let oas_platform::storage::StorageUrl::Local(root) = &app.state.settings.storage_url else {
            panic!("local storage expected")
        };
        walk(root)
            .into_iter()
            .filter(|p| {
                p.to_string_lossy()
                    .ends_with(&format!("/file-{id}.parquet"))
            })
            .collect::<Vec<_>>()
    };
    let stored = parquet(first);
    assert_eq!(stored.len(), 1, "the lines are stored once: {stored:?}");
    assert!(
        stored[0]
            .to_string_lossy()
            .contains(&format!("org-{org}/lines/2017-10/"))
    );

    let (status, body) = process(&app, &key, first, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    check_imported(&app, &key, first, total, lines, "USD").await;
    assert_eq!(
        summary(&app, &key).await,
        once,
        "reimport never doubles revenue"
    );
    assert_eq!(parquet(first).len(), 1);

    // The same bytes again: noticed, and imported only when asked.
    let second = submit(&app, &key, &spotify, "TXT").await;
    let file = settled(&app, &key, second).await;
    assert_eq!(file["status"], "FAILED");
    let cause = file["status_cause"].as_str().unwrap();
    assert!(
        cause.contains(&format!("already imported as file {first}")),
        "{cause}"
    );
    assert!(cause.contains("reimport"), "{cause}");
    assert_eq!(summary(&app, &key).await["files"], 1);
    let (status, _) = process(&app, &key, second, "reimport").await;
    assert_eq!(status, StatusCode::OK);
    check_imported(&app, &key, second, total, lines, "USD").await;
    assert_eq!(summary(&app, &key).await["files"], 2);

    // Deleting a file takes its lines and snapshot with it.
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/files/salesfiles/{second}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(parquet(second).is_empty());
    assert_eq!(summary(&app, &key).await, once);
}

#[actix_web::test]
async fn bytes_put_again_after_cleaning_are_not_imported_under_the_old_cleaning() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("vera").await;
    app.organisation(&key).await;
    // Cleaned, then failed at import (no GBP rate): the file may be uploaded again.
    // Declared in bits, as the seed counts: room for each report put below.
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/files/salesfiles/",
        &key,
        Some(
            json!({"filename": "tunecore.csv", "filetype": "CSV", "filesize": 8_000_000,
                    "mongo_db_id": "tunecore.csv"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let tunecore = std::fs::read(sample("distributors/Tunecore_Test.csv")).unwrap();
    upload_and_clean(&app, &key, id, tunecore).await;
    assert_eq!(settled(&app, &key, id).await["status"], "FAILED");
    let put_again =
        |name: &'static str| upload_and_clean(&app, &key, id, std::fs::read(sample(name)).unwrap());
    // New bytes that cleaning refuses: the file fails, and the last good
    // cleaning is of bytes no longer there: it no longer stands.
    put_again("distributors/gubbins.txt").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED");
    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["detail"],
        "Cannot reimport a file whose status is FAILED. It failed before it was cleaned: process it with the action \"clean\" to clean it again, or \"upload\" to replace its bytes."
    );
    assert_eq!(
        settled(&app, &key, id).await,
        file,
        "a refusal changes nothing"
    );
    // Cleaned again, new bytes import as themselves; bytes put again
    // through the same presigned URL after that cleaning are never
    // imported under it: a reimport takes the bytes that were cleaned.
    let (status, upload) = process(&app, &key, id, "upload").await;
    assert_eq!(status, StatusCode::OK, "{upload}");
    let url = upload["presigned_url"].as_str().unwrap();
    let put = |name: &'static str| {
        app.client
            .put(url)
            .body(std::fs::read(sample(name)).unwrap())
            .send()
    };
    assert_eq!(
        put("distributors/DistroKid_Test.tsv")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let (status, body) = process(&app, &key, id, "clean").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(file["total_rows"], 4);
    assert_eq!(
        put("distributors/gubbins.txt").await.unwrap().status(),
        StatusCode::OK
    );
    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(file["total_rows"], 4);
}
