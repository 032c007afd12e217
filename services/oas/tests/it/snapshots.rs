//! The snapshot store's conformance suite: the SQL store on both engines
//! and MongoDB (`OAS_TEST_MONGODB_URI`, a SecantusDB server the test script
//! starts).

use std::collections::BTreeMap;

use oas_db::testing::{TestDatabase, backends};
use oas_db::{Database, PoolSettings};
use oas_domain::money::Amount;
use oas_platform::snapshots::MongoSnapshots;
use oas_platform::snapshots::{
    Dimension, ReportGroups, ReportSnapshot, Snapshot, SnapshotRow, SnapshotStore, SnapshotTotals,
    SqlSnapshots,
};

fn d(text: &str) -> Amount {
    text.parse().unwrap()
}

fn row(key: &str, revenue: &str, quantity: i64) -> SnapshotRow {
    SnapshotRow {
        key: key.to_owned(),
        name: key.to_uppercase(),
        isrc: key.starts_with("isrc").then(|| key.to_uppercase()),
        upc: None,
        revenue: d(revenue),
        base_revenue: d(revenue)
            .convert(rust_decimal::Decimal::new(5, 1))
            .unwrap(),
        quantity,
    }
}

fn snapshot(file_id: i64, organisation_id: i64, artists: &[(&str, &str)]) -> Snapshot {
    let artist_rows: Vec<SnapshotRow> = artists.iter().map(|(k, r)| row(k, r, 10)).collect();
    let revenue: Amount = artist_rows.iter().map(|r| r.revenue).sum();
    let mut rows = BTreeMap::new();
    rows.insert(Dimension::Artist, artist_rows);
    rows.insert(
        Dimension::Track,
        vec![
            row("isrc-gb-1", "1.5", 3),
            row(&format!("isrc-f{file_id}"), "0.25", 1),
        ],
    );
    rows.insert(Dimension::Release, vec![row("upc-1", "1.75", 4)]);
    Snapshot {
        totals: SnapshotTotals {
            file_id,
            organisation_id,
            currency: "EUR".into(),
            base_currency: "USD".into(),
            period: Some(format!("2024-{:02}", 1 + file_id % 2)),
            lines: 42,
            revenue,
            base_revenue: revenue.convert(rust_decimal::Decimal::new(5, 1)).unwrap(),
            quantity: 30,
        },
        rows,
    }
}

async fn conformance(store: &impl SnapshotStore) {
    // Amounts keep every digit: 0.000000000000012345 is not rounded away.
    let first = snapshot(
        1,
        7,
        &[
            ("ana", "10.000000000000012345"),
            ("bea", "250.5"),
            ("cai", "0.01"),
        ],
    );
    store.save(&first).await.unwrap();
    assert_eq!(store.totals(1).await.unwrap().unwrap(), first.totals);
    let (top, total) = store.rows(1, Dimension::Artist, 0, 2).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(
        top.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["bea", "ana"],
        "highest revenue first"
    );
    assert_eq!(top[1].revenue, d("10.000000000000012345"));
    let (rest, _) = store.rows(1, Dimension::Artist, 2, 2).await.unwrap();
    assert_eq!(
        rest.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["cai"]
    );
    assert_eq!(
        store.rows(1, Dimension::Dsp, 0, 10).await.unwrap(),
        (vec![], 0)
    );

    // Saving again replaces; nothing of the earlier snapshot stays.
    let replaced = snapshot(1, 7, &[("dan", "5")]);
    store.save(&replaced).await.unwrap();
    let (artists, total) = store.rows(1, Dimension::Artist, 0, 10).await.unwrap();
    assert_eq!(
        (artists.len(), total, artists[0].key.as_str()),
        (1, 1, "dan")
    );

    store
        .save(&snapshot(2, 7, &[("dan", "7"), ("eve", "1")]))
        .await
        .unwrap();
    store
        .save(&snapshot(3, 8, &[("zed", "1000")]))
        .await
        .unwrap();
    let summary = store.summary(7).await.unwrap();
    assert_eq!(
        (
            summary.files,
            summary.artists,
            summary.releases,
            summary.tracks
        ),
        (2, 2, 1, 3)
    );
    assert_eq!(
        summary.total_gross,
        d("6.5"),
        "2.5 + 4, in the base currency"
    );

    // Merged across files: dan sums over files 1 and 2 (2.5 + 3.5 in base).
    let top = store.top(7, Dimension::Artist, 2).await.unwrap();
    assert_eq!(
        top.iter()
            .map(|r| (r.key.as_str(), r.base_revenue))
            .collect::<Vec<_>>(),
        [("dan", d("6")), ("eve", d("0.5"))]
    );
    assert_eq!(top[0].quantity, 20);
    let months = store.revenue_by_period(7).await.unwrap();
    assert_eq!(
        months
            .iter()
            .map(|m| (m.period.as_str(), m.base_revenue))
            .collect::<Vec<_>>(),
        [("2024-01", d("4")), ("2024-02", d("2.5"))],
        "file 2 in January, file 1 in February"
    );

    // The same, for files named: what the dashboard reads.
    let mut named = store.totals_of(&[2, 1, 99]).await.unwrap();
    named.sort_by_key(|t| t.file_id);
    assert_eq!(
        named.iter().map(|t| t.file_id).collect::<Vec<_>>(),
        [1, 2],
        "headers of the files that have one"
    );
    assert_eq!(
        store.top_of(&[1, 2], Dimension::Artist, 2).await.unwrap(),
        top
    );
    let alone = store.top_of(&[2], Dimension::Artist, 10).await.unwrap();
    assert_eq!(
        alone
            .iter()
            .map(|r| (r.key.as_str(), r.base_revenue))
            .collect::<Vec<_>>(),
        [("dan", d("3.5")), ("eve", d("0.5"))]
    );
    assert!(
        store
            .top_of(&[], Dimension::Artist, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A report's snapshot: saved whole, replaced, deleted.
    let report = ReportSnapshot {
        report_id: 5,
        organisation_id: 7,
        currency: Some("USD".into()),
        lines: 3,
        revenue: d("0.000000000000000001"),
        quantity: 9,
        groups: BTreeMap::from([(
            Dimension::Track,
            ReportGroups {
                count: 250,
                top: vec![row("isrc-gb-1", "1.5", 3)],
            },
        )]),
    };
    assert_eq!(store.report(5).await.unwrap(), None);
    store.save_report(&report).await.unwrap();
    assert_eq!(store.report(5).await.unwrap().as_ref(), Some(&report));
    let again = ReportSnapshot {
        lines: 4,
        ..report.clone()
    };
    store.save_report(&again).await.unwrap();
    assert_eq!(store.report(5).await.unwrap().unwrap().lines, 4);
    store.delete_report(5).await.unwrap();
    assert_eq!(store.report(5).await.unwrap(), None);

    store.delete(1).await.unwrap();
    assert_eq!(store.totals(1).await.unwrap(), None);
    assert_eq!(store.rows(1, Dimension::Artist, 0, 10).await.unwrap().1, 0);
    assert_eq!(store.summary(7).await.unwrap().files, 1);
    assert_eq!(
        store.summary(8).await.unwrap().artists,
        1,
        "other organisations are untouched"
    );
}

/// A file with a hundred thousand tracks is stored and paged like any other.
async fn large(store: &impl SnapshotStore) {
    let tracks: Vec<SnapshotRow> = (0..100_000)
        .map(|i| row(&format!("isrc-{i:06}"), &format!("{i}.01"), 1))
        .collect();
    let mut big = snapshot(10, 9, &[("ana", "1")]);
    big.rows.insert(Dimension::Track, tracks);
    store.save(&big).await.unwrap();
    let (page, total) = store.rows(10, Dimension::Track, 0, 3).await.unwrap();
    assert_eq!(total, 100_000);
    assert_eq!(page[0].key, "isrc-099999");
    assert_eq!(page[0].revenue, d("99999.01"));
    // Pages of rows across the stores' own boundaries, and the very end.
    for (offset, limit) in [(499, 3), (998, 505), (99_990, 50), (100_000, 5)] {
        let (page, total) = store
            .rows(10, Dimension::Track, offset, limit)
            .await
            .unwrap();
        assert_eq!(total, 100_000);
        let expected: Vec<String> = (offset..(offset + limit).min(100_000))
            .map(|at| format!("isrc-{:06}", 99_999 - at))
            .collect();
        let keys: Vec<&str> = page.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, expected, "rows {offset}.. ({limit})");
    }
    assert_eq!(store.summary(9).await.unwrap().tracks, 100_000);
    // The dashboard's top lists read each file's leading groups only.
    let top = store.top_of(&[10], Dimension::Track, 3).await.unwrap();
    assert_eq!(
        top.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["isrc-099999", "isrc-099998", "isrc-099997"]
    );
    store.delete(10).await.unwrap();
}

#[actix_web::test]
async fn the_sql_store_passes_the_suite_on_every_backend() {
    for backend in backends() {
        let test_db = TestDatabase::new(backend).unwrap();
        let db = Database::new(test_db.url(), PoolSettings::default()).unwrap();
        db.migrate().await.unwrap();
        let store = SqlSnapshots::new(db);
        conformance(&store).await;
        large(&store).await;
    }
}

/// MongoDB, in a database of its own for this run.
#[actix_web::test]
async fn the_mongodb_store_passes_the_suite_where_configured() {
    let Some(uri) = crate::support::stand_in("OAS_TEST_MONGODB_URI") else {
        return;
    };
    let mut url = url::Url::parse(&uri).expect("OAS_TEST_MONGODB_URI is a URI");
    url.set_path(&format!("/oas_test_{}", uuid::Uuid::new_v4().simple()));
    let store = MongoSnapshots::connect(url.as_str()).await.unwrap();
    conformance(&store).await;
    large(&store).await;
}

#[derive(diesel::QueryableByName)]
struct StoredKey {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
}

/// The track keys of file 5 in the row-per-group table the pages replaced,
/// in their stored order.
fn keys_in_rows(url: &oas_db::DatabaseUrl) -> Vec<String> {
    use diesel::RunQueryDsl;
    let query = diesel::sql_query(
        "SELECT key FROM snapshot_rows WHERE file_id = 5 AND dimension = 'track' ORDER BY position",
    );
    let keys: Vec<StoredKey> = match oas_db::DbConnection::open(url).unwrap() {
        oas_db::DbConnection::Postgres(mut pg) => query.load(&mut pg).unwrap(),
        oas_db::DbConnection::Sqlite(mut lite) => query.load(&mut lite).unwrap(),
    };
    keys.into_iter().map(|k| k.key).collect()
}

/// How the first track page of file 5 begins: `[[` for groups stored as
/// arrays, `[{` as objects.
fn first_groups(url: &oas_db::DatabaseUrl) -> String {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Body {
        #[diesel(sql_type = diesel::sql_types::Text)]
        body: String,
    }
    let query = diesel::sql_query(
        "SELECT body FROM snapshot_pages WHERE file_id = 5 AND dimension = 'track' AND page = 0",
    );
    let bodies: Vec<Body> = match oas_db::DbConnection::open(url).unwrap() {
        oas_db::DbConnection::Postgres(mut pg) => query.load(&mut pg).unwrap(),
        oas_db::DbConnection::Sqlite(mut lite) => query.load(&mut lite).unwrap(),
    };
    bodies[0].body.chars().take(2).collect()
}

/// Snapshots stored before their rows were paged survive the migration,
/// and a rollback: reverted, every row is back in its place; migrated
/// again, the store reads what it read before.
#[actix_web::test]
async fn stored_snapshots_survive_the_paging_migration_both_ways() {
    for backend in backends() {
        let test_db = TestDatabase::new(backend).unwrap();
        let db = Database::new(test_db.url(), PoolSettings::default()).unwrap();
        db.migrate().await.unwrap();
        let store = SqlSnapshots::new(db.clone());
        let mut saved = snapshot(5, 3, &[("ana", "1"), ("bea", "2")]);
        // Every other group converted: its base-currency revenue differs.
        let tracks: Vec<SnapshotRow> = (0..1203)
            .map(|i| {
                let mut row = row(&format!("isrc-{i:04}"), &format!("{i}.5"), i);
                if i % 2 == 0 {
                    row.base_revenue = row.revenue;
                }
                row
            })
            .collect();
        saved.rows.insert(Dimension::Track, tracks);
        store.save(&saved).await.unwrap();
        let (before, total) = store.rows(5, Dimension::Track, 0, 2000).await.unwrap();
        assert_eq!(total, 1203);
        let summary = store.summary(3).await.unwrap();
        db.close();
        assert_eq!(first_groups(test_db.url()), "[[", "groups stored as arrays");

        oas_db::testing::revert_migrations_to(test_db.url(), "2026-11-25-000001");
        let keys = keys_in_rows(test_db.url());
        assert_eq!(
            keys,
            before.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
            "one row per group, in ranking order"
        );

        let db = Database::new(test_db.url(), PoolSettings::default()).unwrap();
        db.migrate().await.unwrap();
        let store = SqlSnapshots::new(db);
        let (after, total) = store.rows(5, Dimension::Track, 0, 2000).await.unwrap();
        assert_eq!(total, 1203);
        assert_eq!(after, before, "every row as it was, in the same order");
        assert_eq!(first_groups(test_db.url()), "[[", "stored as arrays again");
        assert_eq!(store.summary(3).await.unwrap(), summary);
        let (page, _) = store.rows(5, Dimension::Track, 499, 2).await.unwrap();
        assert_eq!(
            page,
            before[499..501],
            "pages of 500, as the store writes them"
        );
    }
}
