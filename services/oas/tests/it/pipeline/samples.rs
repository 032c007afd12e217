//! Every sample report, imported with its exact total or refused with a clear
//! cause, with snapshots in the database and in MongoDB; a trailing summary block.

use super::*;

#[actix_web::test]
async fn every_sample_imports_with_exact_totals_or_fails_with_a_clear_cause() {
    let (app, key, _) = app_with_rates().await;
    import_every_sample(&app, &key).await;
}

/// The same, with snapshots kept in MongoDB: the importer writes them there
/// and the snapshot and summary routes read them back.
#[actix_web::test]
async fn every_sample_imports_with_its_snapshot_in_mongodb() {
    let Some(uri) = crate::support::stand_in("OAS_TEST_MONGODB_URI") else {
        return;
    };
    let mut url = url::Url::parse(&uri).unwrap();
    url.set_path(&format!("/oas_pipeline_{}", uuid::Uuid::new_v4().simple()));
    let app = TestApp::builder()
        .var("OAS_SNAPSHOTS_URL", url.as_str())
        .start()
        .await;
    let (app, key, _) = rates_for(app).await;
    import_every_sample(&app, &key).await;
    // The organisation's summary adds the imported files up.
    let summary = summary(&app, &key).await;
    assert_eq!(
        summary["files"].as_i64(),
        Some(imported_samples() as i64),
        "{summary}"
    );
}

/// How many of the samples import.
fn imported_samples() -> usize {
    CASES
        .iter()
        .filter(|(_, _, e)| !matches!(e, Expect::Refused(_)))
        .count()
}

async fn import_every_sample(app: &TestApp, key: &str) {
    for (path, filetype, expect) in CASES {
        let full = sample(path);
        let id = submit(app, key, &full, filetype).await;
        match expect {
            Expect::Imported(column, currency) => {
                let (total, lines) = source_total(&full, column);
                check_imported(app, key, id, total, lines, currency).await;
            }
            Expect::Dsr => {
                let (total, lines) = dsr_total(&full);
                check_imported(app, key, id, total, lines, "USD").await;
            }
            Expect::Refused(cause) => {
                let file = settled(app, key, id).await;
                assert_eq!(file["status"], "FAILED", "{path}: {file}");
                let said = file["status_cause"].as_str().unwrap();
                assert!(said.contains(cause), "{path}: {said}");
            }
        }
    }
}

#[actix_web::test]
async fn a_summary_block_after_the_table_is_left_out_and_said_so() {
    let (app, key, _) = app_with_rates().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("standard.csv");
    // Clean UTF-8, read as uploaded; the summary after the blank line has
    // another shape, and its total must not be counted twice.
    std::fs::write(
        &report,
        "dsp,territory,artist,track_title,quantity,net_revenue,currency\n\
         Spotify,DE,Ann,Song,2,0.50,USD\n\
         Deezer,FR,Bob,Tune,1,0.25,USD\n\
         \n\
         Total,0.75\n\
         Lines,2\n",
    )
    .unwrap();
    let id = submit(&app, &key, &report, "CSV").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(file["total_rows"], 2);
    assert_eq!(file["total_local"], "0.75");
    let cause = file["status_cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("2 line(s) after the table") && cause.contains("left out"),
        "{file}"
    );
}

#[actix_web::test]
async fn a_fault_in_a_rewritten_upload_is_reported_at_its_own_line() {
    let (app, key, _) = app_with_rates().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("standard.csv");
    // Windows-1252 (é is one byte), so cleaning rewrites it; a preamble line
    // and a blank line come before the bad amount on line 6 of the upload.
    std::fs::write(
        &report,
        b"Report,2024-01\n\
          dsp,territory,artist,track_title,quantity,net_revenue,currency\n\
          Spotify,DE,Ren\xe9,Song,1,0.5,USD\n\
          \n\
          Deezer,FR,Bob,Tune,1,0.25,USD\n\
          Deezer,FR,Bob,Tune,1,abc,USD\n",
    )
    .unwrap();
    let id = submit(&app, &key, &report, "CSV").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED", "{file}");
    let cause = file["status_cause"].as_str().unwrap_or_default();
    assert!(cause.starts_with("Line 6: "), "{file}");
    assert!(cause.contains("\"abc\" is not a number"), "{file}");
}
