//! The same report twice is one report, whatever its bytes: a copy is
//! recognised by its lines, names the file it repeats, counts nowhere,
//! and is imported only on purpose.

use std::io::Write;

use super::*;
use crate::support::files::submit_bytes;

/// `text` as UTF-16, little-endian, with its byte-order mark.
fn utf16(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[actix_web::test]
async fn a_report_saved_with_a_bom_gzipped_or_as_utf16_counts_once() {
    let (app, key, _) = app_with_rates().await;
    let read = |name: &str| std::fs::read(sample(name)).unwrap();
    let distrokid = read("distributors/DistroKid_Test.tsv");
    let cdbaby = read("distributors/CdBaby_Test.txt");
    let tunecore = read("distributors/Tunecore_Test.csv");

    let mut originals = Vec::new();
    for (name, kind, bytes) in [
        ("DistroKid_Test.tsv", "TSV", distrokid.clone()),
        ("CdBaby_Test.txt", "TXT", cdbaby.clone()),
        ("Tunecore_Test.csv", "CSV", tunecore.clone()),
    ] {
        let id = submit_bytes(&app, &key, name, kind, bytes).await;
        let file = settled(&app, &key, id).await;
        assert_eq!(file["status"], "FINALIZED", "{file}");
        originals.push(id);
    }
    let once = summary(&app, &key).await;
    assert_eq!(once["files"], 3);

    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend_from_slice(&distrokid);
    let copies = [
        ("DistroKid_Test (BOM).tsv", "TSV", with_bom),
        ("CdBaby_Test.txt.gz", "GZ", gzip(&cdbaby)),
        (
            "Tunecore_Test (UTF-16).csv",
            "CSV",
            utf16(std::str::from_utf8(&tunecore).unwrap()),
        ),
    ];
    let mut copy_ids = Vec::new();
    for ((name, kind, bytes), original) in copies.into_iter().zip(&originals) {
        let id = submit_bytes(&app, &key, name, kind, bytes).await;
        let file = settled(&app, &key, id).await;
        assert_eq!(file["status"], "FAILED", "{name}: {file}");
        assert_eq!(file["duplicate_of"], *original, "{name}: {file}");
        let cause = file["status_cause"].as_str().unwrap();
        assert!(
            cause.contains(&format!("already imported as file {original}")),
            "{cause}"
        );
        copy_ids.push(id);
    }
    assert_eq!(summary(&app, &key).await, once, "no copy counts");

    // Copies are listed apart from real failures.
    let list = |query: &'static str| {
        let app = &app;
        let key = &key;
        async move {
            let (status, page) = call(
                app,
                Method::GET,
                &format!("/api/files/salesfiles/?{query}"),
                key,
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let mut ids: Vec<i64> = page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_i64().unwrap())
                .collect();
            ids.sort_unstable();
            ids
        }
    };
    assert_eq!(list("duplicate=true").await, copy_ids);
    assert_eq!(
        list("status=FAILED&duplicate=false").await,
        Vec::<i64>::new()
    );
    assert_eq!(list("duplicate=false").await, originals);

    // Counted anyway, on purpose: the copy is imported and still names
    // the file it repeats.
    let copy = copy_ids[2];
    let (status, body) = process(&app, &key, copy, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = settled(&app, &key, copy).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(file["duplicate_of"], originals[2]);
    assert!(
        file["status_cause"]
            .as_str()
            .unwrap()
            .contains("Imported on purpose"),
        "{file}"
    );
    let twice = summary(&app, &key).await;
    assert_eq!(twice["files"], 4);
    let total = |s: &Value| Amount::parse(s["total_gross"].as_str().unwrap()).unwrap();
    let (tunecore_total, _) =
        source_total(&sample("distributors/Tunecore_Test.csv"), "Total Earned");
    assert_eq!(
        total(&twice),
        total(&once) + tunecore_total.convert(rate("GBP")).unwrap()
    );

    // Deleting the original: the copy no longer names it.
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/files/salesfiles/{}/", originals[2]),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, file) = call(
        &app,
        Method::GET,
        &format!("/api/files/salesfiles/{copy}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(file["duplicate_of"], Value::Null);
}
