//! Snapshots: the per-file summaries the importer writes and the API reads.
//! A snapshot holds the file's totals and, for each dimension (artist,
//! DSP, territory, track, release), one row per group with its revenue (in
//! the file's currency and the organisation's base currency) and quantity,
//! ranked by base revenue.
//!
//! Two stores share [`SnapshotStore`]: the OAS database (the default) and
//! MongoDB. Both keep a header per file apart from its rows, so a file with
//! hundreds of thousands of tracks never makes one huge record: the
//! database keeps the rows in ranked pages of 500, MongoDB a document per
//! row.

mod mongo;
mod sql;

use std::collections::BTreeMap;

use oas_domain::money::Amount;
use serde::{Deserialize, Serialize};

pub use mongo::MongoSnapshots;
pub use sql::SqlSnapshots;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    Artist,
    Dsp,
    Territory,
    Track,
    Release,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Artist,
        Dimension::Dsp,
        Dimension::Territory,
        Dimension::Track,
        Dimension::Release,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Artist => "artist",
            Dimension::Dsp => "dsp",
            Dimension::Territory => "territory",
            Dimension::Track => "track",
            Dimension::Release => "release",
        }
    }
}

/// One group's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRow {
    /// What identifies the group (an ISRC, a UPC, a normalised name…).
    pub key: String,
    pub name: String,
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub revenue: Amount,
    pub base_revenue: Amount,
    pub quantity: i64,
}

/// The file's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotTotals {
    pub file_id: i64,
    pub organisation_id: i64,
    pub currency: String,
    pub base_currency: String,
    /// The file's reporting period (`YYYY-MM`), when known.
    pub period: Option<String>,
    pub lines: i64,
    pub revenue: Amount,
    pub base_revenue: Amount,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub totals: SnapshotTotals,
    /// Each dimension's rows, in any order: stores rank them.
    pub rows: BTreeMap<Dimension, Vec<SnapshotRow>>,
}

impl Snapshot {
    /// What the file's lines add up to, as a fingerprint: the currency, the
    /// number of lines, the quantity and the exact revenue in the file's
    /// currency, of the file and of every group of every dimension (in the
    /// order of their keys). It depends on the lines read, not on how the
    /// upload was encoded, compressed or laid out, nor on the exchange
    /// rates or period the import was given: two uploads with the same
    /// fingerprint are the same report. `blake3:` and hex.
    pub fn fingerprint(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        let mut field = |text: &str| {
            hasher.update(text.as_bytes());
            // A unit separator: never inside a field of text read from a report.
            hasher.update(&[0x1f]);
        };
        let totals = &self.totals;
        field(&totals.currency);
        field(&totals.lines.to_string());
        field(&totals.quantity.to_string());
        field(&totals.revenue.to_string());
        for (dimension, rows) in &self.rows {
            field(dimension.as_str());
            let mut ordered: Vec<&SnapshotRow> = rows.iter().collect();
            ordered.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            for row in ordered {
                field(&row.key);
                field(&row.quantity.to_string());
                field(&row.revenue.to_string());
            }
        }
        format!("blake3:{}", hasher.finalize().to_hex())
    }
}

/// An organisation's figures across all its snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub files: i64,
    pub artists: i64,
    pub releases: i64,
    pub tracks: i64,
    /// In the organisation's base currency.
    pub total_gross: Amount,
}

/// How many groups of each dimension a report's snapshot keeps.
pub const REPORT_TOP: usize = 100;

/// A report's totals: what its lines add up to, and its groups of each
/// dimension (the [`REPORT_TOP`] highest, with how many there are). Its
/// amounts are in the base currency (`revenue` and `base_revenue` alike):
/// a report may hold lines of several currencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSnapshot {
    pub report_id: i64,
    pub organisation_id: i64,
    pub currency: Option<String>,
    pub lines: i64,
    pub revenue: Amount,
    pub quantity: i64,
    pub groups: BTreeMap<Dimension, ReportGroups>,
}

/// One dimension of a report's snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportGroups {
    /// Groups in all.
    pub count: i64,
    /// The highest, by revenue.
    pub top: Vec<SnapshotRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the snapshot store failed: {0}")]
    Store(String),
    #[error("a stored amount is not a decimal: {0}")]
    Corrupt(String),
}

#[allow(async_fn_in_trait)]
pub trait SnapshotStore {
    /// Stores the snapshot, replacing any earlier one of the same file.
    async fn save(&self, snapshot: &Snapshot) -> Result<(), SnapshotError>;
    async fn totals(&self, file_id: i64) -> Result<Option<SnapshotTotals>, SnapshotError>;
    /// A page of a dimension's rows, highest base revenue first, and how many there are.
    async fn rows(
        &self,
        file_id: i64,
        dimension: Dimension,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<SnapshotRow>, i64), SnapshotError>;
    async fn delete(&self, file_id: i64) -> Result<(), SnapshotError>;
    async fn summary(&self, organisation_id: i64) -> Result<Summary, SnapshotError>;
    /// Base-currency revenue by reporting period across the organisation's
    /// files, oldest first (files without a period are left out).
    async fn revenue_by_period(
        &self,
        organisation_id: i64,
    ) -> Result<Vec<PeriodRevenue>, SnapshotError>;
    /// A dimension's groups merged across the organisation's files (summed
    /// by key), highest base revenue first.
    async fn top(
        &self,
        organisation_id: i64,
        dimension: Dimension,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, SnapshotError>;
    /// The headers of `files` (those with a snapshot).
    async fn totals_of(&self, files: &[i64]) -> Result<Vec<SnapshotTotals>, SnapshotError>;
    /// A dimension's groups merged across `files` (summed by key), highest
    /// base revenue first, from each file's [`LEADING`] highest groups:
    /// what is read stays bounded however many groups a file has.
    async fn top_of(
        &self,
        files: &[i64],
        dimension: Dimension,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, SnapshotError>;
    /// Stores a report's snapshot, replacing any earlier one.
    async fn save_report(&self, snapshot: &ReportSnapshot) -> Result<(), SnapshotError>;
    async fn report(&self, report_id: i64) -> Result<Option<ReportSnapshot>, SnapshotError>;
    async fn delete_report(&self, report_id: i64) -> Result<(), SnapshotError>;
}

/// How many of each file's highest groups [`SnapshotStore::top_of`] reads.
pub const LEADING: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodRevenue {
    pub period: String,
    pub base_revenue: Amount,
    pub quantity: i64,
}

/// Sums rows by key, exactly, and keeps the `limit` highest.
pub fn merge_top(rows: impl IntoIterator<Item = SnapshotRow>, limit: usize) -> Vec<SnapshotRow> {
    let mut merged: std::collections::HashMap<String, SnapshotRow> =
        std::collections::HashMap::new();
    for row in rows {
        match merged.get_mut(&row.key) {
            Some(total) => {
                total.revenue += row.revenue;
                total.base_revenue += row.base_revenue;
                total.quantity += row.quantity;
                total.isrc = total.isrc.take().or(row.isrc);
                total.upc = total.upc.take().or(row.upc);
            }
            None => {
                merged.insert(row.key.clone(), row);
            }
        }
    }
    let all: Vec<SnapshotRow> = merged.into_values().collect();
    ranked(&all).into_iter().take(limit).cloned().collect()
}

/// Sums headers' revenue by period, oldest first.
pub fn by_period<'a>(totals: impl IntoIterator<Item = &'a SnapshotTotals>) -> Vec<PeriodRevenue> {
    let mut periods: BTreeMap<String, PeriodRevenue> = BTreeMap::new();
    for t in totals {
        let Some(period) = &t.period else { continue };
        let entry = periods
            .entry(period.clone())
            .or_insert_with(|| PeriodRevenue {
                period: period.clone(),
                base_revenue: Amount::ZERO,
                quantity: 0,
            });
        entry.base_revenue += t.base_revenue;
        entry.quantity += t.quantity;
    }
    periods.into_values().collect()
}

/// Rows ranked for storage: highest base revenue first, ties by key, so
/// the order is the same on every store.
pub fn ranked(rows: &[SnapshotRow]) -> Vec<&SnapshotRow> {
    let mut ranked: Vec<&SnapshotRow> = rows.iter().collect();
    // Keys are distinct: an unstable sort gives the one order there is.
    ranked.sort_unstable_by(|a, b| {
        b.base_revenue
            .cmp(&a.base_revenue)
            .then_with(|| a.key.cmp(&b.key))
    });
    ranked
}

pub(crate) fn decimal(text: &str) -> Result<Amount, SnapshotError> {
    Amount::parse_total(text).map_err(|_| SnapshotError::Corrupt(text.to_owned()))
}

/// The configured store.
pub enum AnySnapshots {
    Sql(SqlSnapshots),
    Mongo(MongoSnapshots),
}

impl AnySnapshots {
    /// The store `OAS_SNAPSHOTS_URL` names: MongoDB (its indexes are
    /// created here), or the OAS database through `db`, which is opened
    /// (a small pool) when not given, as in a module run.
    pub async fn open(
        settings: &crate::config::Settings,
        db: Option<oas_db::Database>,
    ) -> Result<Self, SnapshotError> {
        use secrecy::ExposeSecret;
        Ok(match (&settings.snapshots_url, db) {
            (Some(uri), _) => Self::Mongo(MongoSnapshots::connect(uri.expose_secret()).await?),
            (None, Some(db)) => Self::Sql(SqlSnapshots::new(db)),
            (None, None) => {
                let pool = oas_db::PoolSettings {
                    max_size: 2,
                    ..Default::default()
                };
                let db = oas_db::Database::new(&settings.database_url, pool)
                    .map_err(|e| SnapshotError::Store(e.to_string()))?;
                Self::Sql(SqlSnapshots::new(db))
            }
        })
    }
}

impl SnapshotStore for AnySnapshots {
    async fn save(&self, snapshot: &Snapshot) -> Result<(), SnapshotError> {
        match self {
            Self::Sql(s) => s.save(snapshot).await,
            Self::Mongo(s) => s.save(snapshot).await,
        }
    }
    async fn totals(&self, file_id: i64) -> Result<Option<SnapshotTotals>, SnapshotError> {
        match self {
            Self::Sql(s) => s.totals(file_id).await,
            Self::Mongo(s) => s.totals(file_id).await,
        }
    }
    async fn rows(
        &self,
        file_id: i64,
        dimension: Dimension,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<SnapshotRow>, i64), SnapshotError> {
        match self {
            Self::Sql(s) => s.rows(file_id, dimension, offset, limit).await,
            Self::Mongo(s) => s.rows(file_id, dimension, offset, limit).await,
        }
    }
    async fn delete(&self, file_id: i64) -> Result<(), SnapshotError> {
        match self {
            Self::Sql(s) => s.delete(file_id).await,
            Self::Mongo(s) => s.delete(file_id).await,
        }
    }
    async fn summary(&self, organisation_id: i64) -> Result<Summary, SnapshotError> {
        match self {
            Self::Sql(s) => s.summary(organisation_id).await,
            Self::Mongo(s) => s.summary(organisation_id).await,
        }
    }
    async fn revenue_by_period(
        &self,
        organisation_id: i64,
    ) -> Result<Vec<PeriodRevenue>, SnapshotError> {
        match self {
            Self::Sql(s) => s.revenue_by_period(organisation_id).await,
            Self::Mongo(s) => s.revenue_by_period(organisation_id).await,
        }
    }
    async fn top(
        &self,
        organisation_id: i64,
        dimension: Dimension,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, SnapshotError> {
        match self {
            Self::Sql(s) => s.top(organisation_id, dimension, limit).await,
            Self::Mongo(s) => s.top(organisation_id, dimension, limit).await,
        }
    }
    async fn totals_of(&self, files: &[i64]) -> Result<Vec<SnapshotTotals>, SnapshotError> {
        match self {
            Self::Sql(s) => s.totals_of(files).await,
            Self::Mongo(s) => s.totals_of(files).await,
        }
    }
    async fn top_of(
        &self,
        files: &[i64],
        dimension: Dimension,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, SnapshotError> {
        match self {
            Self::Sql(s) => s.top_of(files, dimension, limit).await,
            Self::Mongo(s) => s.top_of(files, dimension, limit).await,
        }
    }
    async fn save_report(&self, snapshot: &ReportSnapshot) -> Result<(), SnapshotError> {
        match self {
            Self::Sql(s) => s.save_report(snapshot).await,
            Self::Mongo(s) => s.save_report(snapshot).await,
        }
    }
    async fn report(&self, report_id: i64) -> Result<Option<ReportSnapshot>, SnapshotError> {
        match self {
            Self::Sql(s) => s.report(report_id).await,
            Self::Mongo(s) => s.report(report_id).await,
        }
    }
    async fn delete_report(&self, report_id: i64) -> Result<(), SnapshotError> {
        match self {
            Self::Sql(s) => s.delete_report(report_id).await,
            Self::Mongo(s) => s.delete_report(report_id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, revenue: &str, base: &str) -> SnapshotRow {
        SnapshotRow {
            key: key.to_owned(),
            name: key.to_owned(),
            isrc: None,
            upc: None,
            revenue: revenue.parse().unwrap(),
            base_revenue: base.parse().unwrap(),
            quantity: 3,
        }
    }

    fn snapshot(file_id: i64, rows: Vec<SnapshotRow>, base: &str) -> Snapshot {
        Snapshot {
            totals: SnapshotTotals {
                file_id,
                organisation_id: 1,
                currency: "GBP".to_owned(),
                base_currency: "USD".to_owned(),
                period: Some(format!("2024-0{file_id}")),
                lines: 2,
                revenue: "1.5".parse().unwrap(),
                base_revenue: base.parse().unwrap(),
                quantity: 6,
            },
            rows: BTreeMap::from([(Dimension::Track, rows)]),
        }
    }

    #[test]
    fn a_fingerprint_is_of_the_lines_read_not_of_rates_order_or_period() {
        let one = snapshot(
            1,
            vec![row("A", "1", "1.25"), row("B", "0.5", "0.625")],
            "1.875",
        );
        let again = snapshot(
            2,
            vec![row("B", "0.50", "0.6"), row("A", "1.0", "1.2")],
            "1.8",
        );
        assert_eq!(one.fingerprint(), again.fingerprint());
        let a_cent_more = snapshot(
            1,
            vec![row("A", "1.01", "1.25"), row("B", "0.5", "0.625")],
            "1.875",
        );
        assert_ne!(one.fingerprint(), a_cent_more.fingerprint());
        let moved = snapshot(
            1,
            vec![row("A", "0.5", "1.25"), row("B", "1", "0.625")],
            "1.875",
        );
        assert_ne!(one.fingerprint(), moved.fingerprint());
        assert!(one.fingerprint().starts_with("blake3:"));
    }
}
