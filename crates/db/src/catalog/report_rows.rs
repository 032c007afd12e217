//! What a report reads of a file's matches: each usage item's current
//! match, and the catalog fields of the tracks matched.

use diesel::prelude::*;

use crate::schema::{catalog_releases, catalog_tracks, usage_items};
use crate::{DbConnection, DbError};

/// Ids per `IN` list.
const CHUNK: usize = 500;

/// A usage item's match, by the raw fields its lines share.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ItemMatch {
    pub artist: String,
    pub track_title: String,
    pub release_title: String,
    pub isrc: String,
    pub upc: String,
    /// `matched`, `review` or `unmatched`.
    pub status: String,
    pub match_type: Option<String>,
    pub track_id: Option<i64>,
    pub reason: String,
}

/// A catalog track as a report shows it, with its release.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CatalogEntry {
    pub track_id: i64,
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
    pub track_label: Option<String>,
    pub release_id: Option<i64>,
    pub upc: Option<String>,
    pub release_title: Option<String>,
    pub release_label: Option<String>,
}

impl CatalogEntry {
    /// The track's label, else its release's.
    pub fn label(&self) -> Option<&str> {
        self.track_label
            .as_deref()
            .or(self.release_label.as_deref())
    }
}

/// The usage items of file `file_id` of the organisation, with their match.
pub fn item_matches(
    conn: &mut DbConnection,
    organisation_id: i64,
    file_id: i64,
) -> Result<Vec<ItemMatch>, DbError> {
    Ok(usage_items::table
        .filter(usage_items::organisation_id.eq(organisation_id))
        .filter(usage_items::file_id.eq(file_id))
        .select((
            usage_items::artist,
            usage_items::track_title,
            usage_items::release_title,
            usage_items::isrc,
            usage_items::upc,
            usage_items::status,
            usage_items::match_type,
            usage_items::track_id,
            usage_items::reason,
        ))
        .load(conn)?)
}

/// The organisation's tracks among `ids`, with their releases (a track
/// deleted since is simply not found).
pub fn catalog_entries(
    conn: &mut DbConnection,
    organisation_id: i64,
    ids: &[i64],
) -> Result<Vec<CatalogEntry>, DbError> {
    let mut entries = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<CatalogEntry> = catalog_tracks::table
            .left_join(catalog_releases::table)
            .filter(catalog_tracks::organisation_id.eq(organisation_id))
            .filter(catalog_tracks::id.eq_any(chunk))
            .select((
                catalog_tracks::id,
                catalog_tracks::isrc,
                catalog_tracks::title,
                catalog_tracks::version,
                catalog_tracks::artist,
                catalog_tracks::label,
                catalog_releases::id.nullable(),
                catalog_releases::upc.nullable(),
                catalog_releases::title.nullable(),
                catalog_releases::label.nullable(),
            ))
            .load(conn)?;
        entries.extend(rows);
    }
    Ok(entries)
}

/// The revenue (exact decimal text, in the base currency) of each usage
/// item of `files` not matched to the catalog.
pub fn waiting_revenue(
    conn: &mut DbConnection,
    organisation_id: i64,
    files: &[i64],
) -> Result<Vec<String>, DbError> {
    let mut revenue = Vec::new();
    for chunk in files.chunks(CHUNK) {
        revenue.extend(
            usage_items::table
                .filter(usage_items::organisation_id.eq(organisation_id))
                .filter(usage_items::file_id.eq_any(chunk))
                .filter(usage_items::status.ne("matched"))
                .select(usage_items::revenue)
                .load::<String>(conn)?,
        );
    }
    Ok(revenue)
}

/// Those of `files` that have usage items (were matched), in id order.
pub fn files_with_items(
    conn: &mut DbConnection,
    organisation_id: i64,
    files: &[i64],
) -> Result<Vec<i64>, DbError> {
    let mut found = Vec::new();
    for chunk in files.chunks(CHUNK) {
        found.extend(
            usage_items::table
                .filter(usage_items::organisation_id.eq(organisation_id))
                .filter(usage_items::file_id.eq_any(chunk))
                .select(usage_items::file_id)
                .distinct()
                .load::<i64>(conn)?,
        );
    }
    found.sort_unstable();
    found.dedup();
    Ok(found)
}
