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
    let mut skipped = 0;
    let mut archive_reader = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    for child in children {
        let child_id = child["id"].as_i64().unwrap();
        let name = child["filename"].as_str().unwrap().to_owned();
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
            // Statements and reference tables of the bundle: not sales
            // reports, skipped at the stage they reached, not failed.
            let file = file_when(&app, &key, child_id, |f| {
                f["status_cause"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Skipped: "))
            })
            .await;
            assert!(
                ["UPLOADED", "CLEANED"].contains(&file["status"].as_str().unwrap()),
                "{name}: {file}"
            );
            skipped += 1;
        }
    }
    assert_eq!(skipped, 7);
    let archive = file_when(&app, &key, id, |f| {
        f["status_cause"]
            .as_str()
            .is_some_and(|c| !c.contains("not done yet"))
    })
    .await;
    let cause = archive["status_cause"].as_str().unwrap();
    assert!(
        cause.starts_with(
            "The archive was expanded into 8 file(s): 1 imported, 7 skipped as not sales reports, 0 failed. Skipped: "
        ),
        "{cause}"
    );
    assert!(cause.contains("Cargo_Digital_Test-labels.csv"), "{cause}");
    let (_, failed) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?status=FAILED",
        &key,
        None,
    )
    .await;
    assert_eq!(failed["count"], 0, "{failed}");

    // Deleting the archive says which files go with it.
    let (status, deleted) = call(
        &app,
        Method::DELETE,
        &format!("/api/files/salesfiles/{id}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    let deleted = deleted["deleted"].as_array().unwrap();
    assert_eq!(deleted.len(), 9);
    assert_eq!(deleted[0]["id"], id);
    let (_, left) = call(&app, Method::GET, "/api/files/salesfiles/", &key, None).await;
    assert_eq!(left["count"], 0, "{left}");
}
