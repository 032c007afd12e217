//! Snapshots: the per-file summaries the importer writes and the API reads.
//! A snapshot holds the file's totals and, for each dimension (artist,
//! DSP, territory, track, release), one row per group with its revenue (in
//! the file's currency and the organisation's base currency) and quantity,
//! ranked by base revenue.
//!
//! Two stores share [`SnapshotStore`]: the OAS database (the default) and
//! MongoDB. Both keep a header per file and one record per row, so a file
//! with hundreds of thousands of tracks never makes one huge record.

mod mongo;
mod sql;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
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
    pub revenue: Decimal,
    pub base_revenue: Decimal,
    pub quantity: i64,
}

/// The file's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotTotals {
    pub file_id: i64,
    pub organisation_id: i64,
    pub currency: String,
    pub base_currency: String,
    pub lines: i64,
    pub revenue: Decimal,
    pub base_revenue: Decimal,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub totals: SnapshotTotals,
    /// Each dimension's rows, in any order: stores rank them.
    pub rows: BTreeMap<Dimension, Vec<SnapshotRow>>,
}

/// An organisation's figures across all its snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub files: i64,
    pub artists: i64,
    pub releases: i64,
    pub tracks: i64,
    /// In the organisation's base currency.
    pub total_gross: Decimal,
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
}

/// Rows ranked for storage: highest base revenue first, ties by key, so
/// the order is the same on every store.
pub fn ranked(rows: &[SnapshotRow]) -> Vec<&SnapshotRow> {
    let mut ranked: Vec<&SnapshotRow> = rows.iter().collect();
    ranked.sort_by(|a, b| {
        b.base_revenue
            .cmp(&a.base_revenue)
            .then_with(|| a.key.cmp(&b.key))
    });
    ranked
}

pub(crate) fn decimal(text: &str) -> Result<Decimal, SnapshotError> {
    text.parse()
        .map_err(|_| SnapshotError::Corrupt(text.to_owned()))
}

/// The configured store.
pub enum AnySnapshots {
    Sql(SqlSnapshots),
    Mongo(MongoSnapshots),
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
}
