//! Snapshots in MongoDB. `snapshots` holds one header document per file;
//! `snapshot_rows` one document per group row, so no document grows with
//! the file. A file's rows are replaced by generation, without needing
//! multi-document transactions (which need a replica set): the new rows are
//! written under a new generation, the header switches to it, then the old
//! generation is removed. Readers follow the header's generation, so they
//! never see a mix.

use futures_util::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Client, Collection, IndexModel};
use oas_domain::money::Amount;

use super::{LEADING, PeriodRevenue, ReportSnapshot, by_period, merge_top};
use serde::{Deserialize, Serialize};

use super::{
    Dimension, Snapshot, SnapshotError, SnapshotRow, SnapshotStore, SnapshotTotals, Summary,
    decimal, ranked,
};

/// Rows per `insertMany`.
const BATCH: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HeaderDoc {
    file_id: i64,
    organisation_id: i64,
    generation: String,
    currency: String,
    base_currency: String,
    #[serde(default)]
    period: Option<String>,
    lines: i64,
    revenue: String,
    base_revenue: String,
    quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RowDoc {
    file_id: i64,
    organisation_id: i64,
    generation: String,
    dimension: String,
    position: i64,
    key: String,
    name: String,
    isrc: Option<String>,
    upc: Option<String>,
    revenue: String,
    base_revenue: String,
    quantity: i64,
}

/// A report's snapshot: one document, its body the snapshot as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReportDoc {
    report_id: i64,
    organisation_id: i64,
    body: String,
}

#[derive(Clone)]
pub struct MongoSnapshots {
    headers: Collection<HeaderDoc>,
    rows: Collection<RowDoc>,
    reports: Collection<ReportDoc>,
}

fn store_text(e: &impl std::fmt::Display) -> SnapshotError {
    SnapshotError::Store(e.to_string())
}

fn store(e: mongodb::error::Error) -> SnapshotError {
    SnapshotError::Store(e.to_string())
}

impl MongoSnapshots {
    /// Connects to the URI's database (`mongodb://host/oas`; `oas` when the
    /// URI names none) and creates the indexes.
    pub async fn connect(uri: &str) -> Result<Self, SnapshotError> {
        let client = Client::with_uri_str(uri).await.map_err(store)?;
        let database = client
            .default_database()
            .unwrap_or_else(|| client.database("oas"));
        let this = Self {
            headers: database.collection("snapshots"),
            rows: database.collection("snapshot_rows"),
            reports: database.collection("report_snapshots"),
        };
        this.create_indexes().await?;
        Ok(this)
    }

    async fn create_indexes(&self) -> Result<(), SnapshotError> {
        let unique = IndexOptions::builder().unique(true).build();
        self.headers
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"file_id": 1})
                    .options(unique)
                    .build(),
            )
            .await
            .map_err(store)?;
        self.headers
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"organisation_id": 1})
                    .build(),
            )
            .await
            .map_err(store)?;
        self.rows
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"file_id": 1, "generation": 1, "dimension": 1, "position": 1})
                    .build(),
            )
            .await
            .map_err(store)?;
        self.rows
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"organisation_id": 1, "dimension": 1, "key": 1})
                    .build(),
            )
            .await
            .map_err(store)?;
        self.reports
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"report_id": 1})
                    .options(IndexOptions::builder().unique(true).build())
                    .build(),
            )
            .await
            .map_err(store)?;
        Ok(())
    }

    async fn headers_of(&self, organisation_id: i64) -> Result<Vec<HeaderDoc>, SnapshotError> {
        self.headers
            .find(doc! {"organisation_id": organisation_id})
            .await
            .map_err(store)?
            .try_collect()
            .await
            .map_err(store)
    }

    async fn header(&self, file_id: i64) -> Result<Option<HeaderDoc>, SnapshotError> {
        self.headers
            .find_one(doc! {"file_id": file_id})
            .await
            .map_err(store)
    }
}

fn row_of(r: RowDoc) -> Result<SnapshotRow, SnapshotError> {
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

fn totals_of(h: HeaderDoc) -> Result<SnapshotTotals, SnapshotError> {
    Ok(SnapshotTotals {
        file_id: h.file_id,
        organisation_id: h.organisation_id,
        currency: h.currency,
        base_currency: h.base_currency,
        period: h.period,
        lines: h.lines,
        revenue: decimal(&h.revenue)?,
        base_revenue: decimal(&h.base_revenue)?,
        quantity: h.quantity,
    })
}

impl SnapshotStore for MongoSnapshots {
    async fn save(&self, snapshot: &Snapshot) -> Result<(), SnapshotError> {
        let t = &snapshot.totals;
        let generation = uuid::Uuid::new_v4().simple().to_string();
        let mut batch = Vec::with_capacity(BATCH);
        for (dimension, group) in &snapshot.rows {
            for (position, row) in ranked(group).into_iter().enumerate() {
                batch.push(RowDoc {
                    file_id: t.file_id,
                    organisation_id: t.organisation_id,
                    generation: generation.clone(),
                    dimension: dimension.as_str().to_owned(),
                    position: position as i64,
                    key: row.key.clone(),
                    name: row.name.clone(),
                    isrc: row.isrc.clone(),
                    upc: row.upc.clone(),
                    revenue: row.revenue.to_string(),
                    base_revenue: row.base_revenue.to_string(),
                    quantity: row.quantity,
                });
                if batch.len() == BATCH {
                    self.rows
                        .insert_many(std::mem::take(&mut batch))
                        .await
                        .map_err(store)?;
                }
            }
        }
        if !batch.is_empty() {
            self.rows.insert_many(batch).await.map_err(store)?;
        }
        let header = HeaderDoc {
            file_id: t.file_id,
            organisation_id: t.organisation_id,
            generation: generation.clone(),
            currency: t.currency.clone(),
            base_currency: t.base_currency.clone(),
            period: t.period.clone(),
            lines: t.lines,
            revenue: t.revenue.to_string(),
            base_revenue: t.base_revenue.to_string(),
            quantity: t.quantity,
        };
        self.headers
            .replace_one(doc! {"file_id": t.file_id}, header)
            .upsert(true)
            .await
            .map_err(store)?;
        self.rows
            .delete_many(doc! {"file_id": t.file_id, "generation": {"$ne": &generation}})
            .await
            .map_err(store)?;
        Ok(())
    }

    async fn totals(&self, file_id: i64) -> Result<Option<SnapshotTotals>, SnapshotError> {
        let Some(h) = self.header(file_id).await? else {
            return Ok(None);
        };
        Ok(Some(totals_of(h)?))
    }

    async fn rows(
        &self,
        file_id: i64,
        dimension: Dimension,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<SnapshotRow>, i64), SnapshotError> {
        let Some(header) = self.header(file_id).await? else {
            return Ok((Vec::new(), 0));
        };
        let filter: Document = doc! {"file_id": file_id, "generation": &header.generation, "dimension": dimension.as_str()};
        let total = self
            .rows
            .count_documents(filter.clone())
            .await
            .map_err(store)? as i64;
        let docs: Vec<RowDoc> = self
            .rows
            .find(filter)
            .sort(doc! {"position": 1})
            .skip(offset.max(0) as u64)
            .limit(limit.max(0))
            .await
            .map_err(store)?
            .try_collect()
            .await
            .map_err(store)?;
        let rows = docs
            .into_iter()
            .map(row_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
    }

    async fn delete(&self, file_id: i64) -> Result<(), SnapshotError> {
        self.headers
            .delete_one(doc! {"file_id": file_id})
            .await
            .map_err(store)?;
        self.rows
            .delete_many(doc! {"file_id": file_id})
            .await
            .map_err(store)?;
        Ok(())
    }

    async fn summary(&self, organisation_id: i64) -> Result<Summary, SnapshotError> {
        let headers = self.headers_of(organisation_id).await?;
        let generations: Vec<&str> = headers.iter().map(|h| h.generation.as_str()).collect();
        let mut total_gross = Amount::ZERO;
        for header in &headers {
            total_gross += decimal(&header.base_revenue)?;
        }
        // An aggregation, not `distinct`: that answers every key in one
        // reply, which an organisation with many tracks would push past
        // the 16 MB document limit.
        let distinct = |dimension: Dimension| {
            let pipeline = vec![
                doc! {"$match": {
                    "organisation_id": organisation_id,
                    "dimension": dimension.as_str(),
                    "generation": {"$in": generations.clone()},
                }},
                doc! {"$group": {"_id": "$key"}},
                doc! {"$count": "n"},
            ];
            let rows = self.rows.clone();
            async move {
                let counted: Vec<Document> = rows
                    .aggregate(pipeline)
                    .await
                    .map_err(store)?
                    .try_collect()
                    .await
                    .map_err(store)?;
                // `$count` answers an int, or a long past 2^31.
                let n = counted.first().map_or(Ok(0), |d| {
                    d.get_i32("n").map(i64::from).or_else(|_| d.get_i64("n"))
                });
                n.map_err(|e| SnapshotError::Store(e.to_string()))
            }
        };
        let artists = distinct(Dimension::Artist).await?;
        let releases = distinct(Dimension::Release).await?;
        let tracks = distinct(Dimension::Track).await?;
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
        let totals = self
            .headers_of(organisation_id)
            .await?
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
        let headers = self.headers_of(organisation_id).await?;
        let generations: Vec<&str> = headers.iter().map(|h| h.generation.as_str()).collect();
        let docs: Vec<RowDoc> = self
            .rows
            .find(doc! {"organisation_id": organisation_id, "dimension": dimension.as_str(), "generation": {"$in": generations}})
            .await
            .map_err(store)?
            .try_collect()
            .await
            .map_err(store)?;
        let rows = docs
            .into_iter()
            .map(row_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(merge_top(rows, limit))
    }

    async fn totals_of(&self, files: &[i64]) -> Result<Vec<SnapshotTotals>, SnapshotError> {
        let headers: Vec<HeaderDoc> = self
            .headers
            .find(doc! {"file_id": {"$in": files.to_vec()}})
            .await
            .map_err(store)?
            .try_collect()
            .await
            .map_err(store)?;
        headers.into_iter().map(totals_of).collect()
    }

    async fn top_of(
        &self,
        files: &[i64],
        dimension: Dimension,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, SnapshotError> {
        let headers: Vec<HeaderDoc> = self
            .headers
            .find(doc! {"file_id": {"$in": files.to_vec()}})
            .await
            .map_err(store)?
            .try_collect()
            .await
            .map_err(store)?;
        let generations: Vec<&str> = headers.iter().map(|h| h.generation.as_str()).collect();
        let leading = i64::try_from(LEADING).unwrap_or(i64::MAX);
        let docs: Vec<RowDoc> = self
            .rows
            .find(doc! {
                "file_id": {"$in": files.to_vec()},
                "generation": {"$in": generations},
                "dimension": dimension.as_str(),
                "position": {"$lt": leading},
            })
            .await
            .map_err(store)?
            .try_collect()
            .await
            .map_err(store)?;
        let rows = docs
            .into_iter()
            .map(row_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(merge_top(rows, limit))
    }

    async fn save_report(&self, snapshot: &ReportSnapshot) -> Result<(), SnapshotError> {
        let document = ReportDoc {
            report_id: snapshot.report_id,
            organisation_id: snapshot.organisation_id,
            body: serde_json::to_string(snapshot).map_err(|e| store_text(&e))?,
        };
        self.reports
            .replace_one(doc! {"report_id": snapshot.report_id}, document)
            .upsert(true)
            .await
            .map_err(store)?;
        Ok(())
    }

    async fn report(&self, report_id: i64) -> Result<Option<ReportSnapshot>, SnapshotError> {
        let found = self
            .reports
            .find_one(doc! {"report_id": report_id})
            .await
            .map_err(store)?;
        found
            .map(|d| {
                serde_json::from_str(&d.body).map_err(|e| SnapshotError::Corrupt(e.to_string()))
            })
            .transpose()
    }

    async fn delete_report(&self, report_id: i64) -> Result<(), SnapshotError> {
        self.reports
            .delete_one(doc! {"report_id": report_id})
            .await
            .map_err(store)?;
        Ok(())
    }
}
