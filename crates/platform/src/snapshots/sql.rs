//! Snapshots in the OAS database: a header per file, and each dimension's
//! groups in ranked pages of [`PAGE_ROWS`]. A page is one table row holding
//! its groups as a JSON array (amounts as exact decimal text) and their keys
//! as another, so a file of sixty thousand groups is written as about 130
//! rows, a page of the API reads one or two, and the organisation's
//! distinct counts read keys only. A group is written as an array, not an
//! object, and its base-currency revenue only where it differs from its
//! revenue: a page is about half the size it would be otherwise.

use std::collections::HashSet;

use chrono::Utc;
use oas_db::Database;
use oas_db::reports::ReportSnapshotRow;
use oas_db::snapshots::{self, SnapshotHeaderRow, SnapshotPage};
use oas_domain::money::Amount;
use serde::Deserialize;

use super::{LEADING, PeriodRevenue, ReportSnapshot, by_period, merge_top};

use super::{
    Dimension, Snapshot, SnapshotError, SnapshotRow, SnapshotStore, SnapshotTotals, Summary,
    decimal, ranked,
};

/// Groups per page.
pub const PAGE_ROWS: usize = 500;

/// Snapshots in the OAS database.
#[derive(Clone)]
pub struct SqlSnapshots {
    db: Database,
}

impl SqlSnapshots {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn store(e: impl std::fmt::Display) -> SnapshotError {
    SnapshotError::Store(e.to_string())
}

fn totals_of(row: SnapshotHeaderRow) -> Result<SnapshotTotals, SnapshotError> {
    Ok(SnapshotTotals {
        file_id: row.file_id,
        organisation_id: row.organisation_id,
        currency: row.currency,
        base_currency: row.base_currency,
        period: row.period,
        lines: row.lines,
        revenue: decimal(&row.revenue)?,
        base_revenue: decimal(&row.base_revenue)?,
        quantity: row.quantity,
    })
}

/// A group as a page stores it: `[key, name, isrc, upc, revenue,
/// base_revenue, quantity]`, the base-currency revenue `null` where it is
/// the revenue. Pages written before held an object per group.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredRow {
    Listed(
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        i64,
    ),
    Named {
        key: String,
        name: String,
        isrc: Option<String>,
        upc: Option<String>,
        revenue: String,
        base_revenue: String,
        quantity: i64,
    },
}

/// A group as a page writes it ([`StoredRow::Listed`]).
type ListedRow<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a Amount,
    Option<&'a Amount>,
    i64,
);

fn listed(row: &SnapshotRow) -> ListedRow<'_> {
    (
        &row.key,
        &row.name,
        row.isrc.as_deref(),
        row.upc.as_deref(),
        &row.revenue,
        (row.base_revenue != row.revenue).then_some(&row.base_revenue),
        row.quantity,
    )
}

/// The rows of a page's body.
fn rows_of(body: &str) -> Result<Vec<SnapshotRow>, SnapshotError> {
    let stored: Vec<StoredRow> =
        serde_json::from_str(body).map_err(|e| SnapshotError::Corrupt(e.to_string()))?;
    read_rows(stored)
}

/// The first `n` rows of a page's body; the others are skipped unread.
fn leading_rows_of(body: &str, n: usize) -> Result<Vec<SnapshotRow>, SnapshotError> {
    struct Leading(usize);
    impl<'de> serde::de::DeserializeSeed<'de> for Leading {
        type Value = Vec<StoredRow>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> serde::de::Visitor<'de> for Leading {
        type Value = Vec<StoredRow>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a page of groups")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut rows = Vec::with_capacity(self.0);
            while rows.len() < self.0 {
                match seq.next_element::<StoredRow>()? {
                    Some(row) => rows.push(row),
                    None => return Ok(rows),
                }
            }
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(rows)
        }
    }
    let mut json = serde_json::Deserializer::from_str(body);
    let stored = serde::de::DeserializeSeed::deserialize(Leading(n), &mut json)
        .map_err(|e| SnapshotError::Corrupt(e.to_string()))?;
    read_rows(stored)
}

fn read_rows(stored: Vec<StoredRow>) -> Result<Vec<SnapshotRow>, SnapshotError> {
    stored
        .into_iter()
        .map(|row| {
            let (key, name, isrc, upc, revenue, base_revenue, quantity) = match row {
                StoredRow::Listed(key, name, isrc, upc, revenue, base, quantity) => {
                    (key, name, isrc, upc, revenue, base, quantity)
                }
                StoredRow::Named {
                    key,
                    name,
                    isrc,
                    upc,
                    revenue,
                    base_revenue,
                    quantity,
                } => (key, name, isrc, upc, revenue, Some(base_revenue), quantity),
            };
            let revenue = decimal(&revenue)?;
            Ok(SnapshotRow {
                key,
                name,
                isrc,
                upc,
                base_revenue: match base_revenue {
                    Some(base) => decimal(&base)?,
                    None => revenue,
                },
                revenue,
                quantity,
            })
        })
        .collect()
}

/// The snapshot's pages: each dimension's rows ranked, [`PAGE_ROWS`] to a
/// page. Dimensions are ranked, and pages written as JSON, on every core:
/// a file's tens of thousands of tracks are most of an import's last,
/// otherwise single-threaded, step.
fn pages_of(snapshot: &Snapshot) -> Result<Vec<SnapshotPage>, SnapshotError> {
    let t = &snapshot.totals;
    let rankings: Vec<(Dimension, Vec<&SnapshotRow>)> = std::thread::scope(|scope| {
        let ranking = snapshot
            .rows
            .iter()
            .map(|(dimension, rows)| (*dimension, scope.spawn(|| ranked(rows))))
            .collect::<Vec<_>>();
        ranking
            .into_iter()
            .map(|(dimension, handle)| handle.join().map(|ranked| (dimension, ranked)))
            .collect::<Result<_, _>>()
    })
    .map_err(|_| store("ranking the snapshot's groups failed"))?;
    // Every page of every dimension, in order.
    let pieces: Vec<(Dimension, usize, &[&SnapshotRow])> = rankings
        .iter()
        .flat_map(|(dimension, ranked)| {
            ranked
                .chunks(PAGE_ROWS)
                .enumerate()
                .map(|(page, rows)| (*dimension, page, rows))
        })
        .collect();
    let page = |&(dimension, page, rows): &(Dimension, usize, &[&SnapshotRow])| {
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        Ok(SnapshotPage {
            file_id: t.file_id,
            organisation_id: t.organisation_id,
            dimension: dimension.as_str().to_owned(),
            page: i32::try_from(page).map_err(store)?,
            row_count: i32::try_from(rows.len()).map_err(store)?,
            keys: serde_json::to_string(&keys).map_err(store)?,
            body: serde_json::to_string(&rows.iter().map(|r| listed(r)).collect::<Vec<_>>())
                .map_err(store)?,
        })
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let share = pieces.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let parts = pieces
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(page).collect::<Vec<_>>()))
            .collect::<Vec<_>>();
        let mut pages = Vec::with_capacity(pieces.len());
        for part in parts {
            let written = part
                .join()
                .map_err(|_| store("writing the snapshot's pages failed"))?;
            for page in written {
                pages.push(page?);
            }
        }
        Ok(pages)
    })
}

/// Which pages hold rows `offset..offset + limit` of a ranking whose pages
/// hold `sizes` rows (page number, rows, in order): the first and last
/// page, and how many rows of the first to skip.
fn span(sizes: &[(i32, i32)], offset: i64, limit: i64) -> Option<(i32, i32, usize)> {
    let end = offset.checked_add(limit)?;
    let mut start = 0_i64;
    let mut first = None;
    for &(page, count) in sizes {
        let next = start + i64::from(count);
        if first.is_none() && offset < next {
            first = Some((page, usize::try_from(offset - start).ok()?));
        }
        if let Some((first_page, skip)) = first
            && end <= next
        {
            return Some((first_page, page, skip));
        }
        start = next;
    }
    let (first_page, skip) = first?;
    Some((first_page, sizes.last()?.0, skip))
}

impl SnapshotStore for SqlSnapshots {
    async fn save(&self, snapshot: &Snapshot) -> Result<(), SnapshotError> {
        let t = &snapshot.totals;
        let header = SnapshotHeaderRow {
            file_id: t.file_id,
            organisation_id: t.organisation_id,
            currency: t.currency.clone(),
            base_currency: t.base_currency.clone(),
            period: t.period.clone(),
            lines: t.lines,
            revenue: t.revenue.to_string(),
            base_revenue: t.base_revenue.to_string(),
            quantity: t.quantity,
            created_at: Utc::now().naive_utc(),
        };
        let pages = pages_of(snapshot)?;
        self.db
            .run(move |conn| snapshots::replace(conn, &header, &pages))
            .await
            .map_err(store)
    }

    async fn totals(&self, file_id: i64) -> Result<Option<SnapshotTotals>, SnapshotError> {
        let header = self
            .db
            .run(move |conn| snapshots::header(conn, file_id))
            .await
            .map_err(store)?;
        header.map(totals_of).transpose()
    }

    async fn rows(
        &self,
        file_id: i64,
        dimension: Dimension,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<SnapshotRow>, i64), SnapshotError> {
        let (offset, limit) = (offset.max(0), limit.max(0));
        let (total, skip, bodies) = self
            .db
            .run(move |conn| {
                // Two reads: the pages' sizes, then the pages needed. A
                // snapshot replaced in between (a reimport) shows as pages
                // whose sizes differ from the first read's; read again.
                for _ in 0..3 {
                    let sizes = snapshots::page_sizes(conn, file_id, dimension.as_str())?;
                    let total = sizes
                        .iter()
                        .map(|&(_, count)| i64::from(count))
                        .sum::<i64>();
                    let Some((first, last, skip)) =
                        span(&sizes, offset, limit).filter(|_| limit > 0)
                    else {
                        return Ok((total, 0, Vec::new()));
                    };
                    let pages =
                        snapshots::page_bodies(conn, file_id, dimension.as_str(), first, last)?;
                    let expected = sizes
                        .iter()
                        .filter(|(page, _)| (first..=last).contains(page));
                    let read = pages.iter().map(|(page, count, _)| (page, count));
                    if read.eq(expected.map(|(page, count)| (page, count))) {
                        let bodies = pages.into_iter().map(|(_, _, body)| body).collect();
                        return Ok((total, skip, bodies));
                    }
                }
                Err(oas_db::DbError::Unavailable(
                    "the snapshot kept changing while it was read".into(),
                ))
            })
            .await
            .map_err(store)?;
        let mut rows = Vec::new();
        for body in &bodies {
            rows.extend(rows_of(body)?);
        }
        let page = rows
            .into_iter()
            .skip(skip)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        Ok((page, total))
    }

    async fn delete(&self, file_id: i64) -> Result<(), SnapshotError> {
        self.db
            .run(move |conn| snapshots::delete(conn, file_id))
            .await
            .map_err(store)
    }

    async fn summary(&self, organisation_id: i64) -> Result<Summary, SnapshotError> {
        let (headers, artists, releases, tracks) = self
            .db
            .run(move |conn| {
                Ok((
                    snapshots::headers_of(conn, organisation_id)?,
                    snapshots::keys_of(conn, organisation_id, Dimension::Artist.as_str())?,
                    snapshots::keys_of(conn, organisation_id, Dimension::Release.as_str())?,
                    snapshots::keys_of(conn, organisation_id, Dimension::Track.as_str())?,
                ))
            })
            .await
            .map_err(store)?;
        let mut total_gross = Amount::ZERO;
        for header in &headers {
            total_gross += decimal(&header.base_revenue)?;
        }
        Ok(Summary {
            files: headers.len() as i64,
            artists: distinct(&artists)?,
            releases: distinct(&releases)?,
            tracks: distinct(&tracks)?,
            total_gross,
        })
    }

    async fn revenue_by_period(
        &self,
        organisation_id: i64,
    ) -> Result<Vec<PeriodRevenue>, SnapshotError> {
        let headers = self
            .db
            .run(move |conn| snapshots::headers_of(conn, organisation_id))
            .await
            .map_err(store)?;
        let totals = headers
            .into_iter()
            .map(totals_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(by_period(&totals))
    }

    async fn top(
        &self,
        organisation_id: i64,
        dimension: Dimension,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, SnapshotError> {
        let bodies = self
            .db
            .run(move |conn| snapshots::bodies_of(conn, organisation_id, dimension.as_str()))
            .await
            .map_err(store)?;
        let mut rows = Vec::new();
        for body in &bodies {
            rows.extend(rows_of(body)?);
        }
        Ok(merge_top(rows, limit))
    }

    async fn totals_of(&self, files: &[i64]) -> Result<Vec<SnapshotTotals>, SnapshotError> {
        let files = files.to_vec();
        self.db
            .run(move |conn| snapshots::headers_of_files(conn, &files))
            .await
            .map_err(store)?
            .into_iter()
            .map(totals_of)
            .collect()
    }

    async fn top_of(
        &self,
        files: &[i64],
        dimension: Dimension,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, SnapshotError> {
        let files = files.to_vec();
        let pages = i32::try_from(LEADING.div_ceil(PAGE_ROWS)).unwrap_or(1);
        let bodies = self
            .db
            .run(move |conn| snapshots::leading_bodies(conn, &files, dimension.as_str(), pages))
            .await
            .map_err(store)?;
        let mut rows = Vec::new();
        for (page, body) in &bodies {
            let wanted = LEADING.saturating_sub(usize::try_from(*page).unwrap_or(0) * PAGE_ROWS);
            rows.extend(leading_rows_of(body, wanted)?);
        }
        Ok(merge_top(rows, limit))
    }

    async fn save_report(&self, snapshot: &ReportSnapshot) -> Result<(), SnapshotError> {
        let row = ReportSnapshotRow {
            report_id: snapshot.report_id,
            organisation_id: snapshot.organisation_id,
            body: serde_json::to_string(snapshot).map_err(store)?,
            created_at: Utc::now().naive_utc(),
        };
        self.db
            .run(move |conn| ReportSnapshotRow::replace(conn, &row))
            .await
            .map_err(store)
    }

    async fn report(&self, report_id: i64) -> Result<Option<ReportSnapshot>, SnapshotError> {
        let row = self
            .db
            .run(move |conn| ReportSnapshotRow::find(conn, report_id))
            .await
            .map_err(store)?;
        row.map(|r| {
            serde_json::from_str(&r.body).map_err(|e| SnapshotError::Corrupt(e.to_string()))
        })
        .transpose()
    }

    async fn delete_report(&self, report_id: i64) -> Result<(), SnapshotError> {
        self.db
            .run(move |conn| ReportSnapshotRow::delete(conn, report_id))
            .await
            .map_err(store)
    }
}

/// How many distinct keys pages' key lists hold.
fn distinct(pages: &[String]) -> Result<i64, SnapshotError> {
    let mut keys = HashSet::new();
    for page in pages {
        let page: Vec<String> =
            serde_json::from_str(page).map_err(|e| SnapshotError::Corrupt(e.to_string()))?;
        keys.extend(page);
    }
    Ok(keys.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, revenue: &str, base: &str) -> SnapshotRow {
        SnapshotRow {
            key: key.to_owned(),
            name: format!("Name of {key}"),
            isrc: Some(key.to_owned()),
            upc: None,
            revenue: Amount::parse(revenue).unwrap(),
            base_revenue: Amount::parse(base).unwrap(),
            quantity: 3,
        }
    }

    #[test]
    fn pages_hold_groups_as_arrays_with_a_base_revenue_only_where_it_differs() {
        let rows = vec![
            row(
                "GBAYE0000001",
                "0.1234567890123456789012345678901",
                "0.1234567890123456789012345678901",
            ),
            row("GBAYE0000002", "2.5", "2.2125"),
        ];
        let snapshot = Snapshot {
            totals: SnapshotTotals {
                file_id: 1,
                organisation_id: 1,
                currency: "GBP".into(),
                base_currency: "USD".into(),
                period: None,
                lines: 2,
                revenue: Amount::parse("2.6234567890123456789012345678901").unwrap(),
                base_revenue: Amount::parse("2.3359567890123456789012345678901").unwrap(),
                quantity: 6,
            },
            rows: [(Dimension::Track, rows.clone())].into(),
        };
        let pages = pages_of(&snapshot).unwrap();
        assert_eq!(pages.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&pages[0].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!([
                [
                    "GBAYE0000002",
                    "Name of GBAYE0000002",
                    "GBAYE0000002",
                    null,
                    "2.5",
                    "2.2125",
                    3
                ],
                [
                    "GBAYE0000001",
                    "Name of GBAYE0000001",
                    "GBAYE0000001",
                    null,
                    "0.1234567890123456789012345678901",
                    null,
                    3
                ],
            ]),
            "ranked by base revenue; the base revenue left out where it is the revenue"
        );
        let read = rows_of(&pages[0].body).unwrap();
        assert_eq!(read, vec![rows[1].clone(), rows[0].clone()]);
        // A page written with an object per group reads the same.
        let named = serde_json::to_string(&vec![&rows[1], &rows[0]]).unwrap();
        assert_eq!(rows_of(&named).unwrap(), read);
    }

    #[test]
    fn a_span_covers_the_pages_of_the_rows_asked_for() {
        let sizes = [(0, 500), (1, 500), (2, 7)];
        assert_eq!(span(&sizes, 0, 3), Some((0, 0, 0)));
        assert_eq!(span(&sizes, 499, 2), Some((0, 1, 499)));
        assert_eq!(span(&sizes, 500, 500), Some((1, 1, 0)));
        assert_eq!(span(&sizes, 998, 100), Some((1, 2, 498)));
        assert_eq!(span(&sizes, 1006, 1), Some((2, 2, 6)));
        assert_eq!(span(&sizes, 1007, 10), None, "past the last row");
        assert_eq!(span(&[], 0, 10), None);
        assert_eq!(span(&sizes, i64::MAX, 10), None);
    }
}
