//! A ZIP becomes one file per member; only sales lines are imported.

use super::*;

#[actix_web::test]
async fn an_archive_becomes_one_file_per_member_and_only_sales_lines_are_imported() {
    let (app, key, _) = app_with_rates().await;
    let zip_path = sample("distributors/Cargo_Digital_Test.zip");
    let id = submit(&app, &key, &zip_path, "ZIP").await;
    let archive = settled(&app, &key, id).await;
    assert_eq!(archive["status"], "FINALIZED", "{archive}");
    let cause = archive["status_cause"].as_str().unwrap();
    assert!(cause.contains("expanded into 8 file(s)"), "{cause}");

    let (_, page) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?page_size=50",
        &key,
        None,
    )
    .await;
    let children: Vec<Value> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["parent"].as_i64() == Some(id))
        .cloned()
        .collect();
    assert_eq!(children.len(), 8);
    let mut archive_reader = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    for child in children {
        let child_id = child["id"].as_i64().unwrap();
        let name = child["filename"].as_str().unwrap().to_owned();
        let file = settled(&app, &key, child_id).await;
        if name.ends_with("royalty_extended.csv") {
            let dir = tempfile::tempdir().unwrap();
            let member = dir.path().join(&name);
            let mut bytes = Vec::new();
            archive_reader
                .by_name(&name)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            std::fs::write(&member, bytes).unwrap();
            let (total, lines) = source_total(&member, "Reported Royalty");
            check_imported(&app, &key, child_id, total, lines, "GBP").await;
        } else {
            assert_eq!(file["status"], "FAILED", "{name}: {file}");
            let cause = file["status_cause"].as_str().unwrap();
            assert!(
                [
                    "matches no known report format",
                    "no data lines",
                    "not a sales report"
                ]
                .iter()
                .any(|c| cause.contains(c)),
                "{name}: {cause}"
            );
        }
    }
}
