//! Every sample report through the whole pipeline over HTTP, in embedded
//! mode: create, upload to the presigned URL, clean, import; then the
//! file's status, line count and snapshot totals are checked against
//! figures this test computes from the sample on its own.

use std::io::Read;
use std::path::{Path, PathBuf};

use oas_domain::money::Amount;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod actions;
mod archives;
mod catalog;
mod cloud;
mod copies;
mod dsr_messages;
mod fetches;
mod formats;
mod matching;
mod rates;
mod reimport;
mod reports;
mod samples;
mod statements;

use crate::support::TestApp;
use crate::support::files::{call, file_when, process, sample, settled, submit, upload_and_clean};

/// Rates the test organisation (base USD) holds.
pub const AUD: &str = "0.75";
pub const GBP: &str = "1.25";

pub enum Expect {
    /// Imports: the amount column, and the currency of its amounts.
    Imported(&'static str, &'static str),
    /// DDEX DSR: usage lines' NetRevenue, in USD.
    Dsr,
    /// Refused with a cause containing this.
    Refused(&'static str),
}

pub const CASES: &[(&str, &str, Expect)] = &[
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
pub fn text_of(bytes: &[u8]) -> String {
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
pub fn source_total(path: &Path, column: &str) -> (Amount, i64) {
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
pub fn plain(text: &str) -> String {
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
pub fn dsr_total(path: &Path) -> (Amount, i64) {
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

pub fn rate(currency: &str) -> rust_decimal::Decimal {
    match currency {
        "AUD" => AUD.parse().unwrap(),
        "GBP" => GBP.parse().unwrap(),
        _ => rust_decimal::Decimal::ONE,
    }
}

pub async fn app_with_rates() -> (TestApp, String, i64) {
    rates_for(TestApp::spawn().await).await
}

/// An owner of an organisation (base USD) with rates from AUD and GBP,
/// one each, which every month borrows.
pub async fn rates_for(app: TestApp) -> (TestApp, String, i64) {
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
        // One rate a currency, borrowed by every later month on purpose.
        Some(
            json!({"missing_rates": "latest_earlier", "exchange_rates": [
                {"from_currency": "AUD", "to_currency": "USD", "period": "2000-01", "rate": AUD},
                {"from_currency": "GBP", "to_currency": "USD", "period": "2000-01", "rate": GBP},
            ]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (app, key, org)
}

pub async fn check_imported(
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
    // Every amount the API shows is in one form: exact, no trailing zeros.
    let got = |v: &Value| {
        let text = v.as_str().unwrap();
        let amount = Amount::parse(text).unwrap();
        assert_eq!(amount.to_string(), text, "an amount in another form");
        amount
    };
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
        let count = snapshot["counts"][dimension].as_i64().unwrap();
        assert!(count >= rows.len() as i64, "{dimension}: {snapshot}");
        if count <= 100 {
            // The whole list: its groups add up to the file.
            assert_eq!(count, rows.len() as i64);
            let sum: Amount = rows.iter().map(|r| got(&r["revenue"])).sum();
            assert_eq!(sum, total, "{dimension} of {}", file["filename"]);
        }
        let unknown = rows.iter().filter(|r| r["name"] == "(unknown)").count();
        assert!(
            unknown <= 1,
            "{dimension}: what is unknown is one group, not one an artist: {snapshot}"
        );
        for row in rows {
            got(&row["base_revenue"]);
            let key = row["key"].as_str().unwrap();
            assert!(
                !key.chars().any(char::is_control),
                "{dimension}: a key shows no separator characters: {key:?}"
            );
        }
    }
}

pub async fn summary(app: &TestApp, key: &str) -> Value {
    let (status, body) = call(app, Method::GET, "/api/sales/summary/", key, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
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
