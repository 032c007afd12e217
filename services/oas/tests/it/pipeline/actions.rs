//! Every action against every status: a refused action changes nothing,
//! and a file that failed can always be taken on again.

use oas::workflows::files::moving_to;
use oas_db::sales_files::SalesFile;
use oas_domain::file::FileStatus;

use super::*;
use crate::support::files::submit_bytes;

const ACTIONS: [&str; 4] = ["upload", "clean", "import", "reimport"];

/// A new file, not yet given bytes.
async fn created(app: &TestApp, key: &str, name: &str) -> i64 {
    let (status, file) = call(
        app,
        Method::POST,
        "/api/files/salesfiles/",
        key,
        Some(json!({"filename": name, "filetype": "CSV", "filesize": 10, "mongo_db_id": name})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    file["id"].as_i64().unwrap()
}

/// The file as the API shows it and as the database holds it.
async fn record(app: &TestApp, key: &str, id: i64) -> (Value, String) {
    let (_, shown) = call(
        app,
        Method::GET,
        &format!("/api/files/salesfiles/{id}/"),
        key,
        None,
    )
    .await;
    let stored = app
        .state
        .db
        .run(move |conn| SalesFile::find(conn, id))
        .await
        .unwrap();
    (shown, format!("{stored:?}"))
}

/// Puts a settled file into `status` as a module run would have.
async fn force(app: &TestApp, id: i64, from: &str, to: FileStatus) {
    let from = from.to_owned();
    let moved = app
        .state
        .db
        .run(move |conn| SalesFile::transition(conn, id, &from, &moving_to(to)))
        .await
        .unwrap();
    assert!(moved);
}

#[actix_web::test]
async fn a_refused_action_leaves_the_file_byte_for_byte_as_it_was() {
    let (app, key, _) = app_with_rates().await;
    let tunecore = || std::fs::read(sample("distributors/Tunecore_Test.csv")).unwrap();

    // Files that reached each status for real, and copies of a finalized
    // file put into the statuses a running module holds.
    let initialized = created(&app, &key, "new.csv").await;
    let uploading = created(&app, &key, "waiting.csv").await;
    assert_eq!(
        process(&app, &key, uploading, "upload").await.0,
        StatusCode::OK
    );
    let finalized = submit_bytes(&app, &key, "tunecore.csv", "CSV", tunecore()).await;
    let archive = submit(
        &app,
        &key,
        &sample("distributors/Cargo_Digital_Test.zip"),
        "ZIP",
    )
    .await;
    let failed_at_cleaning = submit(&app, &key, &sample("distributors/gubbins.txt"), "TXT").await;
    let [first_part, _] = super::dsr_messages::dsr_message("MSG-A", [&[1], &[2]]);
    let cleaned = submit_bytes(
        &app,
        &key,
        "DSR_TEST_YouTube_AdSupport_2015-Q4_IS_1of2.tsv",
        "TSV",
        first_part.into_bytes(),
    )
    .await;
    let mut busy = Vec::new();
    for status in [
        FileStatus::Uploaded,
        FileStatus::Cleaning,
        FileStatus::Processing,
        FileStatus::Processed,
        FileStatus::Reimport,
    ] {
        let id = submit_bytes(&app, &key, "copy.csv", "CSV", tunecore()).await;
        settled(&app, &key, id).await;
        busy.push((id, status));
    }
    for id in [finalized, archive, failed_at_cleaning] {
        settled(&app, &key, id).await;
    }
    file_when(&app, &key, cleaned, |f| f["status"] == "CLEANED").await;
    for (id, status) in &busy {
        let from = record(&app, &key, *id).await.0["status"]
            .as_str()
            .unwrap()
            .to_owned();
        force(&app, *id, &from, *status).await;
    }

    // A second organisation without rates: its import fails.
    let (_, other_key) = app.user_with_key("olga").await;
    app.organisation(&other_key).await;
    let failed_at_import = submit_bytes(&app, &other_key, "tunecore.csv", "CSV", tunecore()).await;
    let failed = settled(&app, &other_key, failed_at_import).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");

    let mut cases: Vec<(&str, &str, i64, Vec<&str>)> = vec![
        (
            "INITIALIZED",
            "new",
            initialized,
            vec!["clean", "import", "reimport"],
        ),
        (
            "UPLOADING",
            "no bytes yet",
            uploading,
            vec!["clean", "import", "reimport"],
        ),
        (
            "FINALIZED",
            "imported",
            finalized,
            vec!["upload", "clean", "import"],
        ),
        ("FINALIZED", "an archive", archive, ACTIONS.to_vec()),
        (
            "FAILED",
            "at cleaning",
            failed_at_cleaning,
            vec!["import", "reimport"],
        ),
        (
            "CLEANED",
            "waiting for its message",
            cleaned,
            ACTIONS.to_vec(),
        ),
    ];
    for (id, status) in &busy {
        let refused = match status {
            FileStatus::Uploaded => vec!["import", "reimport"],
            FileStatus::Processed => vec!["upload", "clean", "import"],
            _ => ACTIONS.to_vec(),
        };
        cases.push((status.as_str(), "forced", *id, refused));
    }
    let mut refusals = 0;
    for (status, what, id, refused) in cases {
        for action in refused {
            let before = record(&app, &key, id).await;
            assert_eq!(before.0["status"], status, "{what}: {}", before.0);
            let (answer, body) = process(&app, &key, id, action).await;
            assert_eq!(
                answer,
                StatusCode::CONFLICT,
                "{action} of {status} ({what}): {body}"
            );
            let detail = body["detail"].as_str().unwrap();
            assert!(
                detail.starts_with(&format!("Cannot {action} a file whose status is {status}."))
                    || detail.contains("DDEX DSR message"),
                "{detail}"
            );
            assert_eq!(
                record(&app, &key, id).await,
                before,
                "{action} of {status} ({what}) was refused, yet changed the file"
            );
            refusals += 1;
        }
    }
    let before = record(&app, &other_key, failed_at_import).await;
    let (answer, body) = process(&app, &other_key, failed_at_import, "import").await;
    assert_eq!(answer, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("\"reimport\""),
        "{body}"
    );
    assert_eq!(record(&app, &other_key, failed_at_import).await, before);
    assert_eq!(refusals, 36);
}

#[actix_web::test]
async fn a_file_that_failed_at_cleaning_is_cleaned_again_or_given_new_bytes() {
    let (app, key, _) = app_with_rates().await;
    let id = submit(&app, &key, &sample("distributors/gubbins.txt"), "TXT").await;
    let failed = settled(&app, &key, id).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let cause = failed["status_cause"].as_str().unwrap().to_owned();

    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("process it with the action \"clean\""),
        "{body}"
    );
    // Cleaned again: the same bytes fail for the same reason.
    let (status, body) = process(&app, &key, id, "clean").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let again = file_when(&app, &key, id, |f| {
        f["status"] == "FAILED" && f["updated_at"] != failed["updated_at"]
    })
    .await;
    assert_eq!(again["status_cause"], cause.as_str());

    // New bytes: the file goes all the way.
    let path = sample("distributors/Tunecore_Test.csv");
    upload_and_clean(&app, &key, id, std::fs::read(&path).unwrap()).await;
    let (total, lines) = source_total(&path, "Total Earned");
    check_imported(&app, &key, id, total, lines, "GBP").await;
}
