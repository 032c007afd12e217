//! Reports over HTTP: the monthly and the unmatched report of a period
//! over every sample report (several files and currencies), read back with
//! a CSV parser; together they hold each line once and add up to the files
//! exactly; their snapshots, links (emailed, fresh, expired), deletion;
//! the dashboard's figures; bad requests; another organisation sees none
//! of it. On SQLite, on PostgreSQL, and on PostgreSQL with S3, SQS and
//! snapshots in MongoDB.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::time::Duration;

use oas_platform::storage::{ObjectKey, ObjectStore, PresignMethod};

use super::*;
use crate::support::files::wait_until;

async fn get(app: &TestApp, key: &str, path: &str) -> Value {
    let (status, body) = call(app, Method::GET, path, key, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// Asks for a report and waits for it to be READY or FAILED.
async fn report(app: &TestApp, key: &str, body: Value) -> Value {
    let (status, asked) = call(app, Method::POST, "/api/reports/", key, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
    assert_eq!(asked["status"], "PENDING", "{asked}");
    let path = format!("/api/reports/{}/", asked["id"]);
    wait_until(Duration::from_secs(120), || async {
        let report = get(app, key, &path).await;
        ["READY", "FAILED"]
            .contains(&report["status"].as_str().unwrap_or(""))
            .then_some(report)
    })
    .await
    .unwrap_or_else(|| panic!("report {path} never ended"))
}

/// A report's file, downloaded through its link and read with a CSV
/// parser: its header and rows.
async fn rows_of(app: &TestApp, url: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let gz = response.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gzipped UTF-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("every row parses, with as many cells as the header");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, rows)
}

fn amount(v: &Value) -> Amount {
    Amount::parse_total(v.as_str().unwrap_or_else(|| panic!("an amount: {v}"))).unwrap()
}

/// Cells written as numbers; every other cell must not start a formula.
const NUMBERS: [&str; 6] = [
    "quantity",
    "gross_revenue",
    "net_revenue",
    "exchange_rate",
    "base_revenue",
    "line",
];

fn check_cells(rows: &[BTreeMap<String, String>]) {
    for row in rows {
        for (column, cell) in row {
            if NUMBERS.contains(&column.as_str()) {
                continue;
            }
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{column}: {cell:?} could run as a formula"
            );
        }
    }
}

/// Every sample that imports, imported: their ids, and the lines and
/// base total of those that say their month.
async fn import_samples(app: &TestApp, key: &str) -> (Vec<i64>, i64, Amount) {
    let mut ids = Vec::new();
    let (mut lines, mut total) = (0, Amount::ZERO);
    for (path, filetype, expect) in CASES {
        if matches!(expect, Expect::Refused(_)) {
            continue;
        }
        let id = submit(app, key, &sample(path), filetype).await;
        let file = settled(app, key, id).await;
        assert_eq!(file["status"], "FINALIZED", "{path}: {file}");
        let snapshot = get(app, key, &format!("/api/files/salesfiles/{id}/snapshot/")).await;
        ids.push(id);
        if file["reporting_period"].is_null() {
            // PRS statements name no month: in no period's report.
            continue;
        }
        lines += snapshot["lines"].as_i64().unwrap();
        total += amount(&snapshot["total_base_revenue"]);
    }
    (ids, lines, total)
}

/// Waits for every file to be matched again (FINALIZED with a match).
async fn rematched(app: &TestApp, key: &str, ids: &[i64]) {
    for &id in ids {
        file_when(app, key, id, |f| {
            f["status"] == "FINALIZED"
                && f["status_cause"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Matched"))
        })
        .await;
    }
}

async fn reports_add_up_to_the_files(app: TestApp) {
    let (app, key, org) = rates_for(app).await;
    let (ids, lines, total) = import_samples(&app, &key).await;

    // A catalog of the first files' recordings only: the others' lines
    // stay unmatched.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/generate/",
        &key,
        Some(json!({"files": ids[..4]})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job = format!("/api/jobs/{}/", body["job"].as_str().unwrap());
    wait_until(Duration::from_secs(120), || async {
        (get(&app, &key, &job).await["status"] == "succeeded").then_some(())
    })
    .await
    .expect("the catalog is generated");
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/catalog/match/",
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    rematched(&app, &key, &ids).await;

    // Every month the samples report in, by the month each line reports.
    let period = json!({"period_from": "2000-01", "period_to": "2030-12"});
    let mut asked = period.clone();
    asked["type"] = json!("monthly");
    let monthly = report(&app, &key, asked).await;
    let mut asked = period.clone();
    asked["type"] = json!("unmatched");
    let unmatched = report(&app, &key, asked).await;
    for r in [&monthly, &unmatched] {
        assert_eq!(r["status"], "READY", "{r}");
        let cause = r["status_cause"].as_str().unwrap_or_default();
        assert!(
            cause.contains("2 processed file(s) say no month") && cause.contains("prs-simple"),
            "{r}"
        );
        assert_eq!(r["currency"], "USD", "{r}");
        assert!(
            r["rows"].as_i64().unwrap() > 0,
            "both kinds have lines: {r}"
        );
    }
    assert_eq!(
        monthly["rows"].as_i64().unwrap() + unmatched["rows"].as_i64().unwrap(),
        lines,
        "each line of the period once"
    );
    assert_eq!(
        amount(&monthly["total_revenue"]) + amount(&unmatched["total_revenue"]),
        total,
        "the two add up to the files exactly"
    );

    // The files, read back with a CSV parser, say the same line by line.
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (r, extra) in [(&monthly, "catalog_title"), (&unmatched, "match_status")] {
        let (header, rows) = rows_of(&app, r["download_url"].as_str().unwrap()).await;
        assert!(header.contains(&extra.to_owned()), "{header:?}");
        assert_eq!(rows.len() as i64, r["rows"].as_i64().unwrap());
        let sum: Amount = rows
            .iter()
            .map(|row| Amount::parse(&row["base_revenue"]).unwrap())
            .sum();
        assert_eq!(sum, amount(&r["total_revenue"]), "{}", r["type"]);
        check_cells(&rows);
        for row in &rows {
            assert!(
                seen.insert((row["source_file_id"].clone(), row["line"].clone())),
                "a line twice: {row:?}"
            );
            assert!(ids.contains(&row["source_file_id"].parse().unwrap()));
            assert!(!row["source_file"].is_empty());
        }
        if r["type"] == "monthly" {
            assert!(rows.iter().all(|row| !row["track_id"].is_empty()
                && !row["catalog_title"].is_empty()
                && !row["match_type"].is_empty()));
        } else {
            assert!(rows.iter().all(|row| row["match_status"] != "matched"));
        }
        // Its snapshot: every group of a short list adds up to the report.
        let snapshot = &r["snapshot"];
        for dimension in ["byArtist", "byDSP", "byTerritory", "byTrack", "byRelease"] {
            let groups = snapshot[dimension].as_array().unwrap();
            let count = snapshot["counts"][dimension].as_i64().unwrap();
            assert!(count >= groups.len() as i64 && count > 0, "{snapshot}");
            if count <= 100 {
                let sum: Amount = groups.iter().map(|g| amount(&g["revenue"])).sum();
                assert_eq!(sum, amount(&r["total_revenue"]), "{dimension}: {snapshot}");
            }
        }
    }
    assert_eq!(seen.len() as i64, lines);

    // Counted by the month of the sale, every line still falls in the
    // period once.
    let mut by_sale = (0, Amount::ZERO);
    for kind in ["monthly", "unmatched"] {
        let mut asked = period.clone();
        asked["type"] = json!(kind);
        asked["by"] = json!("sale");
        let r = report(&app, &key, asked).await;
        assert_eq!(r["status"], "READY", "{r}");
        by_sale.0 += r["rows"].as_i64().unwrap();
        by_sale.1 += amount(&r["total_revenue"]);
    }
    assert_eq!(by_sale, (lines, total));

    // Some files only: one named file's lines; another named file outside
    // the period is said to be left out.
    let spotify = get(&app, &key, &format!("/api/files/salesfiles/{}/", ids[0])).await;
    let one = report(
        &app,
        &key,
        json!({"type": "monthly", "period": "2017-10", "files": [ids[0], ids[6]]}),
    )
    .await;
    assert_eq!(one["status"], "READY", "{one}");
    assert_eq!(one["rows"], spotify["total_rows"], "{one}");
    assert_eq!(one["files"], json!([ids[0], ids[6]]), "{one}");
    assert!(
        one["status_cause"]
            .as_str()
            .is_some_and(|c| c.contains("1 of the files named are not in the report")
                && c.contains("Tunecore_Test.csv")),
        "{one}"
    );

    // The requester was emailed the link.
    let id = monthly["id"].as_i64().unwrap();
    let mails = mails_to_requester(&app, id).await;
    assert!(!mails.is_empty(), "the requester is emailed the link");

    // A fresh link, and a link past its time answers 403.
    let path = format!("/api/reports/{id}/");
    let (status, link) = call(&app, Method::POST, &format!("{path}link/"), &key, None).await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let (_, rows) = rows_of(&app, link["download_url"].as_str().unwrap()).await;
    assert_eq!(rows.len() as i64, monthly["rows"].as_i64().unwrap());
    let stored = ObjectKey::parse(&format!("org-{org}/reports/{id}/report.csv.gz")).unwrap();
    // (The local store's signed URLs; S3's expire by S3's clock.)
    let local = matches!(
        app.state.storage.as_ref(),
        oas_platform::storage::AnyStorage::Local(_)
    );
    if local {
        let short = app
            .state
            .storage
            .presign(PresignMethod::Get, &stored, Duration::from_secs(1))
            .await
            .unwrap();
        let expired = wait_until(Duration::from_secs(10), || async {
            let response = app.client.get(&short.url).send().await.unwrap();
            (response.status() == StatusCode::FORBIDDEN).then_some(())
        })
        .await;
        assert!(expired.is_some(), "a link past its time is refused");
    }

    // The dashboard reads the same figures from the snapshots and matches.
    let dashboard = get(
        &app,
        &key,
        "/api/dashboard/?period_from=2000-01&period_to=2030-12",
    )
    .await;
    assert_eq!(amount(&dashboard["total_revenue"]), total, "{dashboard}");
    assert_eq!(
        amount(&dashboard["unmatched"]["revenue"]),
        amount(&unmatched["total_revenue"]),
        "{dashboard}"
    );
    // The two PRS statements say no month: outside any range of months.
    assert_eq!(
        dashboard["files"]["processed"],
        ids.len() - 2,
        "{dashboard}"
    );
    assert_eq!(dashboard["currency"], "USD");
    let months: Amount = dashboard["revenue_by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| amount(&m["revenue"]))
        .sum();
    assert_eq!(months, total, "{dashboard}");
    let share = dashboard["unmatched"]["share"].as_f64().unwrap();
    assert!(share > 0.0 && share < 1.0, "{dashboard}");
    for top in [
        "top_artists",
        "top_tracks",
        "top_releases",
        "top_dsps",
        "top_territories",
    ] {
        let list = dashboard[top].as_array().unwrap();
        assert!(!list.is_empty() && list.len() <= 10, "{top}: {dashboard}");
        let revenues: Vec<Amount> = list.iter().map(|g| amount(&g["revenue"])).collect();
        assert!(revenues.windows(2).all(|w| w[0] >= w[1]), "{top} ranked");
    }
    let territory = dashboard["top_territories"][0]["ids"][0].as_str().unwrap();
    assert_eq!(territory, territory.to_uppercase(), "{dashboard}");
    let (status, body) = call(
        &app,
        Method::GET,
        "/api/dashboard/?period_from=2020-13",
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A period without processed files: READY with no row, and says so.
    let empty = report(&app, &key, json!({"type": "monthly", "period": "1990-01"})).await;
    assert_eq!(
        (&empty["status"], &empty["rows"]),
        (&json!("READY"), &json!(0)),
        "{empty}"
    );
    assert!(
        empty["status_cause"].as_str().unwrap().contains("no row"),
        "{empty}"
    );
    let (header, rows) = rows_of(&app, empty["download_url"].as_str().unwrap()).await;
    assert!(rows.is_empty() && header.len() > 20, "{header:?}");

    // Bad requests name their field.
    for (body, field) in [
        (json!({"type": "weekly", "period": "2017-10"}), "type"),
        (json!({"type": "monthly", "period": "2017-13"}), "period"),
        (json!({"type": "monthly"}), "period"),
        (
            json!({"type": "monthly", "period_from": "2017-10", "period_to": "2017-01"}),
            "period_to",
        ),
        (
            json!({"type": "monthly", "period": "2017-10", "by": "week"}),
            "by",
        ),
    ] {
        let (status, answer) = call(
            &app,
            Method::POST,
            "/api/reports/",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["errors"][field].is_array(), "{body}: {answer}");
    }
    let (status, answer) = call(
        &app,
        Method::POST,
        "/api/reports/",
        &key,
        Some(json!({"type": "monthly", "period": "2017-10", "files": [999_999]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    // The list, newest first.
    let list = get(&app, &key, "/api/reports/").await;
    assert_eq!(list["count"], 6, "{list}");
    assert_eq!(list["results"][0]["id"], empty["id"], "{list}");

    // Another organisation sees none of it.
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::POST, "link/"),
        (Method::DELETE, ""),
    ] {
        let (status, body) = call(&app, method, &format!("{path}{suffix}"), &stranger, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{suffix}: {body}");
    }
    assert_eq!(get(&app, &stranger, "/api/reports/").await["count"], 0);
    let theirs = get(&app, &stranger, "/api/dashboard/").await;
    assert_eq!(
        (&theirs["total_revenue"], &theirs["files"]["processed"]),
        (&json!("0"), &json!(0)),
        "{theirs}"
    );

    // Deleted: the report, its file and its snapshot.
    let (status, _) = call(&app, Method::DELETE, &path, &key, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, Method::GET, &path, &key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.state.storage.head(&stored).await.unwrap(), None);
    use oas_platform::snapshots::SnapshotStore;
    assert_eq!(app.state.snapshots.report(id).await.unwrap(), None);
}

/// The messages about report `id` the requester was sent (through the
/// outbox, or the SMTP stand-in's maildir).
async fn mails_to_requester(app: &TestApp, id: i64) -> Vec<String> {
    let dir = app.state.settings.data_dir.join("outbox");
    let wanted = format!("/api/reports/{id}/link/");
    wait_until(Duration::from_secs(10), || async {
        let found: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .map(|m| {
                        m.replace("=\r\n", "")
                            .replace("=\n", "")
                            .replace("=3D", "=")
                    })
                    .filter(|m| m.contains(&wanted) && m.contains("report"))
                    .collect()
            })
            .unwrap_or_default();
        (!found.is_empty()).then_some(found)
    })
    .await
    .unwrap_or_default()
}

#[actix_web::test]
async fn reports_add_up_to_the_files_on_sqlite() {
    reports_add_up_to_the_files(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn reports_add_up_to_the_files_on_postgres() {
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .start()
        .await;
    reports_add_up_to_the_files(app).await;
}

/// The cloud topology: PostgreSQL, S3 (presigned links checked by
/// s3s-fs), completion events through SQS (moto), snapshots in MongoDB.
#[actix_web::test]
async fn reports_add_up_to_the_files_on_s3_sqs_and_mongodb() {
    let Some(mongo) = crate::support::stand_in("OAS_TEST_MONGODB_URI") else {
        return;
    };
    let Some(cloud) = super::cloud::cloud().await else {
        return;
    };
    let mut url = url::Url::parse(&mongo).unwrap();
    url.set_path(&format!("/oas_reports_{}", uuid::Uuid::new_v4().simple()));
    let app = cloud
        .builder
        .var("OAS_SNAPSHOTS_URL", url.as_str())
        .start()
        .await;
    reports_add_up_to_the_files(app).await;
}

/// A line counts in its own reporting month, even when the file's sales
/// are of earlier months; by sale month, in the month of its sale. Without
/// a catalog, every line is unmatched, and the dashboard says so.
#[actix_web::test]
async fn a_line_counts_in_its_own_reporting_month() {
    let (app, key, _) = app_with_rates().await;
    let csv = "reporting_period,sale_period,dsp,territory,artist,track_title,isrc,quantity,net_revenue,currency\n\
               2024-01,2023-11,Spotify,GB,Ana,One,GBAAA2400001,3,1.5,USD\n\
               2024-02,2023-12,Spotify,GB,Ana,Two,GBAAA2400002,2,2.25,USD\n\
               2024-01,2023-12,Spotify,FR,Bea,=Three,,1,-0.5,USD\n";
    let id =
        crate::support::files::submit_bytes(&app, &key, "standard.csv", "CSV", csv.into()).await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");

    let mut figures = Vec::new();
    for (period, by) in [
        ("2024-01", "reporting"),
        ("2024-02", "reporting"),
        ("2023-12", "sale"),
    ] {
        let monthly = report(
            &app,
            &key,
            json!({"type": "monthly", "period": period, "by": by}),
        )
        .await;
        assert_eq!(
            (&monthly["status"], &monthly["rows"]),
            (&json!("READY"), &json!(0)),
            "{monthly}"
        );
        let unmatched = report(
            &app,
            &key,
            json!({"type": "unmatched", "period": period, "by": by}),
        )
        .await;
        assert_eq!(unmatched["status"], "READY", "{unmatched}");
        let (_, rows) = rows_of(&app, unmatched["download_url"].as_str().unwrap()).await;
        check_cells(&rows);
        let titles: Vec<&str> = rows.iter().map(|r| r["track_title"].as_str()).collect();
        figures.push((
            titles.join("|"),
            amount(&unmatched["total_revenue"]).to_string(),
        ));
    }
    assert_eq!(
        figures,
        [
            ("One|'=Three".to_owned(), "1".to_owned()),
            ("Two".to_owned(), "2.25".to_owned()),
            ("Two|'=Three".to_owned(), "1.75".to_owned()),
        ]
    );

    // The dashboard of the file's month: all of it waits for a catalog.
    let month = file["reporting_period"].as_str().unwrap();
    let dashboard = get(
        &app,
        &key,
        &format!("/api/dashboard/?period_from={month}&period_to={month}"),
    )
    .await;
    assert_eq!(dashboard["total_revenue"], "3.25", "{dashboard}");
    assert_eq!(dashboard["unmatched"]["revenue"], "3.25", "{dashboard}");
    assert_eq!(dashboard["unmatched"]["share"], 1.0, "{dashboard}");

    // Months are written YYYY-MM, nothing looser.
    for bad in ["2024-1", "24-01", "+2024-01", "2024-13"] {
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/reports/",
            &key,
            Some(json!({"type": "monthly", "period": bad})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let (status, body) = call(
            &app,
            Method::GET,
            &format!("/api/dashboard/?period_from={bad}"),
            &key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}
