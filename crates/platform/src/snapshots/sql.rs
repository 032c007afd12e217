use chrono::Utc;
use oas_db::Database;
use oas_db::snapshots::{self, SnapshotHeaderRow, SnapshotRowRecord};
use oas_domain::money::Amount;

use super::{PeriodRevenue, by_period, merge_top};

use super::{
    Dimension, Snapshot, SnapshotError, SnapshotRow, SnapshotStore, SnapshotTotals, Summary,
    decimal, ranked,
};

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

fn store(e: oas_db::DbError) -> SnapshotError {
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

fn row_of(r: SnapshotRowRecord) -> Result<SnapshotRow, SnapshotError> {
    Ok(SnapshotRow {
        key: r.key,
        name: r.name,
        isrc: r.isrc,
        upc: r.upc,
        revenue: decimal(&r.revenue)?,
        base_revenue: decimal(&r.base_revenue)?,
        quantity: r.quantity,
    })
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
        let mut rows = Vec::new();
        for (dimension, group) in &snapshot.rows {
            for (position, row) in ranked(group).into_iter().enumerate() {
                rows.push(SnapshotRowRecord {
                    file_id: t.file_id,
                    organisation_id: t.organisation_id,
                    dimension: dimension.as_str().to_owned(),
                    position: i32::try_from(position)
                        .map_err(|e| SnapshotError::Store(e.to_string()))?,
                    key: row.key.clone(),
                    name: row.name.clone(),
                    isrc: row.isrc.clone(),
                    upc: row.upc.clone(),
                    revenue: row.revenue.to_string(),
                    base_revenue: row.base_revenue.to_string(),
                    quantity: row.quantity,
                });
            }
        }
        self.db
            .run(move |conn| snapshots::replace(conn, &header, &rows))
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
        let (records, total) = self
            .db
            .run(move |conn| snapshots::rows(conn, file_id, dimension.as_str(), offset, limit))
            .await
            .map_err(store)?;
        let rows = records
            .into_iter()
            .map(row_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
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
                    snapshots::distinct_keys(conn, organisation_id, Dimension::Artist.as_str())?,
                    snapshots::distinct_keys(conn, organisation_id, Dimension::Release.as_str())?,
                    snapshots::distinct_keys(conn, organisation_id, Dimension::Track.as_str())?,
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
            artists,
            releases,
            tracks,
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
        let records = self
            .db
            .run(move |conn| snapshots::rows_of(conn, organisation_id, dimension.as_str()))
            .await
            .map_err(store)?;
        let rows = records
            .into_iter()
            .map(row_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(merge_top(rows, limit))
    }
}
