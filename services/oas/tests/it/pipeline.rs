//! Every sample report through the whole pipeline over HTTP, in embedded
//! mode: create, upload to the presigned URL, clean, import; then the
//! file's status, line count and snapshot totals are checked against
//! figures this test computes from the sample on its own.

use std::io::Read;
use std::path::{Path, PathBuf};

use oas_domain::money::Amount;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::files::{call, file_when, process, sample, settled, submit, upload_and_clean};

/// Rates the test organisation (base USD) holds.
const AUD: &str = "0.75";
const GBP: &str = "1.25";

enum Expect {
    /// Imports: the amount column, and the currency of its amounts.
    Imported(&'static str, &'static str),
    /// DDEX DSR: usage lines' NetRevenue, in USD.
    Dsr,
    /// Refused with a cause containing this.
    Refused(&'static str),
}

const CASES: &[(&str, &str, Expect)] = &[
    (
        "spotify/Spotify_streaming_via_finetunes_201710_example.txt",
        "TXT",
        Expect::Imported("USD Payable", "USD"),
    ),
    (
        "apple/Apple_DL_80032046_AU_example.txt",
        "TXT",
        Expect::Imported("Extended Partner Share", "AUD"),
    ),
    (
        "apple/Apple_Streams_S1_80032046_1117_AU_201710_example.txt",
        "TXT",
        Expect::Imported("Net Royalty Total", "AUD"),
    ),
    (
        "distributors/CdBaby_Test.txt",
        "TXT",
        Expect::Imported("Subtotal", "USD"),
    ),
    (
        "distributors/DistroKid_NonAscii.tsv",
        "TSV",
        Expect::Imported("Earnings (USD)", "USD"),
    ),
    (
        "distributors/DistroKid_Test.tsv",
        "TSV",
        Expect::Imported("Earnings (USD)", "USD"),
    ),
    (
        "distributors/Tunecore_Test.csv",
        "CSV",
        Expect::Imported("Total Earned", "GBP"),
    ),
    (
        "distributors/bandcamp-non-ascii.csv",
        "CSV",
        Expect::Imported("net amount", "GBP"),
    ),
    (
        "distributors/bandcamp-simple-3-songs.csv",
        "CSV",
        Expect::Imported("net amount", "GBP"),
    ),
    (
        "distributors/bandcamp-simple-multiple-artist.csv",
        "CSV",
        Expect::Imported("net amount", "GBP"),
    ),
    (
        "distributors/cargo-simple-3-songs.csv",
        "CSV",
        Expect::Imported("Reported Royalty", "GBP"),
    ),
    (
        "distributors/Cargo_Physical_Test.xlsx",
        "XLSX",
        Expect::Imported("Net after fee", "GBP"),
    ),
    (
        "distributors/prs-simple-3-songs.csv",
        "CSV",
        Expect::Imported("Amount (performance revenue)", "GBP"),
    ),
    (
        "distributors/prs-simple-multiple-artist.csv",
        "CSV",
        Expect::Imported("Amount (performance revenue)", "GBP"),
    ),
    (
        "ddex-dsr/DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv",
        "TSV",
        Expect::Dsr,
    ),
    (
        "ddex-dsr/DSR_TEST2_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv",
        "TSV",
        Expect::Refused("footer counts 35 lines but the file has 34"),
    ),
    (
        "ddex-dsr/DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_1of1_20150723T092522.tsv",
        "TSV",
        Expect::Refused("HEAD"),
    ),
    (
        "ddex-dsr/DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_1of2_20150723T092522.tsv",
        "TSV",
        Expect::Refused("HEAD"),
    ),
    (
        "ddex-dsr/DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_2of2_20150723T092522.tsv",
        "TSV",
        Expect::Refused("HEAD"),
    ),
    (
        "ddex-dsr/test_file_parser.tsv",
        "TSV",
        Expect::Refused("FHEA"),
    ),
    (
        "ddex-dsr/test_file_parser.tsv.gz",
        "GZ",
        Expect::Refused("FHEA"),
    ),
    (
        "distributors/gubbins.txt",
        "TXT",
        Expect::Refused("not a sales report"),
    ),
];

/// Text of a sample as written: a BOM's encoding, else UTF-8, else Windows-1252.
fn text_of(bytes: &[u8]) -> String {
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes.to_vec()
    };
    match encoding_rs::Encoding::for_bom(&bytes) {
        Some((encoding, _)) => encoding.decode(&bytes).0.into_owned(),
        None => match String::from_utf8(bytes.clone()) {
            Ok(text) => text,
            Err(_) => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
        },
    }
}

/// The sum and count of a column's values, read straight from the sample.
fn source_total(path: &Path, column: &str) -> (Amount, i64) {
    let amounts: Vec<String> = if path.extension().is_some_and(|e| e == "xlsx") {
        use calamine::Reader;
        let mut book = calamine::open_workbook_auto(path).unwrap();
        let name = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&name).unwrap();
        let mut rows = range.rows();
        let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
        let at = header.iter().position(|h| h == column).unwrap();
        rows.filter(|r| r.iter().any(|c| !c.to_string().is_empty()))
            .map(|r| r[at].to_string())
            .collect()
    } else {
        let text = text_of(&std::fs::read(path).unwrap());
        let lines: Vec<&str> = text.lines().collect();
        let (start, delimiter) = lines
            .iter()
            .enumerate()
            .find_map(|(i, line)| {
                [b'\t', b',', b';']
                    .into_iter()
                    .find(|d| {
                        line.split(char::from(*d))
                            .any(|cell| cell.trim_matches('"').trim() == column)
                    })
                    .map(|d| (i, d))
            })
            .unwrap();
        let table = lines[start..].join("\n");
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(table.as_bytes());
        let at = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h.trim() == column)
            .unwrap();
        reader
            .records()
            .map(|r| r.unwrap())
            .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
            .map(|r| r[at].trim().to_owned())
            .collect()
    };
    let total = amounts
        .iter()
        .map(|a| Amount::parse(&plain(a)).unwrap())
        .sum();
    (total, amounts.len() as i64)
}

/// `4.2E-7` as `0.00000042`: moves the point by the exponent.
fn plain(text: &str) -> String {
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return text.to_owned();
    };
    let exponent: i32 = exponent.parse().unwrap();
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    assert!(
        exponent < 0 && !whole.starts_with('-'),
        "only small positive amounts appear"
    );
    let zeros = "0".repeat((-exponent) as usize - whole.len());
    format!("0.{zeros}{whole}{fraction}")
}

/// NetRevenue of a DSR's usage (SU) records, by the `#SU` header row's names.
fn dsr_total(path: &Path) -> (Amount, i64) {
    let text = text_of(&std::fs::read(path).unwrap());
    let header = text.lines().find(|l| l.starts_with("#SU")).unwrap();
    let at = header.split('\t').position(|c| c == "NetRevenue").unwrap();
    let amounts: Vec<Amount> = text
        .lines()
        .filter(|l| l.starts_with("SU"))
        .map(|l| Amount::parse(l.split('\t').nth(at).unwrap()).unwrap())
        .collect();
    (amounts.iter().copied().sum(), amounts.len() as i64)
}

fn rate(currency: &str) -> rust_decimal::Decimal {
    match currency {
        "AUD" => AUD.parse().unwrap(),
        "GBP" => GBP.parse().unwrap(),
        _ => rust_decimal::Decimal::ONE,
    }
}

async fn app_with_rates() -> (TestApp, String, i64) {
    rates_for(TestApp::spawn().await).await
}

/// An owner of an organisation (base USD) with rates from AUD and GBP.
async fn rates_for(app: TestApp) -> (TestApp, String, i64) {
    let (_, key) = app.user_with_key("petra").await;
    let org = app.organisation(&key).await;
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/"),
        &key,
        Some(json!({"currencies": ["USD", "AUD", "GBP"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/settings/"),
        &key,
        Some(json!({"exchange_rates": [
            {"from_currency": "AUD", "to_currency": "USD", "period": "2000-01", "rate": AUD},
            {"from_currency": "GBP", "to_currency": "USD", "period": "2000-01", "rate": GBP},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (app, key, org)
}

async fn check_imported(
    app: &TestApp,
    key: &str,
    id: i64,
    total: Amount,
    lines: i64,
    currency: &str,
) {
    let file = settled(app, key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(file["total_rows"].as_i64(), Some(lines), "{file}");
    let (status, snapshot) = call(
        app,
        Method::GET,
        &format!("/api/files/salesfiles/{id}/snapshot/"),
        key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{snapshot}");
    let got = |v: &Value| Amount::parse(v.as_str().unwrap()).unwrap();
    assert_eq!(
        got(&snapshot["total_revenue"]),
        total,
        "{}: {snapshot}",
        file["filename"]
    );
    assert_eq!(got(&file["total_local"]), total);
    assert_eq!(snapshot["currency"], currency);
    assert_eq!(
        got(&snapshot["total_base_revenue"]),
        total.convert(rate(currency)).unwrap(),
        "converted exactly at the organisation's rate"
    );
    assert_eq!(snapshot["lines"].as_i64(), Some(lines));
    for dimension in ["byArtist", "byDSP", "byTerritory", "byTrack", "byRelease"] {
        let rows = snapshot[dimension].as_array().unwrap();
        assert!(!rows.is_empty(), "{dimension}: {snapshot}");
    }
}

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

async fn summary(app: &TestApp, key: &str) -> Value {
    let (status, body) = call(app, Method::GET, "/api/sales/summary/", key, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

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
        cause.contains(&format!("already uploaded as file {first}")),
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
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(parquet(second).is_empty());
    assert_eq!(summary(&app, &key).await, once);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

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

/// An Orchard export whose store column is called `store_column`.
fn orchard_export(store_column: &str) -> String {
    let header = format!(
        "Period,Activity Period,{store_column},Territory,Product UPC,Product Code,Imprint Label,\
         Artist Name,Product Name,Track Name,Track Artist,ISRC,Trans Type Description,Quantity,\
         Total,Label Share Net Receipts,Preferred Currency"
    );
    let lines = [
        "2024-03,2024-01,Spotify,US,0602537521289,ORC001,Night Shift,Luna Vale,Tides,Harbour Lights,Luna Vale,USAT21300001,Stream,1200,4.80,3.3600000000,USD",
        "2024-03,2024-01,Apple Music,GB,0602537521289,ORC001,Night Shift,Luna Vale,Tides,Undertow,Luna Vale,USAT21300002,Stream,310,1.55,1.0850000001,USD",
        "2024-03,2024-02,iTunes,DE,0602537521289,ORC001,Night Shift,Luna Vale,Tides,Harbour Lights,Luna Vale,USAT21300001,Download,3,2.97,2.0790000000,USD",
    ];
    format!("{header}\n{}\n", lines.join("\n"))
}

#[actix_web::test]
async fn orchard_exports_import_whether_their_store_column_is_retailer_or_dms() {
    let (app, key, _) = app_with_rates().await;
    let folder = tempfile::tempdir().unwrap();
    for store_column in ["Retailer", "DMS"] {
        let path = folder.path().join(format!("orchard-{store_column}.csv"));
        std::fs::write(&path, orchard_export(store_column)).unwrap();
        let id = submit(&app, &key, &path, "CSV").await;
        let (total, lines) = source_total(&path, "Label Share Net Receipts");
        check_imported(&app, &key, id, total, lines, "USD").await;
        let (_, snapshot) = call(
            &app,
            Method::GET,
            &format!("/api/files/salesfiles/{id}/snapshot/"),
            &key,
            None,
        )
        .await;
        let stores: Vec<&str> = snapshot["byDSP"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["name"].as_str().unwrap())
            .collect();
        assert_eq!(stores.len(), 3, "{store_column}: {snapshot}");
        assert!(stores.contains(&"Apple Music"), "{stores:?}");
    }
    // The formats served are the binary's built-ins, whatever the
    // migration that first seeded them said.
    let (status, page) = call(&app, Method::GET, "/api/formats/?page_size=100", &key, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let served: Vec<&Value> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["builtin"] == true)
        .map(|f| &f["format"])
        .collect();
    let builtins: Vec<Value> = oas_sales::format::builtin()
        .unwrap()
        .iter()
        .map(|spec| serde_json::to_value(spec).unwrap())
        .collect();
    assert_eq!(served, builtins.iter().collect::<Vec<_>>());
}

#[actix_web::test]
async fn a_file_without_a_rate_for_its_currency_fails_saying_which_rate_is_missing() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("rita").await;
    app.organisation(&key).await;
    let id = submit(&app, &key, &sample("distributors/Tunecore_Test.csv"), "CSV").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED");
    let cause = file["status_cause"].as_str().unwrap();
    assert!(
        cause.contains("No exchange rate from GBP to USD for 2020-04"),
        "{cause}"
    );
}

#[actix_web::test]
async fn an_organisation_adds_a_format_for_a_layout_no_builtin_knows() {
    let (app, key, org) = app_with_rates().await;
    let (_, outsider) = app.user_with_key("otto").await;
    app.organisation(&outsider).await;
    let (status, page) = call(&app, Method::GET, "/api/formats/?page_size=100", &key, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let builtins = page["count"].as_i64().unwrap();
    assert!(builtins >= 16);
    let spotify = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["format"]["slug"] == "spotify")
        .unwrap()
        .clone();
    assert_eq!(spotify["builtin"], true);

    // A layout of its own: semicolons, decimal commas, localised names.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("maison.csv");
    std::fs::write(
        &report,
        "Période;Plateforme;Pays;Artiste;Titre;ISRC;Quantité;Montant net;Devise\n\
         2024-03;Deezer;FR;Zoé;Chanson;FR-AB1-24-00001;12;1.234,50;EUR\n\
         2024-03;Qobuz;BE;Zoé;Chanson;FR-AB1-24-00001;3;0,005;EUR\n",
    )
    .unwrap();
    let id = submit(&app, &key, &report, "CSV").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED");
    assert!(
        file["status_cause"]
            .as_str()
            .unwrap()
            .contains("matches no known report format"),
        "{file}"
    );

    let mut format = json!({
        "slug": "maison", "name": "Maison de disques", "source": "distributor",
        "decimal": "comma",
        "signature": ["Période", "Plateforme", "Montant net"],
        "columns": {"sale_period": ["Période"], "dsp": ["Plateforme"], "territory": ["Pays"],
                    "artist": ["Artiste"], "track_title": ["Titre"], "isrc": ["ISRC"],
                    "quantity": ["Quantité"], "net_revenue": ["Montant net"], "currency": ["Devise"]}
    });
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/formats/",
        &key,
        Some(json!({"signature": []})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut no_amount = format.clone();
    no_amount["columns"]
        .as_object_mut()
        .unwrap()
        .remove("net_revenue");
    let (status, body) = call(&app, Method::POST, "/api/formats/", &key, Some(no_amount)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"].as_str().unwrap().contains("net_revenue"),
        "{body}"
    );
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/formats/",
        &key,
        Some(format.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["organisation"].as_i64(), created["builtin"].clone()),
        (Some(org), json!(false))
    );
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/formats/",
        &key,
        Some(format.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "one slug per organisation");
    let format_id = created["id"].as_i64().unwrap();
    let path = format!("/api/formats/{format_id}/");
    let (status, _) = call(&app, Method::GET, &path, &outsider, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another organisation's format does not exist for them"
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        &outsider,
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let builtin_path = format!("/api/formats/{}/", spotify["id"]);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &builtin_path,
        &key,
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("same slug"));

    // The rate is missing for EUR: add it, then correct the name by PATCH.
    format["name"] = json!("Maison (corrigé)");
    let (status, patched) = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"name": "Maison (corrigé)"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["format"], format);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/"),
        &key,
        Some(json!({"currencies": ["USD", "AUD", "GBP", "EUR"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/settings/"),
        &key,
        Some(json!({"exchange_rates": [{"from_currency": "EUR", "to_currency": "USD", "period": "2024-01", "rate": "1.1"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(
        (file["total_rows"].as_i64(), file["total_local"].clone()),
        (Some(2), json!("1234.505"))
    );
    let (_, snapshot) = call(
        &app,
        Method::GET,
        &format!("/api/files/salesfiles/{id}/snapshot/"),
        &key,
        None,
    )
    .await;
    assert_eq!(snapshot["total_base_revenue"], "1357.9555");
    assert_eq!(snapshot["byTrack"][0]["isrc"], "FRAB12400001");
    assert_eq!(snapshot["byTrack"][0]["quantity"], 15);
}

/// The cloud topology's parts: PostgreSQL, S3 (s3s-fs, which checks the
/// presigned URL's signature) and an SQS queue (moto) for completion events.
#[actix_web::test]
async fn the_same_flow_runs_on_postgres_s3_and_sqs() {
    let (Some(s3), Some(moto)) = (
        crate::support::stand_in("OAS_TEST_S3_ENDPOINT"),
        crate::support::stand_in("OAS_TEST_MOTO_ENDPOINT"),
    ) else {
        return;
    };
    if std::env::var("OAS_TEST_DATABASE_URL").is_err() {
        eprintln!("OAS_TEST_DATABASE_URL is not set: cloud flow not exercised");
        return;
    }
    let aws = |endpoint: String| async move {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await
    };
    let s3_client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws(s3).await)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("oas-flow-{}", uuid::Uuid::new_v4().simple());
    s3_client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&aws(moto).await);
    let queue = sqs
        .create_queue()
        .queue_name(uuid::Uuid::new_v4().simple().to_string())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .var(
            "OAS_STORAGE_URL",
            &format!("s3://{bucket}/deployment?path_style=true"),
        )
        .var("OAS_EVENTS_QUEUE_URL", &queue)
        .start()
        .await;
    let (_, key) = app.user_with_key("carla").await;
    let org = app.organisation(&key).await;
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/"),
        &key,
        Some(json!({"currencies": ["USD", "GBP"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/settings/"),
        &key,
        Some(json!({"exchange_rates": [{"from_currency": "GBP", "to_currency": "USD", "period": "2000-01", "rate": GBP}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let spotify = sample("spotify/Spotify_streaming_via_finetunes_201710_example.txt");
    let id = submit(&app, &key, &spotify, "TXT").await;
    let (total, lines) = source_total(&spotify, "USD Payable");
    check_imported(&app, &key, id, total, lines, "USD").await;
    let physical = sample("distributors/Cargo_Physical_Test.xlsx");
    let id = submit(&app, &key, &physical, "XLSX").await;
    let (total, lines) = source_total(&physical, "Net after fee");
    check_imported(&app, &key, id, total, lines, "GBP").await;
    let id = submit(&app, &key, &sample("distributors/gubbins.txt"), "TXT").await;
    assert_eq!(settled(&app, &key, id).await["status"], "FAILED");

    // The lines landed in the bucket, under the organisation and period.
    let listed = s3_client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(format!("deployment/org-{org}/lines/"))
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert!(
        keys.iter().any(|k| k.ends_with("/2017-10/file-1.parquet")),
        "{keys:?}"
    );
    // Each run also reported to the queue.
    let messages = sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    assert!(
        !messages.messages().is_empty(),
        "completion events reach SQS"
    );
}

#[actix_web::test]
async fn bytes_put_again_after_cleaning_are_not_imported_under_the_old_cleaning() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("vera").await;
    app.organisation(&key).await;
    // Cleaned, then failed at import (no GBP rate): the file may be uploaded again.
    let id = submit(&app, &key, &sample("distributors/Tunecore_Test.csv"), "CSV").await;
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
    assert_eq!(body["detail"], oas::workflows::files::NOT_CLEANED);
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED");
    assert_eq!(file["status_cause"], oas::workflows::files::NOT_CLEANED);
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

/// The files of a DDEX DSR message sent in two: one summary record of
/// 100.00 USD, shared by usages between the lines without revenue of
/// their own in both files (`shared`, a block each), and in the second
/// file one line with revenue of its own (2 usages, 2.50 USD).
fn dsr_message(message: &str, shared: [&[i64]; 2]) -> [String; 2] {
    let total: i64 = shared.iter().flat_map(|f| f.iter()).sum::<i64>() + 2;
    let mut files: Vec<Vec<String>> = Vec::new();
    let mut block = 0;
    for (index, usages) in shared.iter().enumerate() {
        let mut lines = vec![
            format!(
                "HEAD\tdsrf/30\tUGCProfile\t1.1\t{message}\t2016-01-21T15:09:26Z\t{}\t2\t2015-10-01\t2015-12-31\tPADPIDA2013020802I\tYouTube",
                index + 1
            ),
            "#HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber\tNumberOfFiles\tUsageStartDate\tUsageEndDate\tSenderPartyId\tSenderName".to_owned(),
            "#SY02.01\tSummaryRecordId\tCommercialModel\tUseType\tTerritory\tServiceDescription\tUsages\tCurrency\tNetRevenue".to_owned(),
            "#AS01\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle\tDisplayArtistName".to_owned(),
            "#RU01\tBlockId\tSummaryRecordId\tDspReleaseId\tUsages".to_owned(),
            "#SU03.01\tBlockId\tSalesTransactionId\tSummaryRecordId\tDspReleaseId\tUsages\tNetRevenue".to_owned(),
            "#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords\tNumberOfBlocksInFile\tNumberOfBlocksInReport".to_owned(),
            format!("SY02.01\t1\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t{total}\tUSD\t100.00"),
        ];
        for count in usages.iter() {
            block += 1;
            lines.push(format!(
                "AS01\t{block}\tR{block}\tD{block}\tUSAB1{block:07}\tTrack {block}\t\tArtist {index}"
            ));
            lines.push(format!("RU01\t{block}\t1\tV{block}\t{count}"));
        }
        if index == 1 {
            block += 1;
            lines.push(format!(
                "AS01\t{block}\tR{block}\tD{block}\tUSAB1{block:07}\tTrack {block}\t\tArtist 9"
            ));
            lines.push(format!("SU03.01\t{block}\tS1\t1\tV{block}\t2\t2.50"));
        }
        files.push(lines);
    }
    let report: usize = files.iter().map(|f| f.len() + 1).sum();
    let blocks = [shared[0].len(), shared[1].len() + 1];
    let mut texts = files.into_iter().enumerate().map(|(index, mut lines)| {
        let count = lines.len() + 1;
        let (in_report, blocks_in_report) = match index {
            1 => (report.to_string(), (blocks[0] + blocks[1]).to_string()),
            _ => (String::new(), String::new()),
        };
        lines.push(format!(
            "FOOT\t{count}\t{in_report}\t1\t{}\t{blocks_in_report}",
            blocks[index]
        ));
        lines.join("\n") + "\n"
    });
    [texts.next().unwrap(), texts.next().unwrap()]
}

/// What each file of [`dsr_message`] comes to, worked out here: the
/// summary's 100.00 USD in proportion to the usages of the lines without
/// revenue, plus the second file's own 2.50.
fn dsr_message_totals(shared: [&[i64]; 2]) -> [Amount; 2] {
    let all: i64 = shared.iter().flat_map(|f| f.iter()).sum();
    let share = |usages: &[i64]| {
        let part: i64 = usages.iter().sum();
        Amount::parse(
            &(rust_decimal::Decimal::from(100 * part) / rust_decimal::Decimal::from(all))
                .to_string(),
        )
        .unwrap()
    };
    [
        share(shared[0]),
        share(shared[1]) + Amount::parse("2.50").unwrap(),
    ]
}

/// Waits until file `id` is in `status` with a cause that says `cause`.
async fn waits(app: &TestApp, key: &str, id: i64, status: &str, cause: &str) -> Value {
    let file = file_when(app, key, id, |file| {
        file["status"] == "FAILED"
            || (file["status"] == status
                && file["status_cause"]
                    .as_str()
                    .is_some_and(|said| said.contains(cause)))
    })
    .await;
    assert_eq!(file["status"], status, "{file}");
    file
}

#[actix_web::test]
async fn the_files_of_a_dsr_message_wait_for_each_other_and_share_its_summary_revenue() {
    let (app, key, _) = app_with_rates().await;
    let dir = tempfile::tempdir().unwrap();
    let shared: [&[i64]; 2] = [&[1], &[3]];
    let texts = dsr_message("MSG-2", shared);
    let totals = dsr_message_totals(shared);
    assert_eq!(
        totals,
        [
            Amount::parse("25").unwrap(),
            Amount::parse("77.50").unwrap()
        ],
        "shared by usages, not by files"
    );
    let paths: Vec<PathBuf> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let path = dir.path().join(format!(
                "DSR_TEST_YouTube_AdSupport_2015-Q4_IS_{}of2.tsv",
                index + 1
            ));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();

    // The second file first: cleaned, it waits for the first.
    let second = submit(&app, &key, &paths[1], "TSV").await;
    let waiting = waits(
        &app,
        &key,
        second,
        "CLEANED",
        "Still to upload and clean: file 1.",
    )
    .await;
    let cause = waiting["status_cause"].as_str().unwrap();
    assert!(
        cause.contains("File 2 of 2 of DDEX DSR message MSG-2"),
        "{cause}"
    );
    let (status, body) = process(&app, &key, second, "import").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["detail"], cause);
    assert_eq!(summary(&app, &key).await["files"], 0);

    // The first file makes the message whole: both are imported.
    let first = submit(&app, &key, &paths[0], "TSV").await;
    check_imported(&app, &key, first, totals[0], 1, "USD").await;
    check_imported(&app, &key, second, totals[1], 2, "USD").await;
    let both = summary(&app, &key).await;
    assert_eq!(both["files"], 2);
    assert_eq!(
        Amount::parse(both["total_gross"].as_str().unwrap()).unwrap(),
        totals[0] + totals[1]
    );

    // A file imported again takes the same share.
    let (status, body) = process(&app, &key, second, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    check_imported(&app, &key, second, totals[1], 2, "USD").await;
    assert_eq!(
        summary(&app, &key).await,
        both,
        "reimport never doubles revenue"
    );

    // The first file again, with other line ends (other bytes): refused,
    // or its lines would count twice.
    let again = dir.path().join("DSR_TEST_again_1of2.tsv");
    std::fs::write(&again, texts[0].replace('\n', "\r\n")).unwrap();
    let twice = submit(&app, &key, &again, "TSV").await;
    let file = settled(&app, &key, twice).await;
    assert_eq!(file["status"], "FAILED", "{file}");
    let cause = file["status_cause"].as_str().unwrap();
    assert!(
        cause.contains(&format!(
            "File 1 of DDEX DSR message MSG-2 was already uploaded as file {first}"
        )),
        "{cause}"
    );
    assert_eq!(summary(&app, &key).await, both);

    // Both files in one archive, cleaned side by side: both imported.
    let shared: [&[i64]; 2] = [&[2], &[1, 5]];
    let texts = dsr_message("MSG-3", shared);
    let totals = dsr_message_totals(shared);
    let zip_path = dir.path().join("message.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        for (index, text) in texts.iter().enumerate() {
            let name = format!("DSR_MSG-3_{}of2.tsv", index + 1);
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut zip, text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    let archive = submit(&app, &key, &zip_path, "ZIP").await;
    assert_eq!(settled(&app, &key, archive).await["status"], "FINALIZED");
    let (_, page) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?page_size=50",
        &key,
        None,
    )
    .await;
    let mut members: Vec<(String, i64)> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["parent"].as_i64() == Some(archive))
        .map(|f| {
            (
                f["filename"].as_str().unwrap().to_owned(),
                f["id"].as_i64().unwrap(),
            )
        })
        .collect();
    members.sort();
    assert_eq!(members.len(), 2, "{members:?}");
    assert_eq!(totals[0], Amount::parse("25").unwrap());
    for (((_, id), total), lines) in members.iter().zip(totals).zip([1, 3]) {
        check_imported(&app, &key, *id, total, lines, "USD").await;
    }
}
